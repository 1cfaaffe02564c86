// What the request budgets cost per request: GET /v1/me (guard, one small
// query) through app.inject with rate limits off, counted in-process, and
// counted in Redis, side by side in the same run (rounds alternate so load
// from other processes hits every variant alike). Fresh database of
// DATABASE_URL's server (default: the local PostgreSQL), dropped afterwards.
//   node bench/services/rate-limits.ts [--requests 2000] [--rounds 3]
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { buildApp, platformFor, type App } from '../../src/app.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { migratePlatform } from '../../src/platform/db/platform-migrations.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { ensureMember } from '../../src/modules/identity/service.ts';
import { modules } from '../../src/modules/index.ts';
import { BENCH_RATE_LIMITS } from '../lib/fixtures.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } } });
const N = Number(values.requests);
const ROUNDS = Number(values.rounds);
const server = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `plinth_bench_rl_${randomBytes(3).toString('hex')}`;
const url = Object.assign(new URL(server), { pathname: `/${dbName}` }).toString();

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${dbName}`);
const closers: Array<() => Promise<unknown>> = [];
try {
  const base = { DATABASE_URL: url, LOG_LEVEL: 'silent', DEMO_SEED: 'false', JOBS_IN_API: 'false', REALTIME_ENABLED: 'false', METRICS_ENABLED: 'false', TENANT_CACHE_TTL_MS: '60000', ...BENCH_RATE_LIMITS };
  const setup = createDatabase({ url, poolMax: 2, statementTimeoutMs: 0 });
  await migratePlatform(setup.db);
  const { migrations } = platformFor(loadConfig(base), setup.db, modules);
  const email = 'owner@rl-bench.example';
  await provisionTenant(setup.db, migrations, { slug: 'rl-bench', displayName: 'RL bench' }, async (trx, t) => {
    await ensureMember(trx, { tenantId: t.id, email, displayName: 'Owner', password: 'rl-bench-password-1', role: 'owner' });
  });
  await setup.db.destroy();

  const variants: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'rate limits off', env: { RATE_LIMIT_ENABLED: 'false' } },
    { name: 'in-process counting', env: {} },
    { name: 'Redis counting', env: { REDIS_URL } },
  ];
  const apps: Array<{ name: string; app: App; token: string }> = [];
  for (const v of variants) {
    const config = loadConfig({ ...base, ...v.env });
    const { db, pool } = createDatabase({ url, poolMax: 4, statementTimeoutMs: 0 });
    const app = await buildApp({ config, db, pool });
    await app.ready();
    closers.push(async () => {
      await app.close();
      await db.destroy();
    });
    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': 'rl-bench' }, payload: { email, password: 'rl-bench-password-1' } });
    apps.push({ name: v.name, app, token: (login.json() as { accessToken: string }).accessToken });
  }

  const perRequestUs = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const { name, app, token } of apps) {
      const headers = { authorization: `Bearer ${token}`, 'x-tenant': 'rl-bench' };
      const started = performance.now();
      for (let i = 0; i < N; i++) {
        const res = await app.inject({ method: 'GET', url: '/v1/me', headers });
        if (res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode} ${res.body}`);
      }
      // Round 0 warms up.
      if (round > 0) perRequestUs.set(name, [...(perRequestUs.get(name) ?? []), ((performance.now() - started) * 1000) / N]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const baseline = median(perRequestUs.get('rate limits off')!);
  console.log(`GET /v1/me through app.inject, ${N} requests × ${ROUNDS} rounds (median round)`);
  console.log('| variant | µs per request | vs off |');
  console.log('|---|---|---|');
  for (const [name, xs] of perRequestUs) console.log(`| ${name} | ${median(xs).toFixed(0)} | ${(median(xs) / baseline).toFixed(2)}× |`);
} finally {
  for (const close of closers) await close().catch(() => {});
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}
