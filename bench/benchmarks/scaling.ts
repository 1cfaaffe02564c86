// Tenant-count scaling and catalog health: the reference read
// (GET /v1/contacts?limit=50) spread round-robin over 10 tenants, then over
// 10,000 (fewer in quick mode), each phase against a fresh Plinth process so
// its connections (and their backends' catalog caches) start empty. The
// PostgreSQL backends' memory is read from /proc right after each run.
// The large fleet runs twice: pooled connections never recycled
// (DB_POOL_MAX_LIFETIME_SECONDS=0) and recycled (a cap shorter than the run,
// so the effect shows within it; production's default is 300 s).
// The tenants are the fleet benchmark's (bench/fleet/fill.ts): real migrated
// schemas with the same owner and 60 contacts each, so both phases read
// identical tenants and only the spread differs.
import { createTokenService } from '../../src/platform/auth/tokens.ts';
import type { BenchContext, BenchResult, Row } from './types.ts';
import { measure, warmUpFor, type Measurement } from '../lib/measure.ts';
import { backendMemory, type BackendMemory } from '../lib/proc.ts';
import { alternate, median, pairRatios, pooled, type Side } from '../lib/interleave.ts';
import { formatWaits } from '../lib/pg-waits.ts';
import { BENCH_DIR, startNodeServer } from '../lib/servers.ts';
import { FLEET_CONTACTS, FLEET_PREFIX, fillTo, fleetOwner } from '../fleet/fleet.ts';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { BENCH_RATE_LIMITS } from '../lib/fixtures.ts';
import { defaultGroups } from '../../src/platform/db/database.ts';
import { loadConfig } from '../../src/config.ts';

const READ_PATH = '/v1/contacts?limit=50';

/** The phases, in the order they run (the fixed-rate ones of a kind together, interleaved); --phases picks some of them. */
export const SCALING_PHASES = ['few', 'many', 'recycled', 'unaffine', 'limit-few', 'limit-many', 'few-rate', 'many-rate', 'limit-few-rate', 'limit-many-rate'] as const;
export type ScalingPhase = (typeof SCALING_PHASES)[number];

interface Phase {
  key: ScalingPhase;
  label: string;
  tenants: number;
  lifetimeS: number;
  /** DB_POOL_GROUPS (0: the default, DB_POOL_MAX / 2; 1: no tenant affinity). */
  groups: number;
  /** Plinth, or the limit (bench/baselines/bare.ts: the same SQL on the schema of the X-Tenant slug, nothing else). */
  server: 'plinth' | 'limit';
  /** At a fixed rate (the same for both fleet sizes) instead of flat out. */
  paced?: boolean;
}

// The fixed rate, unless --rate says: this share of what the large fleet sustained flat out,
// so both fleet sizes are measured at a load each can carry (the other phases run at saturation,
// where p99 is mostly the queue in front of a server that is already slower).
const RATE_SHARE = 0.5;
// Connections of the fixed-rate phases: enough that a request never waits for a free one
// (a late send would hide its wait from the latency; see bench/lib/load.ts).
const PACED_CONNECTIONS = 128;
// The fixed-rate phases of a server kind run at once, interleaved (bench/lib/interleave.ts): PACED_PAIRS windows
// of PACED_WINDOW_S each per fleet size in full runs, 90 s in all. One after the other, 90 s phases put a slow
// minute of the shared 2-core VM on one fleet size only (bench/RESULTS.md, "Eleventh session"): PostgreSQL's
// autovacuum visits the database once a minute, at 10,000 schemas a worker reading the whole catalog for
// ~4 s of a core, and at ~500 requests a second one stall of ~200 ms sets a p99.
const PACED_PAIRS = 9;
const PACED_WINDOW_S = 10;
// --quick proves the harness in under two minutes: one pair, and no re-warm (its 1 s warm-ups leave no server idle long).
const QUICK_PAIRS = 1;
const REWARM_S = 5;
// The judged ratio: the median over the pairs of each pair's p99 ratio. The p99 of all requests of a size
// is set by its worst window, i.e. by whichever size the VM's worst stretch fell on (ratios of 0.1× to 18×
// within one run here); it is reported beside it.

