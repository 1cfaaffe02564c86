// Two servers measured side by side in time: the load alternates between them in
// short windows at a fixed rate (a, b; then b, a; ...), so that a slow stretch of a
// shared 2-core VM (steal, autovacuum's once-a-minute catalog pass at 10,000
// schemas) falls on both alike instead of on whichever ran during it. The scaling
// benchmark's fixed-rate phases (bench/benchmarks/scaling.ts).
import type pg from 'pg';
import { pooledPercentileMs, runLoad, type LoadTool } from './load.ts';
import { measure, type AcquireStats, type Measurement } from './measure.ts';
import type { RunningServer } from './servers.ts';
import { formatWaits, mergeWaits } from './pg-waits.ts';

export interface Side {
  name: string;
  server: RunningServer;
  headerSets: Array<Record<string, string>>;
  /** Requests sent to it so far (the warm-up's): each window continues the rotation over its tenants. */
  sent: number;
}

/** One window's measurement, with its span by the wall clock (ms since the epoch). */
export type Window = Measurement & { fromMs: number; toMs: number };

export interface AlternateOptions {
  pairs: number;
  windowS: number;
  ratePerS: number;
  /** Seconds each side runs flat out again just before the windows, after which the machine idles for one window (0: neither). */
  rewarmS: number;
  connections: number;
  tool: LoadTool;
  path: string;
  pg: { pool: pg.Pool; database: string };
  log(msg: string): void;
}

/**
 * `pairs` windows on each side, alternating in order a, b, b, a, a, b, ...: the windows of each side, in order.
 * Before them each side runs `rewarmS` flat out again, then the machine idles for one window. The first window used
 * to follow the warm-ups at once and was the worst of its side in three runs of three (212-725 ms against a median
 * window of 21-103): the server warmed first had sat idle through the other's warm-up (~90 s at 10,000 tenants),
 * so its pool had closed its connections (Plinth's idle timeout is 30 s) and its first window opened cold ones.
 */
export async function alternate(sides: Side[], o: AlternateOptions): Promise<Window[][]> {
  const windows: Window[][] = sides.map(() => []);
  if (o.rewarmS > 0) {
    for (const side of sides) {
      const r = await runLoad({ url: side.server.url, method: 'GET', path: o.path, headers: {}, headerSets: side.headerSets, startAt: side.sent, connections: 32, durationS: o.rewarmS, maxRequests: 10_000_000 }, o.tool);
      side.sent += r.requests;
    }
    await new Promise((resolve) => setTimeout(resolve, o.windowS * 1000));
  }
  for (let pair = 0; pair < o.pairs; pair++) {
    for (const i of pair % 2 === 0 ? sides.keys() : [...sides.keys()].reverse()) {
      const side = sides[i]!;
      const fromMs = Date.now();
      const m = await measure(
        side.server,
        { method: 'GET', path: o.path, headers: {}, headerSets: side.headerSets, startAt: side.sent, tail: true },
        { tool: o.tool, connections: o.connections, durationS: o.windowS, warmupS: 0, maxRequests: 10_000_000, ratePerS: o.ratePerS, sampleWaits: true },
        o.pg,
      );
      side.sent += m.requests;
      windows[i]!.push({ ...m, fromMs, toMs: Date.now() });
      // Plinth's own view of the window (its /metrics): were the slow requests slow in the handler, and did its event loop stall?
      const inside = m.acquire ? `; by the server's clock ${(m.acquire.serverOver50ms * 100).toFixed(2)}% > 50 ms, event-loop delay max ${m.acquire.loopDelayMaxMs?.toFixed(0) ?? '?'} ms, pool wait > 5 ms ${(m.acquire.over5ms * 100).toFixed(2)}%` : '';
      // And the database's: were its busy backends on a CPU, or waiting (I/O, a lock)?
      const waits = m.dbWaits ? `; ${formatWaits(m.dbWaits)}` : '';
      o.log(
        `${side.name}, pair ${pair + 1}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50Ms.toFixed(1)} ms, p99 ${m.p99Ms.toFixed(1)} ms, CPU ms/req ${m.cpuPer1k.toFixed(2)} (PG ${m.dbCpuPer1k.toFixed(2)}; PG waiting for a CPU ${m.dbRunQueueMsPerReq.toFixed(2)}), ` +
          `steal ${(m.machine.stealShare * 100).toFixed(1)}%, saturated ${(m.machine.saturatedShare * 100).toFixed(1)}%, autovacuum ${m.machine.autovacuumCpuS.toFixed(1)} s CPU${inside}${waits}`,
      );
    }
  }
  return windows;
}

