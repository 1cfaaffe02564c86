// Fleet benchmarks (issue 6), with the naive approach measured in the same run:
//  1. provisioning with N tenants present: claim a pre-migrated spare schema
//     vs create the schema and run every migration (what provisioning did before);
//  2. a no-op `migrate up` over N tenants: decided from public.tenants in one
//     query vs visiting every schema's ledger (django-tenants style);
//  3. adding a column with an index to N tenant schemas (bounded parallel run).
// N = 10,000 (quick: 300; --tenants N). Runs in the bench database it is given.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadavg } from 'node:os';
import type { Kysely, Migration } from 'kysely';
import type { BenchContext, BenchResult, Row } from '../benchmarks/types.ts';
import { buildTenantMigrationSet, migrateTenantSchema, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { refillSpares } from '../../src/platform/tenancy/spares.ts';
import { migrateFleet, migrateFleetDown } from '../../src/platform/tenancy/fleet.ts';
import { modules } from '../../src/modules/index.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { insertAccount } from '../../src/modules/identity/repository.ts';
import { hashPassword } from '../../src/platform/auth/passwords.ts';
import { fillFleet } from './fill.ts';
import { schemaShape } from '../lib/fixtures.ts';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../src/cli/main.ts');

type FleetBenchContext = Pick<BenchContext, 'database' | 'quick' | 'log'>;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s.at(-1)! };
};
const f = (n: number) => n.toFixed(1);

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

async function timeEach(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

export const FLEET_PREFIX = 'fleet';
export const FLEET_OWNER = 'owner@fleet.example';
export const FLEET_PASSWORD = 'fleet-owner-password';
/** Contacts per filled tenant: more than one page of the scaling read (limit=50). */
export const FLEET_CONTACTS = 60;

/** The account that owns every filled tenant (the scaling benchmark logs in as it). */
export async function fleetOwner(db: FleetBenchContext['database']['db']): Promise<string> {
  const found = await db.selectFrom('accounts').select('id').where('email', '=', FLEET_OWNER).executeTakeFirst();
  return found?.id ?? (await insertAccount(db, { email: FLEET_OWNER, displayName: 'Fleet owner', passwordHash: await hashPassword(FLEET_PASSWORD) })).id;
}

/** Tops the database up to `tenants` filled tenants (fleet-0 ... fleet-N-1); returns how many were there before. */
export async function fillTo(ctx: FleetBenchContext, tenants: number): Promise<number> {
  const { db } = ctx.database;
  const have = (await db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).where('slug', 'like', `${FLEET_PREFIX}-%`).executeTakeFirstOrThrow()).n;
  if (have >= tenants) return Number(have);
  const ownerId = await fleetOwner(db);
  const started = performance.now();
  await fillFleet(ctx.database.url, buildTenantMigrationSet(modules), {
    prefix: FLEET_PREFIX,
    from: Number(have),
    to: tenants,
    ownerId,
    contacts: FLEET_CONTACTS,
    progress: (n) => ctx.log(`fleet: filled ${Number(have) + n}/${tenants} tenants (${((performance.now() - started) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)})`),
  });
  return Number(have);
}

