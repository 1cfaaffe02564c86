// A small two-level cache: an in-process LRU (L1, lru-cache) in front of
// Redis (L2, only when REDIS_URL is set), for values read on every request
// (tenants, members' permission sets). Keys live in namespaces (a tenant id,
// or `_` for platform-level values) so a tenant's entries can be dropped in
// one step. Invalidations reach every instance: through Redis pub/sub with
// Redis, else PostgreSQL NOTIFY (bus.ts listens). The few lines of glue are
// hand-written because no maintained library combines an LRU, Redis and
// PostgreSQL NOTIFY invalidation; each part is a library.
//
// A load that started before an invalidation is not stored (a per-cache
// generation counter), so a concurrent change cannot be overwritten by the
// value read just before it. Entries also expire after `ttlMs` as a backstop.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';

export const INVALIDATION_CHANNEL = 'plinth_cache';

export interface CacheStats {
  l1Hits: number;
  l2Hits: number;
  misses: number;
  /** Redis commands that failed (the value then came from the database). */
  redisErrors: number;
}

export interface CacheOptions<T> {
  /** Most entries kept in process. */
  max: number;
  /** The JSON form stored in Redis (default: the value itself). */
  encode?: (value: T) => unknown;
  decode?: (raw: unknown) => T;
}

export interface Cache<T> {
  /** The value of (namespace, key): from the process, else Redis, else `load()` (then stored in both). */
  get(ns: string, key: string, load: () => Promise<T>): Promise<T>;
  /** Loads (ns, key) again, bypassing both levels, and stores the result in both (no other instance is told). */
  reload(ns: string, key: string, load: () => Promise<T>): Promise<T>;
  /** Drops one key, or a whole namespace, here, in Redis and on every other instance. Call after the change committed. */
  invalidate(ns: string, key?: string): Promise<void>;
  readonly stats: CacheStats;
}

export interface Invalidation {
  cache: string;
  ns: string;
  key?: string;
  /** The instance that sent it (it applied the change itself already). */
  from: string;
}

export interface CacheStore {
  cache<T>(name: string, opts: CacheOptions<T>): Cache<T>;
  readonly instanceId: string;
  readonly redisUrl: string | undefined;
  /** Applies an invalidation received from another instance. */
  apply(message: Invalidation): void;
  /** Forgets every in-process entry (the bus was down: messages may have been missed). */
  clearLocal(): void;
  stats(): Record<string, CacheStats>;
  /** Opens the Redis connection now (an API instance at boot) rather than on first use; never throws. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface CacheStoreOptions {
  /** Lifetime of an entry; 0 turns caching off (every get loads). */
  ttlMs: number;
  /** Database used to send NOTIFY when there is no Redis. */
  db: Kysely<any>;
  redisUrl?: string | undefined;
  warn?: (msg: string, data?: Record<string, unknown>) => void;
}

interface Internal {
  l1: LRUCache<string, { v: unknown }>;
  generation: number;
  stats: CacheStats;
}

const SEP = '\u0000';
const hashKey = (cache: string, ns: string) => `plinth:cache:${cache}:${ns}`;