/** The fleet's first `many` tenants as request headers (a token for the fleet's owner in each, and its slug), oldest first. */
export async function fleetRequests(db: BenchContext['database']['db'], many: number): Promise<{ ownerId: string; headerSets: Array<Record<string, string>> }> {
  const ownerId = await fleetOwner(db);
  const fleet = await db.selectFrom('tenants').select(['id', 'slug']).where('slug', 'like', `${FLEET_PREFIX}-%`).orderBy('createdAt').limit(many).execute();
  if (fleet.length < many) throw new Error(`only ${fleet.length} fleet tenants, ${many} wanted`);
  const tokens = await createTokenService(db, { issuer: 'plinth', ttlSeconds: 3600 });
  const headerSets = await Promise.all(fleet.map(async (t) => ({ authorization: `Bearer ${(await tokens.issue({ accountId: ownerId, tenantId: t.id })).accessToken}`, 'x-tenant': t.slug })));
  return { ownerId, headerSets };
}

/** A fresh server of one of the scaling benchmark's two kinds: Plinth with the given pool settings, or the limit (the same SQL on the X-Tenant slug's schema, nothing else). */
export function startScalingServer(
  kind: 'plinth' | 'limit',
  o: { databaseUrl: string; poolMax: number; ownerId: string; lifetimeS: number; groups: number; plinthEnv: Record<string, string>; plinthNodeArgs: string[]; limitEnv?: Record<string, string> },
) {
  if (kind === 'limit') {
    return startNodeServer('limit (bare Fastify + pg)', join(BENCH_DIR, 'baselines', 'bare.ts'), { DATABASE_URL: o.databaseUrl, DB_POOL_MAX: String(o.poolMax), BENCH_SCHEMA: 'by-tenant-header', BENCH_OWNER: o.ownerId, ...o.limitEnv }, [], 180_000);
  }
  const env = {
    DATABASE_URL: o.databaseUrl,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: String(o.poolMax),
    DB_POOL_MAX_LIFETIME_SECONDS: String(o.lifetimeS),
    DB_POOL_GROUPS: String(o.groups),
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    MIGRATE_TENANTS_ON_BOOT: 'false',
    JOBS_IN_API: 'false',
    ...BENCH_RATE_LIMITS,
    ...o.plinthEnv,
  };
  return startNodeServer('plinth', join(BENCH_DIR, 'servers', 'plinth.ts'), env, o.plinthNodeArgs, 180_000);
}

