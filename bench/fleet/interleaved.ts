// `node bench/fleet/interleaved.ts (--embedded DIR | --reuse-database URL) [--rate 674] [--pairs 9] [--window 10] [--targets plinth,limit] [--env K=V]... [--trace-gc]`
// The tenant-scaling read at a fixed rate, with the two fleet sizes measured side by side in time:
// two servers of a kind run at once, one serving 10 tenants and one the whole fleet (each warmed
// as the scaling benchmark warms its phases), and the load alternates between them in short
// windows (few, many; then many, few; ...). Why: on a shared 2-core VM the machine itself has slow
// minutes (bench/RESULTS.md: CPU per request up 30-50% in one 90 s round and not the next), and
// 90 s phases run one after the other put such a minute on one fleet size only. Here a slow
// minute falls on both. Each size's p99 is over all its windows' requests together (pooled from
// wrk's latency tails, bench/lib/load.ts pooledPercentileMs), beside the median of the windows'
// own p99s. --env sets a Plinth setting on both Plinth servers; --trace-gc runs them with Node's
// --trace-gc and counts, per fleet size, the collector's pauses that fell inside its windows. Needs wrk (autocannon reports no tail). The fleet must be filled first
// (`node bench/fleet/run.ts --embedded DIR --fill-only`).
import { parseArgs } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres.ts';
import { defaultLoadTool, pooledPercentileMs, runLoad, type LoadPlan, type LoadResult } from '../lib/load.ts';
import { warmUp } from '../lib/measure.ts';
import { sampleMachine } from '../lib/proc.ts';
import { fleetRequests, startScalingServer } from '../benchmarks/scaling.ts';
import { reuseDatabase } from './run.ts';

