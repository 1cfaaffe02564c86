// The composition root: builds the Fastify app from a config, a database and
// the list of modules. `main.ts` (npm start), the tests and the benchmarks all
// build the app through here.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import type { Config } from './config.ts';
import type { Db } from './platform/db/database.ts';
import { createTokenService } from './platform/auth/tokens.ts';
import { cacheVerifiedTokens } from './platform/auth/verified-tokens.ts';
import { createTenantDirectory } from './platform/tenancy/directory.ts';
import { buildTenantMigrationSet } from './platform/tenancy/tenant-migrations.ts';
import { createPermissionRegistry } from './platform/permissions.ts';
import { createCacheStore } from './platform/cache/cache.ts';
import { listenForInvalidations } from './platform/cache/bus.ts';
import { registerCacheMetrics } from './platform/cache/metrics.ts';
import { registerAccessGuard } from './platform/http/access-guard.ts';
import { registerProblemHandlers } from './platform/http/problem.ts';
import { genRequestId, logRedactPaths, registerRequestLogging } from './platform/http/request-logging.ts';
import { registerDocs } from './platform/http/docs.ts';
import { buildSerializer } from './platform/http/serializer.ts';
import { registerHealth, type ReadinessChecks } from './platform/http/health.ts';
import { createMetrics, registerMetricsRoute } from './platform/metrics/metrics.ts';
import { registerDraining } from './platform/http/draining.ts';
import { rateLimitSettings, registerRateLimits } from './platform/http/rate-limits.ts';
import { openRedis } from './platform/redis/client.ts';
import { registerTraceAttributes, traceLogFields } from './platform/tracing/attributes.ts';
import { createJobQueue } from './platform/jobs/queue.ts';
import { createTaskRegistry } from './platform/jobs/tasks.ts';
import { installJobSchema } from './platform/jobs/schema.ts';
import { parseTaskFilter, startWorker, type JobWorker } from './platform/jobs/worker.ts';
import { createMail } from './platform/email/mail.ts';
import { createFileStorage } from './platform/files/index.ts';
import { createRealtimeHub } from './platform/realtime/hub.ts';
import { startRealtime } from './platform/realtime/server.ts';
import { createDomainEvents } from './platform/events/events.ts';
import { webhookSink } from './modules/webhooks/deliver.ts';
import { Problem } from './platform/http/schemas.ts';
import type { Platform, PlinthModule } from './platform/module.ts';
import { modules as defaultModules } from './modules/index.ts';
import { version } from './version.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  pool: pg.Pool;
  modules?: readonly PlinthModule[];
  /** Where JSON log lines go (stdout when unset). */
  logStream?: NodeJS.WritableStream;
}

export type App = FastifyInstance & { platform: Platform };

export function platformFor(config: Config, db: Db, modules: readonly PlinthModule[], warn?: (msg: string, data?: Record<string, unknown>) => void) {
  const permissions = createPermissionRegistry(modules.flatMap((m) => (m.permissions ?? []).map((p) => ({ ...p, module: m.name }))));
  const cache = createCacheStore({ ttlMs: config.TENANT_CACHE_TTL_MS, db, redisUrl: config.REDIS_URL, warn });
  const jobs = createJobQueue(createTaskRegistry(modules.flatMap((m) => m.tasks ?? [])), { maxAttempts: config.JOBS_MAX_ATTEMPTS });
  const events = createDomainEvents();
  events.subscribe(webhookSink(jobs));
  return {
    permissions,
    cache,
    migrations: buildTenantMigrationSet(modules),
    directory: createTenantDirectory(db, cache, permissions),
    jobs,
    mail: createMail(config, jobs),
    storage: createFileStorage(config),
    realtime: createRealtimeHub(),
    events,
  };
}