export function createCacheStore(opts: CacheStoreOptions): CacheStore {
  const instanceId = randomUUID();
  const enabled = opts.ttlMs > 0;
  const caches = new Map<string, Internal>();
  let redis: Redis | undefined;
  let lastWarn = 0;
  const warn = (msg: string, data?: Record<string, unknown>) => {
    // A Redis outage fails every lookup: one line per 30 s is enough.
    if (Date.now() - lastWarn < 30_000) return;
    lastWarn = Date.now();
    opts.warn?.(msg, data);
  };
  /** Connected on first use, so building a platform for a one-off script opens nothing. */
  const l2 = (): Redis | undefined => {
    if (!opts.redisUrl) return undefined;
    if (!redis) {
      // Fail fast while Redis is down (no offline queue): the database answers instead.
      redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1000 });
      redis.on('error', (err: Error) => warn('cache: Redis unavailable, reading through to the database', { err: err.message }));
    }
    return redis.status === 'ready' ? redis : undefined;
  };

  const dropLocal = (c: Internal, ns: string, key: string | undefined) => {
    c.generation++;
    if (key !== undefined) c.l1.delete(`${ns}${SEP}${key}`);
    else for (const k of c.l1.keys()) if (k.startsWith(`${ns}${SEP}`)) c.l1.delete(k);
  };

  /** The Redis client once connected (waits up to 2 s for a new connection, as in a CLI run). */
  const connected = async (): Promise<Redis> => {
    const r = l2() ?? redis!;
    if (r.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('Redis is not connected')), 2000);
        r.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return r;
  };

  const publish = async (message: Invalidation) => {
    const payload = JSON.stringify(message);
    if (opts.redisUrl) {
      const r = await connected();
      const h = hashKey(message.cache, message.ns);
      await (message.key !== undefined ? r.hdel(h, message.key) : r.del(h));
      await r.publish(INVALIDATION_CHANNEL, payload);
    } else {
      await sql`select pg_notify(${INVALIDATION_CHANNEL}, ${payload})`.execute(opts.db.withoutPlugins());
    }
  };

  return {
    instanceId,
    redisUrl: opts.redisUrl,
    cache<T>(name: string, co: CacheOptions<T>): Cache<T> {
      if (caches.has(name)) throw new Error(`Cache "${name}" exists already`);
      const c: Internal = { l1: new LRUCache({ max: co.max, ttl: Math.max(opts.ttlMs, 1) }), generation: 0, stats: { l1Hits: 0, l2Hits: 0, misses: 0, redisErrors: 0 } };
      caches.set(name, c);
      const encode = co.encode ?? ((v: T) => v);
      const decode = co.decode ?? ((raw: unknown) => raw as T);
      const loadAndStore = async (ns: string, key: string, load: () => Promise<T>, generation: number): Promise<T> => {
        const value = await load();
        if (c.generation !== generation) return value;
        c.l1.set(`${ns}${SEP}${key}`, { v: value });
        const r = l2();
        if (r) {
          const h = hashKey(name, ns);
          r.multi()
            .hset(h, key, JSON.stringify({ v: encode(value), exp: Date.now() + opts.ttlMs }))
            .pexpire(h, opts.ttlMs)
            .exec()
            .catch((err: Error) => {
              c.stats.redisErrors++;
              warn('cache: Redis write failed', { err: err.message });
            });
        }
        return value;
      };
      return {
        stats: c.stats,
        async get(ns, key, load) {
          if (!enabled) {
            c.stats.misses++;
            return load();
          }
          const k = `${ns}${SEP}${key}`;
          const hit = c.l1.get(k);
          if (hit) {
            c.stats.l1Hits++;
            return hit.v as T;
          }
          const generation = c.generation;
          const r = l2();
          if (r) {
            try {
              const raw = await r.hget(hashKey(name, ns), key);
              const entry = raw ? (JSON.parse(raw) as { v: unknown; exp: number }) : undefined;
              if (entry && entry.exp > Date.now()) {
                const value = decode(entry.v);
                if (c.generation === generation) c.l1.set(k, { v: value }, { ttl: entry.exp - Date.now() });
                c.stats.l2Hits++;
                return value;
              }
            } catch (err) {
              c.stats.redisErrors++;
              warn('cache: Redis read failed, reading through to the database', { err: (err as Error).message });
            }
          }
          c.stats.misses++;
          return loadAndStore(ns, key, load, generation);
        },
        async reload(ns, key, load) {
          if (!enabled) return load();
          c.stats.misses++;
          return loadAndStore(ns, key, load, c.generation);
        },
        async invalidate(ns, key) {
          dropLocal(c, ns, key);
          try {
            await publish({ cache: name, ns, ...(key !== undefined ? { key } : {}), from: instanceId });
          } catch (err) {
            // The change is committed; other instances catch up when their entries expire.
            c.stats.redisErrors += opts.redisUrl ? 1 : 0;
            opts.warn?.('cache: could not tell other instances about a change; they see it within the cache TTL', { err: (err as Error).message });
          }
        },
      };
    },
    apply(message) {
      if (message.from === instanceId) return;
      const c = caches.get(message.cache);
      if (c) dropLocal(c, message.ns, message.key);
    },
    clearLocal() {
      for (const c of caches.values()) {
        c.generation++;
        c.l1.clear();
      }
    },
    stats: () => Object.fromEntries([...caches].map(([name, c]) => [name, { ...c.stats }])),
    async connect() {
      if (!opts.redisUrl) return;
      await connected().catch(() => {});
    },
    async close() {
      redis?.disconnect();
      redis = undefined;
    },
  };
}
