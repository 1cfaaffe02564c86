// A session LISTENing on one channel, kept up: pg-listen replaces a lost
// connection (or one that stops answering its check every 30 s), retrying
// after 0.5 s, doubling to 30 s, for ever. The first connection must succeed:
// startup fails otherwise. NOTIFYs sent while nobody listens are missed
// (PostgreSQL keeps nothing for absent listeners), so callers say what that
// costs them in `lostMessage` and resynchronise in `onReconnected`.
// Each connection's application_name carries a random suffix, so an
// operator (or a test) can tell the instances' listeners apart in
// pg_stat_activity; it is logged when the listener starts.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import pgListen from 'pg-listen';

// CommonJS with `exports.default` (its types declare only that).
const createSubscriber = pgListen.default;
const RECONNECT_MAX_MS = 30_000;

export interface ListenOptions {
  channel: string;
  /** Prefix of the connection's application_name, e.g. `plinth-realtime`. */
  name: string;
  /** Logged (at error level) when the connection is lost. */
  lostMessage: string;
  onPayload(payload: string): void;
  onReconnected?(): void;
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export async function keepListening(connection: pg.ClientConfig, opts: ListenOptions): Promise<{ close(): Promise<void> }> {
  const applicationName = `${opts.name}-${randomBytes(4).toString('hex')}`;
  const subscriber = createSubscriber({ ...connection, application_name: applicationName }, {
    // The caller parses (and logs a payload it cannot read).
    parse: (raw: string) => raw,
    retryInterval: (attempt: number) => Math.min(500 * 2 ** attempt, RECONNECT_MAX_MS),
    retryTimeout: 0,
  });
  subscriber.notifications.on(opts.channel, (payload?: string) => payload && opts.onPayload(payload));
  let reconnecting = false;
  subscriber.events.on('reconnect', (attempt) => {
    if (attempt === 1) opts.log.error({ applicationName }, opts.lostMessage);
    reconnecting = true;
  });
  subscriber.events.on('connected', () => {
    if (!reconnecting) return;
    reconnecting = false;
    opts.onReconnected?.();
    opts.log.info({ applicationName, channel: opts.channel }, 'listening again');
  });
  subscriber.events.on('error', (err) => opts.log.error({ err, applicationName }, 'LISTEN connection error'));
  try {
    await subscriber.connect();
    await subscriber.listenTo(opts.channel);
  } catch (err) {
    // Its reconnection loop is armed from the start: stop it, or a failed startup keeps retrying.
    await subscriber.close().catch(() => {});
    throw err;
  }
  opts.log.info({ applicationName, channel: opts.channel }, 'listening');
  return { close: () => subscriber.close().catch(() => {}) };
}
