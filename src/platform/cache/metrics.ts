// Cache lookups on /metrics: a counter per cache and result, and the hit
// ratio (hits at either level / lookups), read from the caches' own counters
// at scrape time. Cache names are a fixed set: no tenant in any label.
import client from 'prom-client';
import type { CacheStore } from './cache.ts';

export function registerCacheMetrics(registry: client.Registry, store: CacheStore) {
  new client.Counter({
    name: 'plinth_cache_lookups_total',
    help: 'Cache lookups by cache and result (l1_hit: in process, l2_hit: Redis, miss: loaded from the database)',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, s] of Object.entries(store.stats())) {
        this.inc({ cache, result: 'l1_hit' }, s.l1Hits);
        this.inc({ cache, result: 'l2_hit' }, s.l2Hits);
        this.inc({ cache, result: 'miss' }, s.misses);
      }
    },
  });
  new client.Gauge({
    name: 'plinth_cache_hit_ratio',
    help: 'Share of cache lookups answered without the database, since the process started',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      for (const [cache, s] of Object.entries(store.stats())) {
        const total = s.l1Hits + s.l2Hits + s.misses;
        this.set({ cache }, total === 0 ? 0 : (s.l1Hits + s.l2Hits) / total);
      }
    },
  });
  new client.Counter({
    name: 'plinth_cache_redis_errors_total',
    help: 'Redis cache commands that failed (the database answered instead)',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, s] of Object.entries(store.stats())) this.inc({ cache }, s.redisErrors);
    },
  });
}
