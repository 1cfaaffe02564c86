// The receiving side of cache invalidations: each API instance listens for
// the changes other instances (or the CLI) announce and drops its own
// in-process entries. Redis pub/sub when REDIS_URL is set, else PostgreSQL
// LISTEN on a dedicated connection. While the connection is down messages can
// be missed, so every reconnect starts from an empty in-process cache.
import pg from 'pg';
import { Redis } from 'ioredis';
import { INVALIDATION_CHANNEL, type CacheStore, type Invalidation } from './cache.ts';

export interface InvalidationListener {
  close(): Promise<void>;
}

export async function listenForInvalidations(
  store: CacheStore,
  opts: { pool: pg.Pool; log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void } },
): Promise<InvalidationListener> {
  const onMessage = (payload: string | undefined) => {
    if (!payload) return;
    try {
      store.apply(JSON.parse(payload) as Invalidation);
    } catch (err) {
      opts.log.warn({ err }, 'cache: unreadable invalidation');
    }
  };

  if (store.redisUrl) {
    const sub = new Redis(store.redisUrl, { maxRetriesPerRequest: null });
    let connectedOnce = false;
    sub.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'cache: Redis subscription error'));
    sub.on('ready', () => {
      if (connectedOnce) store.clearLocal();
      connectedOnce = true;
    });
    sub.on('message', (_channel: string, message: string) => onMessage(message));
    await sub.subscribe(INVALIDATION_CHANNEL);
    return {
      async close() {
        sub.disconnect();
      },
    };
  }

  let closing = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client(opts.pool.options);
    client = c;
    const lost = (err?: Error) => {
      if (closing || client !== c) return;
      client = undefined;
      store.clearLocal();
      opts.log.error({ err: err?.message }, 'cache: LISTEN connection lost; reconnecting');
      c.end().catch(() => {});
      retry = setTimeout(() => connect().catch((e: Error) => lost(e)), 1000);
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (n) => {
      if (n.channel === INVALIDATION_CHANNEL) onMessage(n.payload);
    });
    await c.connect();
    await c.query(`listen ${INVALIDATION_CHANNEL}`);
    store.clearLocal();
  };
  await connect();
  return {
    async close() {
      closing = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
