// Jobs per second on graphile-worker through Plinth's queue: enqueue (one
// job per transaction, as a business write does; and many in one
// transaction) and processing (no-op tenant tasks, the tenant context
// resolved per job as in production). Runs on a fresh database of
// DATABASE_URL's server (default: the local PostgreSQL), then drops it.
//   node bench/services/jobs.ts [--jobs 20000] [--concurrency 8]
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Type } from 'typebox';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { platformFor } from '../../src/app.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { migratePlatform } from '../../src/platform/db/platform-migrations.ts';
import { createTokenService } from '../../src/platform/auth/tokens.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { installJobSchema } from '../../src/platform/jobs/schema.ts';
import { startWorker } from '../../src/platform/jobs/worker.ts';
import { defineTenantTask } from '../../src/platform/jobs/tasks.ts';
import { modules } from '../../src/modules/index.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '8' } } });
const N = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const server = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `plinth_bench_jobs_${randomBytes(3).toString('hex')}`;
const withDb = (name: string) => Object.assign(new URL(server), { pathname: `/${name}` }).toString();

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${dbName}`);
let done = 0;
const noop = defineTenantTask({ name: 'bench.noop', payload: Type.Object({ i: Type.Integer() }), async run() { done++; } });
const benchModules = [...modules, { name: 'bench', tasks: [noop], routes: async () => {} }];

try {
  const config = loadConfig({ DATABASE_URL: withDb(dbName), LOG_LEVEL: 'silent', DB_POOL_MAX: String(CONCURRENCY + 2) });
  const { db, pool } = createDatabase({ url: config.DATABASE_URL!, poolMax: config.DB_POOL_MAX, statementTimeoutMs: 0 });
  await migratePlatform(db);
  await installJobSchema(pool);
  const base = platformFor(config, db, benchModules);
  const tenant = await provisionTenant(db, base.migrations, { slug: 'bench', displayName: 'Bench' });
  const platform = { config, db, tokens: await createTokenService(db, { issuer: 'bench', ttlSeconds: 900 }), ...base };

  // 1. Enqueue, one job per transaction, CONCURRENCY writers (like API requests).
  let next = 0;
  let t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const i = next++;
      await db.transaction().execute((trx) => platform.jobs.enqueue(trx, tenant.id, 'bench.noop', { i }));
    }
  }));
  const enqueueSingle = N / ((performance.now() - t0) / 1000);

  // 2. Process them: a worker with CONCURRENCY slots, until the queue is empty.
  t0 = performance.now();
  const worker = await startWorker(platform, pool, pino({ level: 'silent' }), { concurrency: CONCURRENCY, pollIntervalMs: 1000, cron: false });
  while (done < N) await new Promise((r) => setTimeout(r, 20));
  const processRate = N / ((performance.now() - t0) / 1000);

  // 3. Pickup latency: one job at a time on an idle worker, commit → handler start.
  const latencies: number[] = [];
  for (let k = 0; k < 50; k++) {
    const before = done;
    const start = performance.now();
    await db.transaction().execute((trx) => platform.jobs.enqueue(trx, tenant.id, 'bench.noop', { i: k }));
    while (done === before) await new Promise((r) => setImmediate(r));
    latencies.push(performance.now() - start);
  }
  await worker.stop();

  // 4. Enqueue many in one transaction (a bulk import).
  t0 = performance.now();
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < N; i++) await platform.jobs.enqueue(trx, tenant.id, 'bench.noop', { i });
  });
  const enqueueBatch = N / ((performance.now() - t0) / 1000);

  latencies.sort((x, y) => x - y);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  process.stdout.write(`${JSON.stringify({
    jobs: N,
    concurrency: CONCURRENCY,
    enqueuePerSecondOnePerTransaction: Math.round(enqueueSingle),
    enqueuePerSecondOneTransaction: Math.round(enqueueBatch),
    processPerSecond: Math.round(processRate),
    pickupMs: { p50: pct(0.5), p95: pct(0.95), max: latencies.at(-1)!.toFixed(1) },
  }, null, 2)}\n`);
  await db.destroy();
} finally {
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}