export async function fleet(ctx: FleetBenchContext & { tenants?: number }): Promise<BenchResult> {
  const tenants = ctx.tenants ?? (ctx.quick ? 300 : 10_000);
  const samples = ctx.quick ? 30 : 100;
  const concurrency = 4;
  // A pool like the API's: the bench harness pool is sized for its own needs.
  const { db } = createDatabase({ url: ctx.database.url, poolMax: concurrency + 4, statementTimeoutMs: 0, applicationName: 'plinth-bench-fleet' });
  const set = buildTenantMigrationSet(modules);
  const rows: Row[] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = { tenants, samples, concurrency, migrations: set.names.length, loadAverageAtStart: loadavg() };
  try {
    // Provisioning latency at growing fleet sizes, so a long run reports as it goes.
    // A database filled by an earlier (interrupted) run is topped up, not refilled.
    let filled = (await db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).where('slug', 'like', `${FLEET_PREFIX}-%`).executeTakeFirstOrThrow()).n;
    const checkpoints = [...new Set([Math.min(1000, tenants), Math.max(tenants, filled)])].filter((c) => c >= filled);
    data.alreadyFilled = filled;
    const fillStarted = performance.now();
    const provisioning: Record<number, unknown> = {};
    let last: { naive: ReturnType<typeof stats>; pooled: ReturnType<typeof stats>; refillMsPerSpare: number } | undefined;
    for (const target of checkpoints) {
      await fillTo(ctx, target);
      filled = target;
      const n = target === tenants ? samples : Math.min(samples, 50);
      const tag = `${target}-${Date.now().toString(36)}`;
      // 1. One sign-up at a time: the naive path (empty pool: create the schema, run every migration) ...
      // (Fewer naive samples: each takes seconds at 10,000 tenants on a loaded machine.)
      const naive = stats(await timeEach(Math.min(n, 40), (i) => provisionTenant(db, set, { slug: `naive-${tag}-${i}`, displayName: `Naive ${i}` })));
      // The filled tenants must be what provisioning makes: same relations and constraints.
      const [filledSchema, naiveSchema] = await Promise.all(
        [`${FLEET_PREFIX}-${target - 1}`, `naive-${tag}-0`].map(async (slug) => (await db.selectFrom('tenants').select('schemaName').where('slug', '=', slug).executeTakeFirstOrThrow()).schemaName),
      );
      if ((await schemaShape(db, filledSchema!)) !== (await schemaShape(db, naiveSchema!))) throw new Error(`filled schema ${filledSchema} differs from a provisioned one (${naiveSchema})`);
      // ... and the pool path (claim a spare made ahead of time).
      const refill0 = performance.now();
      await refillSpares(db, set, { size: n });
      const refillMsPerSpare = (performance.now() - refill0) / n;
      const pooled = stats(await timeEach(n, (i) => provisionTenant(db, set, { slug: `pooled-${tag}-${i}`, displayName: `Pooled ${i}` })));
      last = { naive, pooled, refillMsPerSpare };
      provisioning[target] = last;
      ctx.log(`fleet: at ${target} tenants: pooled p50 ${f(pooled.p50)} p95 ${f(pooled.p95)} ms; naive p50 ${f(naive.p50)} p95 ${f(naive.p95)} ms (load ${loadavg()[0]!.toFixed(1)})`);
    }
    data.fillSeconds = (performance.now() - fillStarted) / 1000;
    data.provisioning = provisioning;
    const { naive, pooled, refillMsPerSpare } = last!;
    rows.push({
      benchmark: 'fleet: provision (spare pool)',
      target: `p95 < 100 ms, ${tenants} tenants present`,
      values: { seconds: (pooled.p95 / 1000).toFixed(3) },
      ratio: `p50 ${f(pooled.p50)} / p95 ${f(pooled.p95)} / max ${f(pooled.max)} ms (${samples} sign-ups); naive create+migrate (${naive.n} sign-ups) p50 ${f(naive.p50)} / p95 ${f(naive.p95)} ms = ${(naive.p95 / pooled.p95).toFixed(0)}x slower; refill ${f(refillMsPerSpare)} ms per spare, off the request path`,
    });

    // 2. No-op migrate up over every tenant.
    const { total } = await db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
    const noop0 = performance.now();
    const noop = await migrateFleet(db, set, { concurrency });
    const noopMs = performance.now() - noop0;
    if (noop.migrated.length || noop.failed.length) throw new Error(`no-op run migrated ${noop.migrated.length}, failed ${noop.failed.length}`);
    const cli0 = performance.now();
    const cli = await run(process.execPath, [CLI, 'migrate', 'up', '--json'], { env: { ...process.env, DATABASE_URL: ctx.database.url } });
    const cliMs = performance.now() - cli0;
    const cliRun = JSON.parse(cli.stdout) as { upToDate: number; migrated: string[]; latest: string };
    if (cliRun.latest !== set.latest) throw new Error(`The code changed during the run: the CLI is at ${cliRun.latest}, this run at ${set.latest}`);
    if (cliRun.upToDate !== total || cliRun.migrated.length) throw new Error(`CLI no-op run saw ${cliRun.upToDate} up to date, migrated ${cliRun.migrated.length}`);
    // Naive: open every schema, lock it, read its ledger (what a per-schema migrator does).
    const all = await db.selectFrom('tenants').select('schemaName').execute();
    const visit0 = performance.now();
    await inParallel(all, concurrency, async (t) => {
      await db.transaction().execute((trx) => migrateTenantSchema(trx, t.schemaName, set));
    });
    const visitMs = performance.now() - visit0;
    data.noop = { libraryMs: noopMs, cliMs, naiveVisitEveryTenantMs: visitMs, tenants: total };
    rows.push({
      benchmark: 'fleet: no-op migrate up',
      target: `< 10 s over ${total} tenants`,
      values: { seconds: (cliMs / 1000).toFixed(2) },
      ratio: `\`plinth migrate up\` end to end (process start, platform check included); the fleet decision itself ${f(noopMs)} ms vs naive visit-every-schema ${(visitMs / 1000).toFixed(1)} s (${(visitMs / noopMs).toFixed(0)}x)`,
    });

    // 3. Add a column with an index to every tenant schema.
    const addScore: Migration = {
      async up(k: Kysely<any>) {
        await k.schema.alterTable('contacts').addColumn('bench_score', 'integer').execute();
        await k.schema.createIndex('contacts_bench_score_idx').on('contacts').column('bench_score').execute();
      },
      async down(k: Kysely<any>) {
        await k.schema.alterTable('contacts').dropColumn('bench_score').execute();
      },
    };
    const next: TenantMigrationSet = buildTenantMigrationSet([...modules, { name: 'bench', tenantMigrations: { '29990101000000_bench_score': addScore } }]);
    const add0 = performance.now();
    const added = await migrateFleet(db, next, {
      concurrency,
      continueOnError: true,
      onProgress: ({ done }) => {
        if (done % 1000 === 0) ctx.log(`fleet: column added to ${done}/${total}`);
      },
    });
    const addS = (performance.now() - add0) / 1000;
    if (added.failed.length) throw new Error(`${added.failed.length} tenants failed: ${added.failed[0]!.error}`);
    data.addColumn = { seconds: addS, tenants: added.migrated.length, perSecond: added.migrated.length / addS };
    rows.push({
      benchmark: 'fleet: add column + index',
      target: `< 300 s over ${total} schemas`,
      values: { seconds: addS.toFixed(1) },
      ratio: `${(added.migrated.length / addS).toFixed(0)} tenants/s at --concurrency ${concurrency}, one transaction per tenant`,
    });
    // Revert it (migrate down), so the filled database stays reusable by the next run and by the scaling benchmark.
    const down0 = performance.now();
    const reverted = await migrateFleetDown(db, next, { concurrency, continueOnError: true });
    const downS = (performance.now() - down0) / 1000;
    if (reverted.failed.length) throw new Error(`${reverted.failed.length} tenants failed to revert: ${reverted.failed[0]!.error}`);
    data.dropColumn = { seconds: downS, tenants: reverted.migrated.length };
    rows.push({ benchmark: 'fleet: migrate down (drop it again)', target: `${total} schemas`, values: { seconds: downS.toFixed(1) }, ratio: `${(reverted.migrated.length / downS).toFixed(0)} tenants/s` });
    notes.push(
      `fleet: ${total} tenants × ${set.names.length} tenant migrations (${tenants} filled by replaying the recorded migration statements, one tenant per transaction on 4 connections, see bench/fleet/fill.ts; checked equal to a provisioned schema). Provisioning times exclude the owner's password hash. Load average at start ${(data.loadAverageAtStart as number[]).map((x) => x.toFixed(1)).join('/')}, at end ${loadavg().map((x) => x.toFixed(1)).join('/')} (shared machine).`,
    );
    return { rows, notes, data };
  } finally {
    await db.destroy();
  }
}

