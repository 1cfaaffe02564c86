// Platform overhead: Plinth's reference read and write against the bare
// Fastify + pg limit and the seeds' FastAPI stack, on one tenant with 10,000 contacts.
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { BenchContext, BenchResult, Row } from './types.ts';
import { measure, type Measurement } from '../lib/measure.ts';
import { BENCH_DIR, freePort, seedsStackAvailable, startNodeServer, startPolledServer, type RunningServer } from '../lib/servers.ts';
import { loadConfig } from '../../src/config.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, createBenchTenant, BENCH_RATE_LIMITS } from '../lib/fixtures.ts';

const CONTACTS = 10_000;
const WRITE_NAME = 'Bench-write';

export async function overhead(ctx: BenchContext): Promise<BenchResult> {
  const { tenant, ownerId } = await createBenchTenant(ctx.database.db, 'bench-overhead', CONTACTS);
  const env = { DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent', DB_POOL_MAX: String(ctx.poolMax), ACCESS_TOKEN_TTL_SECONDS: '3600', ...BENCH_RATE_LIMITS };
  const readPath = '/v1/contacts?limit=50';
  const writeBody = JSON.stringify({ firstName: WRITE_NAME, lastName: 'Load', jobTitle: 'Benchmark' });
  const json = { 'content-type': 'application/json' };

  // Keeps the tenant's table the same for every target: drop what the write run added.
  const resetWrites = async () => {
    await sql`delete from ${sql.id(tenant.schemaName, 'contacts')} where first_name = ${WRITE_NAME}`.execute(ctx.database.db);
    await sql`vacuum analyze ${sql.id(tenant.schemaName, 'contacts')}`.execute(ctx.database.db);
  };

  const targets: Array<{ name: string; start: () => Promise<RunningServer>; headers: (server: RunningServer) => Promise<Record<string, string>> }> = [
    {
      name: 'limit (bare Fastify + pg)',
      start: () => startNodeServer('limit (bare Fastify + pg)', join(BENCH_DIR, 'baselines', 'bare.ts'), { ...env, BENCH_SCHEMA: tenant.schemaName, BENCH_OWNER: ownerId }),
      headers: async () => ({}),
    },
    {
      name: 'plinth',
      start: () => startNodeServer('plinth', join(BENCH_DIR, 'servers', 'plinth.ts'), { ...env, ...ctx.plinthEnv }, ctx.plinthNodeArgs),
      headers: async (server) => ({ authorization: `Bearer ${await ctx.login(server.url, tenant.slug, BENCH_EMAIL, BENCH_PASSWORD)}`, 'x-tenant': tenant.slug }),
    },
  ];
  const seeds = seedsStackAvailable();
  const secret = randomBytes(32);
  if (seeds.ok) {
    const port = await freePort();
    targets.push({
      name: 'seeds (FastAPI + SQLAlchemy)',
      start: () =>
        startPolledServer(
          'seeds (FastAPI + SQLAlchemy)',
          '/usr/bin/python3',
          ['-m', 'uvicorn', 'seeds_stack:app', '--host', '127.0.0.1', '--port', String(port), '--no-access-log', '--log-level', 'warning', '--loop', 'uvloop', '--http', 'httptools'],
          { cwd: join(BENCH_DIR, 'baselines'), port, readyPath: '/health', env: { ...env, JWT_SECRET: secret.toString('hex'), JWT_ISSUER: 'plinth', TENANT_CACHE_TTL_MS: String(loadConfig({}).TENANT_CACHE_TTL_MS) } },
        ),
      headers: async () => ({
        authorization: `Bearer ${await new SignJWT({ tid: tenant.id }).setProtectedHeader({ alg: 'HS256' }).setSubject(ownerId).setIssuer('plinth').setAudience('plinth-api').setIssuedAt().setExpirationTime('1h').sign(new Uint8Array(Buffer.from(secret.toString('hex'))))}`,
        'x-tenant': tenant.slug,
      }),
    });
  } else {
    ctx.log(`seeds' stack skipped: ${seeds.why}`);
  }

  // Interleaved rounds, best round per target and operation: other work on a
  // shared machine only ever slows a run down, and it hits every target alike.
  const rounds = ctx.quick ? 1 : 3;
  const all: Record<'read' | 'write', Measurement[]> = { read: [], write: [] };
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length]!;
      ctx.log(`${target.name}: starting (round ${round + 1} of ${rounds})`);
      const server = await target.start();
      try {
        const headers = await target.headers(server);
        const pgRef = { pool: ctx.database.pool, database: ctx.database.name };
        const read = await measure(server, { method: 'GET', path: readPath, headers: {}, headerSets: [headers] }, ctx.run, pgRef);
        all.read.push(read);
        const write = await measure(server, { method: 'POST', path: '/v1/contacts', headers: json, headerSets: [headers], body: writeBody }, ctx.run, pgRef);
        all.write.push(write);
        ctx.log(`${target.name}: read ${read.rps.toFixed(0)} req/s, write ${write.rps.toFixed(0)} req/s`);
      } finally {
        await server.stop();
        await resetWrites();
      }
    }
  }
  const best = (list: Measurement[]) => targets.map((t) => list.filter((m) => m.target === t.name).reduce((a, b) => (b.rps > a.rps ? b : a)));
  const reads = best(all.read);
  const writes = best(all.write);

  const rows: Row[] = [];
  const ratioNotes = (list: Measurement[], op: 'read' | 'write') => {
    const limit = list.find((m) => m.target.startsWith('limit'))!;
    const plinth = list.find((m) => m.target === 'plinth')!;
    const seedsM = list.find((m) => m.target.startsWith('seeds'));
    for (const m of list) {
      let ratio = '';
      let ratios: Record<string, number> | undefined;
      if (m === plinth) {
        // Throughput ratios (the targets), and the steadier CPU-per-request one: limit's CPU ÷ Plinth's.
        ratios = { 'req/s ÷ limit': plinth.rps / limit.rps, 'CPU/req: limit ÷ plinth': limit.cpuPer1k / plinth.cpuPer1k, ...(seedsM ? { 'req/s ÷ seeds': plinth.rps / seedsM.rps } : {}) };
        const vsLimit = plinth.rps / limit.rps;
        ratio = `${vsLimit.toFixed(2)}× limit${op === 'read' ? (vsLimit >= 0.75 ? ' (target ≥0.75 met)' : ' (target ≥0.75 MISSED)') : ''}`;
        if (seedsM) {
          const vsSeeds = plinth.rps / seedsM.rps;
          ratio += `; ${vsSeeds.toFixed(2)}× seeds${op === 'read' ? (vsSeeds >= 3 ? ' (target ≥3 met)' : ' (target ≥3 MISSED)') : ''}`;
        } else {
          ratio += `; seeds' stack not installed`;
        }
      }
      rows.push({ benchmark: `overhead ${op}`, target: m.target, measurement: m, ratio, ...(ratios ? { ratios } : {}) });
    }
  };
  ratioNotes(reads, 'read');
  ratioNotes(writes, 'write');
  return {
    rows,
    notes: [
      `overhead: best of ${rounds} interleaved round(s) per target; read: GET ${readPath} on a tenant with ${CONTACTS} contacts; write: POST /v1/contacts; Plinth's write is one transaction with the contact and its audit row (before/after JSON) and checks the owner's membership first, the baselines insert the contact only.`,
      ...(seeds.ok ? [] : [`seeds' stack column skipped: ${seeds.why}`]),
    ],
    data: { rounds, all, seedsStack: seeds },
  };
}
