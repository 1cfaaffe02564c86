// Notification latency across two API instances: an admin creates a
// notification through instance 1 (HTTP), the member's socket.io client is
// connected to instance 2; latency = request sent → event received. Once with
// PostgreSQL fan-out, once with Redis (REDIS_URL, default the local one).
// Runs on a fresh database of DATABASE_URL's server, then drops it.
//   node bench/services/notifications.ts [--count 300]
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import { loadConfig } from '../../src/config.ts';
import { BENCH_RATE_LIMITS } from '../lib/fixtures.ts';
import { buildApp, platformFor } from '../../src/app.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { migratePlatform } from '../../src/platform/db/platform-migrations.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { ensureMember } from '../../src/modules/identity/service.ts';
import { modules } from '../../src/modules/index.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' } } });
const COUNT = Number(values.count);
const server = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `plinth_bench_notify_${randomBytes(3).toString('hex')}`;
const url = Object.assign(new URL(server), { pathname: `/${dbName}` }).toString();
const PASSWORD = 'bench password 1234';

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${dbName}`);

async function instance(extra: Record<string, string>) {
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', DEMO_SEED: 'false', JOBS_IN_API: 'false', ...BENCH_RATE_LIMITS, ...extra });
  const { db, pool } = createDatabase({ url, poolMax: 10, statementTimeoutMs: 0 });
  const app = await buildApp({ config, db, pool });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, db, address, close: async () => { await app.close(); await db.destroy(); } };
}
const login = async (address: string, slug: string, email: string) => {
  const res = await fetch(`${address}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant': slug }, body: JSON.stringify({ email, password: PASSWORD }) });
  return ((await res.json()) as { accessToken: string }).accessToken;
};
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const results: Record<string, unknown> = {};
try {
  const { db } = createDatabase({ url, poolMax: 2, statementTimeoutMs: 0 });
  await migratePlatform(db);
  const { migrations } = platformFor(loadConfig({ DATABASE_URL: url }), db, modules);
  const accounts: Record<string, string> = {};
  const tenant = await provisionTenant(db, migrations, { slug: 'bench-notify', displayName: 'Bench' }, async (trx, t) => {
    for (const role of ['admin', 'member'] as const) accounts[role] = (await ensureMember(trx, { tenantId: t.id, email: `${role}@bench.example`, displayName: role, password: PASSWORD, role })).id;
  });
  await db.destroy();

  for (const mode of ['postgres', 'redis'] as const) {
    const extra: Record<string, string> = mode === 'redis' ? { REDIS_URL: redisUrl } : {};
    const one = await instance(extra);
    const two = await instance(extra);
    const adminToken = await login(one.address, tenant.slug, 'admin@bench.example');
    const memberToken = await login(two.address, tenant.slug, 'member@bench.example');
    const socket: Socket = connect(two.address, { transports: ['websocket'], auth: { token: memberToken }, reconnection: false });
    await new Promise((resolve, reject) => { socket.on('connect', () => resolve(undefined)); socket.on('connect_error', reject); });
    const latencies: number[] = [];
    for (let i = 0; i < COUNT + 20; i++) {
      const received = new Promise<void>((resolve) => socket.once('notification.created', () => resolve()));
      const start = performance.now();
      const res = await fetch(`${one.address}/v1/notifications`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}`, 'x-tenant': tenant.slug }, body: JSON.stringify({ accountId: accounts.member, kind: 'bench', title: `n${i}` }) });
      if (res.status !== 201) throw new Error(`POST failed: ${res.status} ${await res.text()}`);
      await received;
      if (i >= 20) latencies.push(performance.now() - start); // first 20: warm-up
    }
    socket.disconnect();
    await one.close();
    await two.close();
    latencies.sort((a, b) => a - b);
    results[mode] = { count: COUNT, p50Ms: +pct(latencies, 0.5).toFixed(1), p95Ms: +pct(latencies, 0.95).toFixed(1), p99Ms: +pct(latencies, 0.99).toFixed(1), maxMs: +latencies.at(-1)!.toFixed(1) };
  }
  process.stdout.write(`${JSON.stringify({ notificationLatencyAcrossInstances: results, note: 'HTTP POST on instance 1 (commit included) → socket.io event on instance 2' }, null, 2)}\n`);
} finally {
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}
