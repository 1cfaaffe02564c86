// Redis connections (ioredis) for the services that use REDIS_URL. Redis is
// optional and may go away at any time: a connection here never lets a command
// wait for a reconnect (it fails at once, so the caller falls back to its
// in-process path), keeps reconnecting in the background, and logs one
// warning when Redis goes down and one line when it is back, instead of an
// error per reconnect attempt.
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

export interface RedisConnection {
  client: Redis;
  /** True while the connection is usable (fallbacks: no round trip). */
  isUp(): boolean;
  /** Connected and answering a PING within the command timeout (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisOptions {
  /** Who uses this connection, for the log lines ("rate limits", "realtime"). */
  purpose: string;
  /**
   * Let commands wait for the connection instead of failing at once. Only for
   * a subscriber connection: the socket.io adapter subscribes when it is
   * created and never retries, so its SUBSCRIBE must wait for Redis. Default false.
   */
  waitForConnection?: boolean;
}

export function openRedis(url: string, log: Pick<FastifyBaseLogger, 'warn' | 'info'>, opts: RedisOptions): RedisConnection {
  const client = new Redis(url, {
    enableOfflineQueue: opts.waitForConnection ?? false,
    maxRetriesPerRequest: opts.waitForConnection ? null : 0,
    connectTimeout: 2000,
    // A Redis that accepts the connection but hangs must not hold requests.
    ...(opts.waitForConnection ? {} : { commandTimeout: 500 }),
    // Reconnect forever, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  let down = false;
  let closing = false;
  const wentDown = (reason: string) => {
    if (down || closing) return;
    down = true;
    log.warn({ redis: opts.purpose, reason }, `Redis is unreachable: ${opts.purpose} fall back to in-process until it is back`);
  };
  client.on('error', (err: Error) => wentDown(err.message));
  client.on('close', () => wentDown('connection closed'));
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis: opts.purpose }, `Redis is back: ${opts.purpose} use it again`);
  });
  return {
    client,
    isUp: () => client.status === 'ready',
    ping: async () => client.status === 'ready' && (await client.ping().then(() => true, () => false)),
    async close() {
      closing = true;
      client.disconnect();
    },
  };
}
