// The receiving side of cache invalidations: each API instance listens for
// the changes other instances (or the CLI) announce and drops its own
// in-process entries. Redis pub/sub when REDIS_URL is set, else PostgreSQL
// LISTEN on a dedicated connection (db/listen.ts). While the connection is
// down messages can be missed, so every reconnect starts from an empty
// in-process cache.
import type pg from 'pg';
import { Redis } from 'ioredis';
import { keepListening } from '../db/listen.ts';
import { INVALIDATION_CHANNEL, type CacheStore, type Invalidation } from './cache.ts';

export interface InvalidationListener {
  close(): Promise<void>;
}

export async function listenForInvalidations(
  store: CacheStore,
  opts: { pool: pg.Pool; log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void } },
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

  return keepListening(opts.pool.options, {
    channel: INVALIDATION_CHANNEL,
    name: 'plinth-cache',
    lostMessage: 'cache: LISTEN connection lost; reconnecting',
    onPayload: onMessage,
    // Invalidations may have been missed meanwhile.
    onReconnected: () => store.clearLocal(),
    log: opts.log,
  });
}