const { values: opts } = parseArgs({
  options: {
    embedded: { type: 'string' },
    'reuse-database': { type: 'string' },
    rate: { type: 'string', default: '674' },
    pairs: { type: 'string', default: '9' },
    window: { type: 'string', default: '10' },
    targets: { type: 'string', default: 'plinth,limit' },
    tenants: { type: 'string', default: '10000' },
    env: { type: 'string', multiple: true },
    'trace-gc': { type: 'boolean', default: false },
  },
});
if (defaultLoadTool() !== 'wrk') throw new Error('interleaved.ts needs wrk (the latency tails it pools come from wrk)');
const started = Date.now();
const log = (msg: string) => process.stderr.write(`[interleaved ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
const embedded = opts.embedded ? await startEmbeddedPostgres({ dataDir: opts.embedded, port: 0, log }) : undefined;
const url = embedded?.url ?? opts['reuse-database'];
if (!url) throw new Error('--embedded DIR or --reuse-database URL (a filled fleet)');
const database = await reuseDatabase(url);
const [rate, pairs, windowS, many] = [Number(opts.rate), Number(opts.pairs), Number(opts.window), Number(opts.tenants)];
const FEW = 10;
const POOL_MAX = 10;
// As the scaling benchmark's fixed-rate phases: enough connections that no request waits for one.
const CONNECTIONS = 128;
const WARMUP_PASSES = 4;

const plinthEnv = Object.fromEntries((opts.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const gcDir = opts['trace-gc'] ? mkdtempSync(join(tmpdir(), 'plinth-interleaved-gc-')) : undefined;

// Each window's span in ms since its server was spawned (the clock of --trace-gc's lines, to ~50 ms: the isolate starts after the spawn).
type Window = LoadResult & { fromMs: number; toMs: number };

/** The collector's pauses inside the windows, by kind, from a --trace-gc log ("<t> ms: Scavenge ... MB, 1.23 / 0.00 ms ..."). */
function gcInWindows(file: string, windows: Window[]): string {
  const byKind = new Map<string, { n: number; sum: number; max: number }>();
  for (const m of readFileSync(file, 'utf8').matchAll(/\s(\d+) ms: ([A-Za-z-]+)[^\n]*?MB, ([\d.]+) \/ [\d.]+ ms/g)) {
    const t = Number(m[1]);
    if (!windows.some((w) => t >= w.fromMs && t <= w.toMs)) continue;
    const k = byKind.get(m[2]!) ?? { n: 0, sum: 0, max: 0 };
    k.n++;
    k.sum += Number(m[3]);
    k.max = Math.max(k.max, Number(m[3]));
    byKind.set(m[2]!, k);
  }
  return [...byKind].map(([kind, k]) => `${kind} ${k.n}× (${k.sum.toFixed(0)} ms in all, longest ${k.max.toFixed(1)} ms)`).join(', ') || 'no pauses';
}
const summary: string[] = [];
try {
  const { ownerId, headerSets } = await fleetRequests(database.db, many);
  for (const kind of opts.targets.split(',')) {
    if (kind !== 'plinth' && kind !== 'limit') throw new Error(`unknown target ${kind}: plinth or limit`);
    const start = async (tenants: number) => {
      const gcLog = gcDir && kind === 'plinth' ? join(gcDir, `${tenants}.log`) : undefined;
      const spawnedAt = Date.now();
      // The limit's pg pool closes idle connections after 10 s by default; between its windows a server sits idle
      // for one window, and reconnecting would put cold backends into the next. Plinth's pool waits 30 s.
      const server = await startScalingServer(kind, {
        databaseUrl: url,
        poolMax: POOL_MAX,
        ownerId,
        lifetimeS: 0,
        groups: 0, // Plinth's default; the limit has one plain pool
        plinthEnv: { ...plinthEnv, ...(gcLog && { BENCH_SERVER_LOG: gcLog }) },
        plinthNodeArgs: gcLog ? ['--trace-gc'] : [],
        limitEnv: { BENCH_POOL_IDLE_MS: '0' },
      });
      return { server, spawnedAt, gcLog };
    };
    const sides = [
      { name: `${FEW} tenants`, ...(await start(FEW)), headerSets: headerSets.slice(0, FEW), windows: [] as Window[], sent: 0 },
      { name: `${many} tenants`, ...(await start(many)), headerSets, windows: [] as Window[], sent: 0 },
    ];
    try {
      const planOf = (side: (typeof sides)[0]): LoadPlan => ({ url: side.server.url, method: 'GET', path: '/v1/contacts?limit=50', headers: {}, headerSets: side.headerSets, connections: CONNECTIONS, durationS: windowS, maxRequests: 10_000_000 });
      for (const side of sides) {
        await warmUp({ ...planOf(side), connections: 32 }, WARMUP_PASSES * many, 'wrk');
        side.sent = WARMUP_PASSES * many;
        log(`${kind}, ${side.name}: warmed up (${side.sent} requests)`);
      }
      for (let pair = 0; pair < pairs; pair++) {
        for (const side of pair % 2 === 0 ? sides : [...sides].reverse()) {
          const stop = sampleMachine();
          const fromMs = Date.now() - side.spawnedAt;
          const r = await runLoad({ ...planOf(side), ratePerS: rate, startAt: side.sent, tail: true }, 'wrk');
          const machine = stop();
          side.sent += r.requests;
          if (r.non2xx + r.errors > r.requests * 0.01) throw new Error(`${kind}, ${side.name}: ${r.non2xx + r.errors} of ${r.requests} requests failed`);
          side.windows.push({ ...r, fromMs, toMs: Date.now() - side.spawnedAt });
          log(`${kind}, ${side.name}, pair ${pair + 1}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, steal ${(machine.stealShare * 100).toFixed(1)}%, saturated ${(machine.saturatedShare * 100).toFixed(1)}%`);
        }
      }
    } finally {
      for (const side of sides) await side.server.stop();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const line = (side: (typeof sides)[0]) => {
      const w = side.windows;
      const rps = w.reduce((n, x) => n + x.rps, 0) / w.length;
      const gc = side.gcLog ? `; GC in its windows: ${gcInWindows(side.gcLog, w)}` : '';
      return { p99: pooledPercentileMs(w, 99), text: `${side.name}: ${w.reduce((n, x) => n + x.requests, 0)} requests, ${rps.toFixed(0)} req/s (asked ${rate}), p50 ${median(w.map((x) => x.p50Ms)).toFixed(1)} ms (median window), p99 ${pooledPercentileMs(w, 99).toFixed(1)} ms (all requests; median window ${median(w.map((x) => x.p99Ms)).toFixed(1)}), p99.9 ${pooledPercentileMs(w, 99.9).toFixed(1)} ms${gc}` };
    };
    const [few, all] = sides.map(line) as [ReturnType<typeof line>, ReturnType<typeof line>];
    const pairRatios = sides[0]!.windows.map((w, i) => sides[1]!.windows[i]!.p99Ms / w.p99Ms);
    summary.push(
      `${kind}, ${pairs} pairs of ${windowS} s windows at ${rate} req/s, ${CONNECTIONS} connections:\n  ${few.text}\n  ${all.text}\n  p99 ratio ${(all.p99 / few.p99).toFixed(2)}× (all requests); pair by pair ${pairRatios.map((r) => r.toFixed(2)).join(' / ')} (median ${median(pairRatios).toFixed(2)}×)`,
    );
    log(summary.at(-1)!);
  }
} finally {
  await database.close();
  await embedded?.stop();
  if (gcDir) rmSync(gcDir, { recursive: true, force: true });
}
process.stdout.write(`${summary.join('\n')}\n`);