/** The middle value; of an even count, the mean of the two middle ones. */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each pair's p99 ratio, second side over first (the windows of one pair ran back to back). */
export const pairRatios = (firstP99: number[], secondP99: number[]) => firstP99.map((p99, i) => secondP99[i]! / p99);

/**
 * One side's windows as one measurement: counts and CPU summed over them, p99 over all their requests together
 * (from wrk's tails, see pooledPercentileMs), p50 the median window's, the event-loop delay the worst window's.
 */
export function pooled(windows: Window[]): Measurement {
  const sum = (f: (w: Window) => number) => windows.reduce((n, w) => n + f(w), 0);
  const requests = sum((w) => w.requests);
  const perRequest = (f: (w: Window) => number) => sum((w) => f(w) * w.requests) / Math.max(1, requests);
  const perSecond = (f: (w: Window) => number) => sum((w) => f(w) * w.durationS) / Math.max(1e-9, sum((w) => w.durationS));
  const max = (f: (w: Window) => number) => Math.max(...windows.map(f));
  const first = windows[0]!;
  return {
    target: first.target,
    tool: first.tool,
    requests,
    ok: sum((w) => w.ok),
    non2xx: sum((w) => w.non2xx),
    errors: sum((w) => w.errors),
    durationS: sum((w) => w.durationS),
    rps: sum((w) => w.ok) / Math.max(1e-9, sum((w) => w.durationS)),
    p50Ms: median(windows.map((w) => w.p50Ms)),
    // Without tails (autocannon) the worst window's p99: like pooledPercentileMs, it errs high.
    p99Ms: windows.every((w) => w.tailUs) ? pooledPercentileMs(windows, 99) : max((w) => w.p99Ms),
    cpuPer1k: perRequest((w) => w.cpuPer1k),
    dbCpuPer1k: perRequest((w) => w.dbCpuPer1k),
    peakRssMb: max((w) => w.peakRssMb),
    runQueueMsPerReq: perRequest((w) => w.runQueueMsPerReq),
    dbRunQueueMsPerReq: perRequest((w) => w.dbRunQueueMsPerReq),
    machine: {
      saturatedShare: perSecond((w) => w.machine.saturatedShare),
      stealShare: perSecond((w) => w.machine.stealShare),
      maxIntervalStealShare: max((w) => w.machine.maxIntervalStealShare),
      autovacuumCpuS: sum((w) => w.machine.autovacuumCpuS),
      dbCpuS: sum((w) => w.machine.dbCpuS),
      dbRunQueueS: sum((w) => w.machine.dbRunQueueS),
    },
    window: { start: first.window.start, end: windows.at(-1)!.window.end },
    ...(windows.every((w) => w.acquire) && { acquire: pooledAcquire(windows.map((w) => ({ ...w.acquire!, requests: w.requests }))) }),
    ...(windows.every((w) => w.dbWaits) && { dbWaits: mergeWaits(windows.map((w) => w.dbWaits!)) }),
  };
}

function pooledAcquire(stats: Array<AcquireStats & { requests: number }>): AcquireStats {
  const queries = stats.reduce((n, s) => n + s.queries, 0);
  const requests = stats.reduce((n, s) => n + s.requests, 0);
  const byQuery = (f: (s: AcquireStats) => number) => stats.reduce((n, s) => n + f(s) * s.queries, 0) / Math.max(1, queries);
  const byRequest = (f: (s: AcquireStats) => number) => stats.reduce((n, s) => n + f(s) * s.requests, 0) / Math.max(1, requests);
  const worst = (f: (s: AcquireStats) => number | undefined) => (stats.some((s) => f(s) === undefined) ? undefined : Math.max(...stats.map((s) => f(s)!)));
  return {
    queries,
    borrowed: byQuery((s) => s.borrowed),
    meanWaitMs: byQuery((s) => s.meanWaitMs),
    over5ms: byQuery((s) => s.over5ms),
    serverOver25ms: byRequest((s) => s.serverOver25ms),
    serverOver50ms: byRequest((s) => s.serverOver50ms),
    loopDelayP99Ms: worst((s) => s.loopDelayP99Ms),
    loopDelayMaxMs: worst((s) => s.loopDelayMaxMs),
  };
}
