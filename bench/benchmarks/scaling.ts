// Tenant-count scaling: the reference read spread round-robin over a few
// tenants, then over many (10,000; fewer in quick mode). Each phase starts a
// fresh Plinth process, so its connections (and their catalog caches) start
// empty; the PostgreSQL backends' memory is read right after the run.
import { join } from 'node:path';
import { createTokenService } from '../../src/platform/auth/tokens.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { ensureMember } from '../../src/modules/identity/service.ts';
import type { BenchContext, BenchResult, Row } from './types.ts';
import { measure, type Measurement } from '../lib/measure.ts';
import { backendMemory, type BackendMemory } from '../lib/proc.ts';
import { BENCH_DIR, startNodeServer } from '../lib/servers.ts';
import { BENCH_PASSWORD, cloneFleet, fleetTenants, growFleet, migrationsFor, schemaShape, seedContacts, BENCH_RATE_LIMITS } from '../lib/fixtures.ts';

const PREFIX = 'scale';
const CONTACTS_PER_TENANT = 60; // more than one page of 50

export async function scaling(ctx: BenchContext): Promise<BenchResult> {
  const { db } = ctx.database;
  const counts = [10, ctx.quick ? 50 : ctx.tenants];
  // The template for clones: a tenant provisioned the real way and left empty.
  const template = await provisionTenant(db, migrationsFor(db), { slug: 'tpl-scale', displayName: 'Fleet template' });
  const first = await provisionTenant(db, migrationsFor(db), { slug: `${PREFIX}-0`, displayName: 'Fleet 0' }, async (trx, t) => {
    await ensureMember(trx, { tenantId: t.id, email: 'owner@scale.example', displayName: 'Fleet owner', password: BENCH_PASSWORD, role: 'owner' });
  });
  const ownerId = (await db.selectFrom('accounts').select('id').where('email', '=', 'owner@scale.example').executeTakeFirstOrThrow()).id;
  await seedContacts(db, first.schemaName, ownerId, CONTACTS_PER_TENANT);
  const tokens = await createTokenService(db, { issuer: 'plinth', ttlSeconds: 3600 });
  const env = { DATABASE_URL: ctx.database.url, LOG_LEVEL: 'silent', DB_POOL_MAX: String(ctx.poolMax), ACCESS_TOKEN_TTL_SECONDS: '3600', ...BENCH_RATE_LIMITS };

  // Longer runs than the other benchmarks: 10,000 tenants need many requests before each has been visited.
  const run = ctx.quick ? ctx.run : { ...ctx.run, durationS: 20, warmupS: 10 };
  let cloned = true;
  const phases: Array<{ tenants: number; m: Measurement; memory: BackendMemory; provisionS: number }> = [];
  for (const count of counts) {
    const t0 = performance.now();
    const have = (await fleetTenants(db, PREFIX, 100_000)).length;
    if (count <= 10) {
      // The small fleet through provisionTenant itself.
      await growFleet(db, { prefix: PREFIX, total: count, ownerId, contacts: CONTACTS_PER_TENANT, concurrency: 2 });
    } else {
      // provisionTenant takes ~0.2-0.3 s a tenant here (13+ tables, 36+ indexes, 12+ foreign keys): 10,000 would take most of an hour.
      // The clone refuses templates holding objects it cannot copy; then every tenant goes through provisionTenant.
      try {
        await cloneFleet(ctx.database.url, { template, prefix: PREFIX, from: have, to: count, ownerId, contacts: CONTACTS_PER_TENANT, clients: 2, progress: (n) => ctx.log(`cloned ${n} tenants`) });
        const last = (await fleetTenants(db, PREFIX, count)).at(-1)!;
        const lastSchema = (await db.selectFrom('tenants').select('schemaName').where('id', '=', last.id).executeTakeFirstOrThrow()).schemaName;
        if ((await schemaShape(db, lastSchema)) !== (await schemaShape(db, template.schemaName))) throw new Error(`clone ${lastSchema} differs from its template`);
      } catch (error) {
        if (!String((error as Error).message).includes('does not copy')) throw error;
        ctx.log(`${(error as Error).message}: provisioning through provisionTenant instead`);
        cloned = false;
        await growFleet(db, { prefix: PREFIX, total: count, ownerId, contacts: CONTACTS_PER_TENANT, concurrency: 2, progress: (n) => ctx.log(`provisioned ${n} more tenants`) });
      }
    }
    const provisionS = (performance.now() - t0) / 1000;
    ctx.log(`${count} tenants ready (${provisionS.toFixed(1)} s to provision); tokens...`);
    const fleet = await fleetTenants(db, PREFIX, count);
    const headerSets = await Promise.all(
      fleet.map(async (t) => ({ authorization: `Bearer ${(await tokens.issue({ accountId: ownerId, tenantId: t.id })).accessToken}`, 'x-tenant': t.slug })),
    );
    const server = await startNodeServer('plinth', join(BENCH_DIR, 'servers', 'plinth.ts'), env, ctx.plinthNodeArgs);
    try {
      const m = await measure(server, { method: 'GET', path: '/v1/contacts?limit=50', headers: {}, headerSets }, run, { pool: ctx.database.pool, database: ctx.database.name });
      const memory = await backendMemory(ctx.database.pool, ctx.database.name, 'plinth');
      phases.push({ tenants: count, m, memory, provisionS });
      ctx.log(`${count} tenants: ${m.rps.toFixed(0)} req/s, p99 ${m.p99Ms.toFixed(1)} ms, backends ${memory.backends} private ${memory.privateMb.toFixed(0)} MiB`);
    } finally {
      await server.stop();
    }
  }

  const [few, many] = phases as [(typeof phases)[0], (typeof phases)[0]];
  const p99Ratio = many.m.p99Ms / few.m.p99Ms;
  const mem = (p: typeof few) => `PG backends: ${p.memory.backends}, RSS ${p.memory.rssMb.toFixed(0)} MiB, private ${p.memory.privateMb.toFixed(0)} MiB`;
  const rows: Row[] = [
    { benchmark: 'tenant scaling', target: `plinth, ${few.tenants} tenants`, measurement: few.m, ratio: mem(few) },
    {
      benchmark: 'tenant scaling',
      target: `plinth, ${many.tenants} tenants`,
      measurement: many.m,
      ratio: `p99 ${p99Ratio.toFixed(2)}× of ${few.tenants} tenants${p99Ratio <= 1.3 ? ' (target ≤1.3 met)' : ' (target ≤1.3 MISSED)'}; ${(many.m.rps / few.m.rps).toFixed(2)}× throughput; ${mem(many)}`,
    },
  ];
  return {
    rows,
    notes: [
      `tenant scaling: ${run.durationS} s per run after ${run.warmupS} s warm-up; GET /v1/contacts?limit=50 round-robin over the tenants (${CONTACTS_PER_TENANT} contacts each, one token per tenant), tenant cache TTL ${2000} ms (default); the first ${few.tenants} tenants through provisionTenant (${few.provisionS.toFixed(1)} s), the other ${many.tenants - few.tenants} ${cloned ? 'cloned from a provisioned template schema by SQL' : 'through provisionTenant too (the template held objects the clone does not copy)'} (${many.provisionS.toFixed(0)} s).`,
    ],
    data: phases,
  };
}
