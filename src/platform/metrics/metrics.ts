// Prometheus metrics (prom-client), one registry per app. RED per route from
// one histogram labelled by method, route template and status code; the
// pool and the job queue are read when scraped. No tenant id is ever a label
// (one series per tenant would explode cardinality): tenants are in logs.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import client from 'prom-client';
import { queueStats } from '../jobs/failures.ts';
import { onAcquired } from '../db/tenant-affinity.ts';

export interface Metrics {
  registry: client.Registry;
  /** Adds a gauge read at scrape time (used by services registered later, e.g. WebSocket connections). */
  gauge(name: string, help: string, read: () => number | Promise<number>): void;
  counter(name: string, help: string, labelNames?: readonly string[]): client.Counter<string>;
}

export function createMetrics(app: FastifyInstance, deps: { pool: pg.Pool; db: Kysely<any> }): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'plinth_' });

  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // One child per series, kept: prom-client would otherwise hash the label object on every observation.
  const series = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched URLs share one label value: a scanner must not create series.
    const route = request.is404 ? '__unmatched__' : (request.routeOptions.url ?? '__unmatched__');
    if (route !== '/metrics') {
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let child = series.get(key);
      if (!child) series.set(key, (child = duration.labels(request.method, route, String(reply.statusCode))));
      child.observe(reply.elapsedTime / 1000);
    }
    done();
  });

  const gauge = (name: string, help: string, read: () => number | Promise<number>) => {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await read());
      },
    });
  };
  gauge('plinth_db_pool_connections', 'Connections open in the API pool', () => deps.pool.totalCount);
  gauge('plinth_db_pool_idle', 'Idle connections in the API pool', () => deps.pool.idleCount);
  gauge('plinth_db_pool_waiting', 'Queries waiting for a pool connection', () => deps.pool.waitingCount);
  // Where the tail of a request's latency can hide: queued behind its group's connections, or borrowed from another group (db/tenant-affinity.ts).
  const acquire = new client.Histogram({
    name: 'plinth_db_pool_acquire_seconds',
    help: "Wait for a pooled connection, per scoped query: on the connections of the query's own affine group, or borrowed from another",
    labelNames: ['group'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const own = acquire.labels('own');
  const other = acquire.labels('other');
  onAcquired(deps.pool, (waitMs, borrowed) => (borrowed ? other : own).observe(waitMs / 1000));

  // One query per scrape for the three queue gauges.
  let stats: Promise<{ waiting: number; running: number; failed: number }> | undefined;
  const queue = (k: 'waiting' | 'running' | 'failed') => async () => {
    stats ??= queueStats(deps.db).finally(() => setTimeout(() => (stats = undefined), 1000));
    return (await stats)[k];
  };
  gauge('plinth_jobs_waiting', 'Jobs waiting to run (due or scheduled)', queue('waiting'));
  gauge('plinth_jobs_running', 'Jobs being run by a worker', queue('running'));
  gauge('plinth_jobs_failed', 'Jobs in the permanent-failure list', queue('failed'));

  return {
    registry,
    gauge,
    counter: (name, help, labelNames = []) => new client.Counter({ name, help, labelNames, registers: [registry] }),
  };
}

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string | undefined) {
  app.get('/metrics', { config: { public: true, rateLimitPolicy: 'none' }, schema: { tags: ['health'], summary: 'Prometheus metrics', hide: true } }, async (request, reply) => {
    // Optional bearer token: scrapers send it; the route stays off the tenant guard.
    if (token && request.headers.authorization !== `Bearer ${token}`) return reply.code(401).header('www-authenticate', 'Bearer').send('unauthorized\n');
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