export async function buildApp({ config, db, pool, modules = defaultModules, logStream }: AppDeps): Promise<App> {
  const app = Fastify({
    // mixin: the trace id on log lines written inside a traced request (nothing without tracing).
    logger: { level: config.LOG_LEVEL, redact: { paths: logRedactPaths, censor: '[redacted]' }, mixin: traceLogFields, ...(logStream ? { stream: logStream } : {}) },
    genReqId: genRequestId,
    // One line per request is written by request-logging.ts, after the tenant is known.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    schemaController: { compilersFactory: { buildSerializer: buildSerializer() } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const tokens = cacheVerifiedTokens(await createTokenService(db, { issuer: config.JWT_ISSUER, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, rotateAfterDays: config.SIGNING_KEY_ROTATE_DAYS }), config.TENANT_CACHE_TTL_MS);
  const platform: Platform = { config, db, tokens, ...platformFor(config, db, modules, (msg, data) => app.log.warn(data ?? {}, msg)) };
  app.decorate('platform', platform);
  // Other instances' changes to roles, memberships and tenants drop this instance's cached copies.
  let invalidations: Awaited<ReturnType<typeof listenForInvalidations>> | undefined;
  if (config.TENANT_CACHE_TTL_MS > 0) {
    invalidations = await listenForInvalidations(platform.cache, { pool, log: app.log });
    await platform.cache.connect();
  }
  app.addHook('onClose', async () => {
    await invalidations?.close();
    await platform.cache.close();
  });

  app.addSchema(Problem);
  registerProblemHandlers(app);
  registerRequestLogging(app);
  // Request budgets (hooks before and after the guard); with Redis they are shared by every instance.
  const rateLimitRedis = config.REDIS_URL && config.RATE_LIMIT_ENABLED ? openRedis(config.REDIS_URL, app.log, { purpose: 'rate limits' }) : undefined;
  if (rateLimitRedis) app.addHook('onClose', async () => rateLimitRedis.close());
  const limited = { count: (_budget: string) => {} };
  registerRateLimits(app, rateLimitSettings(config), { redis: rateLimitRedis, onLimited: (budget) => limited.count(budget) });
  registerAccessGuard(app, { ...platform, tenantBaseDomain: config.TENANT_BASE_DOMAIN });
  registerTraceAttributes(app);
  // Security headers from helmet, built once: @fastify/helmet builds helmet's
  // middleware again on every request (~2% of the CPU of a simple read, bench/README.md).
  const securityHeaders = helmet();
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined)));
  // JSON routes only: without this, text/plain bodies reach validation as strings (400) instead of a 415.
  app.removeContentTypeParser('text/plain');
  // The CORS preflight route answers browsers before any credentials are sent.
  app.addHook('onRoute', (route) => {
    if (route.method === 'OPTIONS' && route.url === '*') route.config = { ...(route.config ?? {}), public: true };
  });
  const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length > 0) {
    await app.register(cors, { origin: origins.includes('*') ? '*' : origins, exposedHeaders: ['x-request-id'] });
  }
  if (config.DOCS_ENABLED) await registerDocs(app, { version });
  const readiness: ReadinessChecks = {};
  registerHealth(app, pool, registerDraining(app), readiness);
  const metrics = config.METRICS_ENABLED ? createMetrics(app, { pool, db }) : undefined;
  if (metrics) {
    registerMetricsRoute(app, metrics, config.METRICS_TOKEN);
    registerCacheMetrics(metrics.registry, platform.cache);
    const counter = metrics.counter('plinth_rate_limited_total', 'Requests refused with 429, by the budget that ran out', ['budget']);
    limited.count = (budget) => counter.inc({ budget });
  }
  // Redis is ready when every connection to it answers (a PING catches a Redis that hangs).
  const redisChecks: Array<() => boolean | Promise<boolean>> = rateLimitRedis ? [() => rateLimitRedis.ping()] : [];
  if (config.REALTIME_ENABLED) {
    const realtime = await startRealtime(app, platform, pool, { redisUrl: config.REDIS_URL, corsOrigins: origins });
    metrics?.gauge('plinth_websocket_connections', 'Open WebSocket connections on this instance', () => realtime.connections());
    if (config.REDIS_URL) redisChecks.push(() => realtime.redisReady());
    // Sockets close before the HTTP server waits for its connections to end.
    app.addHook('preClose', async () => realtime.close());
  }
  if (redisChecks.length > 0) readiness.redis = async () => (await Promise.all(redisChecks.map((up) => up()))).every(Boolean);
  await installJobSchema(pool);
  if (config.JOBS_IN_API) {
    // The worker starts with the app and drains after the last request (onClose runs once the server stopped).
    let worker: JobWorker | undefined;
    readiness.jobWorker = () => worker?.isRunning() ?? false;
    app.addHook('onReady', async () => {
      worker = await startWorker(platform, pool, app.log, { concurrency: config.JOBS_CONCURRENCY, pollIntervalMs: config.JOBS_POLL_INTERVAL_MS, cron: config.JOBS_CRON, only: parseTaskFilter(config.JOBS_TASKS) });
    });
    app.addHook('onClose', async () => worker?.stop());
  }
  for (const module of modules) await app.register(module.routes, { platform });
  return app as unknown as App;
}