export async function scaling(ctx: BenchContext): Promise<BenchResult> {
  const { db } = ctx.database;
  const many = ctx.quick ? 50 : ctx.tenants;
  const t0 = performance.now();
  await fillTo(ctx, many);
  const fillS = (performance.now() - t0) / 1000;
  const { ownerId, headerSets } = await fleetRequests(db, many);

  // Longer runs than the other benchmarks: 10,000 tenants need many requests before each has been visited.
  // The warm-up is `passes` passes over the large fleet (in every phase, so all get the same number of requests):
  // the steady state of a running instance, whose caches hold the tenants it serves.
  const passes = ctx.warmupPasses ?? 4;
  // Block counters in full runs only: reading them costs 2.2 s a phase, too much for --quick's two minutes.
  const run = { ...(ctx.quick ? ctx.run : { ...ctx.run, durationS: 20, warmupRequests: passes * many, countBlocks: true }), sampleWaits: true };
  const capS = ctx.quick ? 1 : 8;
  const phases: Phase[] = [
    { key: 'few', label: `${Math.min(10, many)} tenants`, tenants: Math.min(10, many), lifetimeS: 0, groups: 0, server: 'plinth' },
    { key: 'many', label: `${many} tenants, connections never recycled`, tenants: many, lifetimeS: 0, groups: 0, server: 'plinth' },
    { key: 'recycled', label: `${many} tenants, connections recycled after ${capS} s`, tenants: many, lifetimeS: capS, groups: 0, server: 'plinth' },
    // Baselines of the same run: one pool without tenant affinity (every backend serves every tenant),
    // and the limit, to tell what PostgreSQL itself pays for the spread from what Plinth adds.
    { key: 'unaffine', label: `${many} tenants, no tenant affinity (DB_POOL_GROUPS=1)`, tenants: many, lifetimeS: 0, groups: 1, server: 'plinth' },
    { key: 'limit-few', label: `${Math.min(10, many)} tenants`, tenants: Math.min(10, many), lifetimeS: 0, groups: 1, server: 'limit' },
    { key: 'limit-many', label: `${many} tenants`, tenants: many, lifetimeS: 0, groups: 1, server: 'limit' },
    // Latency at the same load for both sizes: what a tenant sees as the fleet grows, at a given traffic.
    { key: 'few-rate', label: `${Math.min(10, many)} tenants, fixed rate`, tenants: Math.min(10, many), lifetimeS: 0, groups: 0, server: 'plinth', paced: true },
    { key: 'many-rate', label: `${many} tenants, fixed rate`, tenants: many, lifetimeS: 0, groups: 0, server: 'plinth', paced: true },
    // The same rate on the limit: what PostgreSQL itself adds to the tail as the fleet grows.
    { key: 'limit-few-rate', label: `${Math.min(10, many)} tenants, fixed rate`, tenants: Math.min(10, many), lifetimeS: 0, groups: 1, server: 'limit', paced: true },
    { key: 'limit-many-rate', label: `${many} tenants, fixed rate`, tenants: many, lifetimeS: 0, groups: 1, server: 'limit', paced: true },
  ];
  const results: Array<Phase & { m: Measurement; memory: BackendMemory; load: number; ratePerS?: number; windowsP99Ms?: number[] }> = [];
  const chosen = ctx.scalingPhases ?? SCALING_PHASES;
  const rateOf = () => {
    if (ctx.scalingRate) return ctx.scalingRate;
    const sustained = results.find((r) => r.key === 'many')?.m.rps;
    if (sustained === undefined) throw new Error('the fixed-rate phases need the many phase before them, or --rate N');
    return Math.round(sustained * RATE_SHARE);
  };
  const picked = phases.filter((p) => chosen.includes(p.key));
  const logPhase = (phase: Phase, m: Measurement, memory: BackendMemory, ratePerS?: number) =>
    ctx.log(
      `${phase.server}, ${phase.label} (${m.window.start.slice(11, 19)}-${m.window.end.slice(11, 19)} UTC): ${m.rps.toFixed(0)} req/s${ratePerS ? ` (asked ${ratePerS})` : ''}, p50 ${m.p50Ms.toFixed(1)} ms, p99 ${m.p99Ms.toFixed(1)} ms, CPU ms/req ${m.cpuPer1k.toFixed(3)} (PG ${m.dbCpuPer1k.toFixed(3)}), ` +
        (m.dbBlocksRead === undefined ? '' : `PG blocks/req ${m.dbBlocksRead.toFixed(1)} read + ${m.dbBlocksHit!.toFixed(1)} hit, ${m.dbSessionsOpened} connections opened, `) +
        `${memory.backends} backends, private ${memory.privateMb.toFixed(0)} MiB, RSS ${memory.rssMb.toFixed(0)} MiB, ` +
        `waiting for a CPU ms/req ${m.runQueueMsPerReq.toFixed(3)} (PG ${m.dbRunQueueMsPerReq.toFixed(3)}), ` +
        `machine saturated ${(m.machine.saturatedShare * 100).toFixed(1)}% of the run, steal ${(m.machine.stealShare * 100).toFixed(1)}% (worst 200 ms ${(m.machine.maxIntervalStealShare * 100).toFixed(0)}%), autovacuum ${m.machine.autovacuumCpuS.toFixed(1)} s CPU` +
        (m.acquire ? `; pool: ${(m.acquire.borrowed * 100).toFixed(1)}% borrowed, wait mean ${m.acquire.meanWaitMs.toFixed(2)} ms, ${(m.acquire.over5ms * 100).toFixed(1)}% > 5 ms; by the server's clock ${(m.acquire.serverOver25ms * 100).toFixed(2)}% > 25 ms, ${(m.acquire.serverOver50ms * 100).toFixed(2)}% > 50 ms` : '') +
        (m.acquire?.loopDelayMaxMs === undefined ? '' : `; event-loop delay p99 ${m.acquire.loopDelayP99Ms!.toFixed(1)} ms, max ${m.acquire.loopDelayMaxMs.toFixed(1)} ms`) +
        (m.dbWaits ? `; ${formatWaits(m.dbWaits)}` : ''),
    );
  const startPhase = (phase: Phase, limitEnv?: Record<string, string>) => startScalingServer(phase.server, { databaseUrl: ctx.database.url, poolMax: ctx.poolMax, ownerId, lifetimeS: phase.lifetimeS, groups: phase.groups, plinthEnv: ctx.plinthEnv, plinthNodeArgs: ctx.plinthNodeArgs, limitEnv });

  // Flat out: one phase after the other, each on a fresh server.
  for (const phase of picked.filter((p) => !p.paced)) {
    const server = await startPhase(phase);
    try {
      const m = await measure(server, { method: 'GET', path: READ_PATH, headers: {}, headerSets: headerSets.slice(0, phase.tenants) }, run, { pool: ctx.database.pool, database: ctx.database.name });
      const memory = await backendMemory(ctx.database.pool, ctx.database.name, server.pid);
      results.push({ ...phase, m, memory, load: loadavg()[0]!, ratePerS: undefined });
      logPhase(phase, m, memory);
    } finally {
      await server.stop();
    }
  }

  // At a fixed rate: a kind's two fleet sizes on two fresh servers at once, each warmed as above, then
  // the load alternates between them (bench/lib/interleave.ts). The limit's pool keeps idle connections
  // (BENCH_POOL_IDLE_MS=0): each server sits idle for a window at a time, and pg's 10 s idle timeout
  // would bring cold backends into the next one (Plinth's pool waits 30 s).
  const pairs = ctx.quick ? QUICK_PAIRS : (ctx.scalingPairs ?? PACED_PAIRS);
  const windowS = ctx.quick ? run.durationS : PACED_WINDOW_S;
  for (const kind of ['plinth', 'limit'] as const) {
    const paced = picked.filter((p) => p.paced && p.server === kind);
    if (paced.length === 0) continue;
    const ratePerS = rateOf();
    const sides: Array<Side & { phase: Phase }> = [];
    try {
      for (const phase of paced) {
        const server = await startPhase(phase, { BENCH_POOL_IDLE_MS: '0' });
        const side = { phase, name: `${kind}, ${phase.label}`, server, headerSets: headerSets.slice(0, phase.tenants), sent: run.warmupRequests ?? 0 };
        sides.push(side);
        await warmUpFor({ url: server.url, method: 'GET', path: READ_PATH, headers: {}, headerSets: side.headerSets, connections: run.connections, durationS: run.durationS, maxRequests: run.maxRequests }, run);
      }
      const pg = { pool: ctx.database.pool, database: ctx.database.name };
      const windows = await alternate(sides, { pairs, windowS, ratePerS, rewarmS: ctx.quick ? 0 : REWARM_S, connections: Math.max(run.connections, PACED_CONNECTIONS), tool: run.tool, path: READ_PATH, pg, log: ctx.log });
      for (const [i, side] of sides.entries()) {
        const m = pooled(windows[i]!);
        const memory = await backendMemory(ctx.database.pool, ctx.database.name, side.server.pid);
        results.push({ ...side.phase, m, memory, load: loadavg()[0]!, ratePerS, windowsP99Ms: windows[i]!.map((w) => w.p99Ms) });
        logPhase(side.phase, m, memory, ratePerS);
      }
    } finally {
      for (const side of sides) await side.server.stop();
    }
  }
  type Result = (typeof results)[0];
  // A server that could not keep up sent its requests late: its p99 then understates (bench/lib/load.ts).
  const targetOf = (r: Result) =>
    `${r.server}, ${r.label}${r.ratePerS ? ` (${r.ratePerS} req/s asked${r.m.rps < 0.97 * r.ratePerS ? ', NOT kept up' : ''}, ${PACED_CONNECTIONS} connections, ${r.windowsP99Ms!.length} window(s) of ${windowS} s interleaved with the other size)` : ''}`;
  // At a fixed rate: each pair's windows ran back to back, so their ratio compares the sizes under the same
  // machine; the median over the pairs is judged, the p99 of all requests shown beside it (see PACED_PAIRS).
  const pacedRatio = (p: Result, base: Result, judged: boolean) => {
    const byPair = pairRatios(base.windowsP99Ms!, p.windowsP99Ms!);
    const r = median(byPair);
    return (
      `p99 ${r.toFixed(2)}× of ${base.tenants} tenants at the same rate, median of ${byPair.length} pairs${judged ? (r <= 1.3 ? ' (target ≤1.3 met)' : ' (target ≤1.3 MISSED)') : ''}: ${byPair.map((x) => x.toFixed(2)).join(' / ')}; ` +
      `of all requests ${(p.m.p99Ms / base.m.p99Ms).toFixed(2)}×; p99 ms by window ${p.windowsP99Ms!.map((x) => x.toFixed(0)).join(' / ')} (${base.tenants} tenants: ${base.windowsP99Ms!.map((x) => x.toFixed(0)).join(' / ')}); ${(p.m.rps / base.m.rps).toFixed(2)}× throughput`
    );
  };
  const note = `tenant scaling: ${run.durationS} s per run (fixed-rate phases: ${pairs} window(s) of ${windowS} s per fleet size, alternating with the other size on a second server) after ${'warmupRequests' in run ? `a warm-up of ${run.warmupRequests} requests (${passes} passes over the ${many} tenants)` : `${run.warmupS} s warm-up`}, ${run.connections} connections, DB pool ${ctx.poolMax} (in ${defaultGroups(ctx.poolMax)} tenant-affine groups unless said otherwise), tenant cache TTL ${loadConfig({}).TENANT_CACHE_TTL_MS} ms (the default); GET /v1/contacts?limit=50 round-robin over the tenants (${FLEET_CONTACTS} contacts each, one token per tenant), fresh server per phase (per fleet size at a fixed rate); tenants are real migrated schemas (${many} present, fill ${fillS.toFixed(0)} s this run). Backend memory: sum over the server's backends of VmRSS and of private memory (Private_Clean+Private_Dirty from /proc/<pid>/smaps_rollup), read right after the run. Load average after each phase: ${results.map((r) => r.load.toFixed(1)).join(' / ')} (shared 2-core machine).`;
  const data = results.map(({ m, memory, ...p }) => ({ ...p, rps: m.rps, p50Ms: m.p50Ms, p99Ms: m.p99Ms, cpuPer1k: m.cpuPer1k, dbCpuPer1k: m.dbCpuPer1k, runQueueMsPerReq: m.runQueueMsPerReq, dbRunQueueMsPerReq: m.dbRunQueueMsPerReq, machine: m.machine, dbBlocksRead: m.dbBlocksRead, dbBlocksHit: m.dbBlocksHit, dbSessionsOpened: m.dbSessionsOpened, acquire: m.acquire, memory }));
  if (results.length < phases.length) {
    // Some phases only (an experiment): each on its own, ratios against the Plinth 10-tenant phase when it ran.
    // (fixed-rate phases against the 10-tenant one at the same rate).
    const rows = results.map((r) => {
      const base = results.find((b) => b.key === `${r.server === 'limit' ? 'limit-' : ''}${r.paced ? 'few-rate' : 'few'}`);
      const ratio = !base || r === base ? '' : r.paced ? pacedRatio(r, base, false) : `p99 ${(r.m.p99Ms / base.m.p99Ms).toFixed(2)}×, ${(r.m.rps / base.m.rps).toFixed(2)}× throughput of ${base.tenants} tenants`;
      return { benchmark: 'tenant scaling', target: targetOf(r), measurement: r.m, ratio };
    });
    return { rows, notes: [note], data };
  }
  const [few, uncapped, capped, unaffine, limitFew, limitMany, fewPaced, manyPaced, limitFewPaced, limitManyPaced] = results as [Result, Result, Result, Result, Result, Result, Result, Result, Result, Result];
  const mem = (p: typeof few) => `PG backends: ${p.memory.backends}, private ${p.memory.privateMb.toFixed(0)} MiB (${(p.memory.privateMb / Math.max(1, p.memory.backends)).toFixed(1)} per backend), RSS ${p.memory.rssMb.toFixed(0)} MiB`;
  const ratio = (p: Result, base = few) => {
    const r = p.m.p99Ms / base.m.p99Ms;
    return `p99 ${r.toFixed(2)}× of ${base.tenants} tenants${base === few ? (r <= 1.3 ? ' (target ≤1.3 met)' : ' (target ≤1.3 MISSED)') : ''}; ${(p.m.rps / base.m.rps).toFixed(2)}× throughput`;
  };
  const rows: Row[] = [
    { benchmark: 'tenant scaling', target: `plinth, ${few.label}`, measurement: few.m, ratio: mem(few) },
    { benchmark: 'tenant scaling', target: `plinth, ${uncapped.label}`, measurement: uncapped.m, ratio: `${ratio(uncapped)}; ${mem(uncapped)}` },
    {
      benchmark: 'tenant scaling',
      target: `plinth, ${capped.label}`,
      measurement: capped.m,
      ratio: `${ratio(capped)}; ${mem(capped)}; backend memory ${(capped.memory.privateMb / Math.max(1, uncapped.memory.privateMb)).toFixed(2)}× of never recycled`,
    },
    {
      benchmark: 'tenant scaling',
      target: `plinth, ${unaffine.label}`,
      measurement: unaffine.m,
      ratio: `${ratio(unaffine)}; ${mem(unaffine)}; with affinity: p99 ${(uncapped.m.p99Ms / unaffine.m.p99Ms).toFixed(2)}×, backend memory ${(uncapped.memory.privateMb / Math.max(1, unaffine.memory.privateMb)).toFixed(2)}× of this`,
    },
    { benchmark: 'tenant scaling', target: `limit, ${limitFew.label}`, measurement: limitFew.m, ratio: mem(limitFew) },
    { benchmark: 'tenant scaling', target: `limit, ${limitMany.label}`, measurement: limitMany.m, ratio: `${ratio(limitMany, limitFew)}; ${mem(limitMany)}` },
    { benchmark: 'tenant scaling', target: targetOf(fewPaced), measurement: fewPaced.m, ratio: mem(fewPaced) },
    { benchmark: 'tenant scaling', target: targetOf(manyPaced), measurement: manyPaced.m, ratio: `${pacedRatio(manyPaced, fewPaced, true)}; ${mem(manyPaced)}` },
    { benchmark: 'tenant scaling', target: targetOf(limitFewPaced), measurement: limitFewPaced.m, ratio: mem(limitFewPaced) },
    { benchmark: 'tenant scaling', target: targetOf(limitManyPaced), measurement: limitManyPaced.m, ratio: `${pacedRatio(limitManyPaced, limitFewPaced, false)}; ${mem(limitManyPaced)}` },
  ];
  return { rows, notes: [note], data };
}
