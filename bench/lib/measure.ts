// One measured load run against one server: warm-up, then the run, with the
// server's CPU (from /proc/<pid>/stat) read before and after, the database
// backends' CPU sampled through the run (proc.ts sampleMachine), and the
// server's peak RSS.
import type pg from 'pg';
import { runLoad, type LoadPlan, type LoadResult, type LoadTool } from './load.ts';
import { blockCounters, cpuSeconds, peakRssMb, runQueueSeconds, sampleMachine, type MachineTimeline } from './proc.ts';
import type { RunningServer } from './servers.ts';
import { sampleWaits, type WaitProfile } from './pg-waits.ts';

export interface Measurement extends LoadResult {
  target: string;
  /** Server process CPU seconds per 1,000 requests. */
  cpuPer1k: number;
  /** PostgreSQL backends' CPU seconds per 1,000 requests. */
  dbCpuPer1k: number;
  peakRssMb: number;
  /**
   * Time spent runnable but waiting for a CPU (/proc/<pid>/schedstat), ms per request: the server's
   * main thread (its event loop), and the PostgreSQL backends summed. High when the cores are contended.
   */
  runQueueMsPerReq: number;
  dbRunQueueMsPerReq: number;
  /** The whole machine over the run: how often it was saturated, and autovacuum's CPU. */
  machine: MachineTimeline;
  /** PostgreSQL buffer reads per request in the database, from outside shared buffers and from them (pg_stat_database; catalog lookups count too); only with RunSettings.countBlocks. */
  dbBlocksRead?: number;
  dbBlocksHit?: number;
  /** Sessions (connections) opened on the database during the run, by anyone (pg_stat_database); only with RunSettings.countBlocks. */
  dbSessionsOpened?: number;
  /** The measured window by the wall clock (ISO 8601, UTC), to set against PostgreSQL's log. */
  window: { start: string; end: string };
  /** Plinth's tenant queries over the window, from its /metrics (plinth_db_pool_acquire_seconds); absent for servers without it. */
  acquire?: AcquireStats;
  /** What the database's active backends were doing through the run (pg_stat_activity every 100 ms); only with RunSettings.sampleWaits. */
  dbWaits?: WaitProfile;
}

export interface AcquireStats {
  /** Tenant queries that got a connection. */
  queries: number;
  /** Share of them on a connection borrowed from another group. */
  borrowed: number;
  /** Mean wait for the connection, ms. */
  meanWaitMs: number;
  /** Share that waited more than 5 ms. */
  over5ms: number;
  /**
   * Share of the server's requests that took more than 25 and 50 ms by its own clock (http_request_duration_seconds:
   * Fastify's onRequest to onResponse, so without the time a request sat unread in the socket or its answer unread by
   * the client). Set beside the client's p99, it says whether a slow request was slow inside the handler (a pool wait,
   * a slow query) or around it (the event loop busy with other work before it read the request).
   */
  serverOver25ms: number;
  serverOver50ms: number;
  /** The server's event-loop delay over the run (prom-client's monitorEventLoopDelay, reset at each scrape), its 10 ms sampling interval taken off: p99 and max, ms. */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
}

/** prom-client's default eventLoopMonitoringPrecision (src/platform/metrics/metrics.ts keeps the default). */
const LOOP_MONITOR_RESOLUTION_MS = 10;

// loopP99S/loopMaxS: NaN when the server exports no event-loop delay.
type AcquireCounters = { count: number; borrowed: number; sumS: number; upTo5ms: number; loopP99S: number; loopMaxS: number; requests: number; upTo25ms: number; upTo50ms: number };

/** The pool-acquire histogram's totals from a Plinth server's /metrics, or undefined when the server has none. */
async function acquireCounters(url: string): Promise<AcquireCounters | undefined> {
  const text = await fetch(`${url}/metrics`)
    .then((r) => (r.ok ? r.text() : ''))
    .catch(() => '');
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  if (!text.includes('plinth_db_pool_acquire_seconds_count')) return undefined;
  return {
    count: sum(/^plinth_db_pool_acquire_seconds_count\{[^}]*\} (\S+)$/gm),
    borrowed: sum(/^plinth_db_pool_acquire_seconds_count\{group="other"\} (\S+)$/gm),
    sumS: sum(/^plinth_db_pool_acquire_seconds_sum\{[^}]*\} (\S+)$/gm),
    upTo5ms: sum(/^plinth_db_pool_acquire_seconds_bucket\{le="0.005"[^}]*\} (\S+)$/gm),
    requests: sum(/^http_request_duration_seconds_count\{[^}]*\} (\S+)$/gm),
    upTo25ms: sum(/^http_request_duration_seconds_bucket\{le="0.025"[^}]*\} (\S+)$/gm),
    upTo50ms: sum(/^http_request_duration_seconds_bucket\{le="0.05"[^}]*\} (\S+)$/gm),
    loopP99S: Number(/^plinth_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1] ?? Number.NaN),
    loopMaxS: Number(/^plinth_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? Number.NaN),
  };
}

function acquireStats(a: AcquireCounters | undefined, b: AcquireCounters | undefined): AcquireStats | undefined {
  if (!a || !b) return undefined;
  const queries = b.count - a.count;
  const share = (n: number) => (queries > 0 ? n / queries : 0);
  // The loop delay histogram restarts at each scrape: the second one covers the run. It records the
  // time between its timer's runs, so each value holds the timer's interval (prom-client's
  // eventLoopMonitoringPrecision, 10 ms by default; opentelemetry-js-contrib#2794): taken off here.
  const delayMs = (s: number) => Math.max(0, s * 1000 - LOOP_MONITOR_RESOLUTION_MS);
  const loop = Number.isNaN(b.loopP99S) ? {} : { loopDelayP99Ms: delayMs(b.loopP99S), loopDelayMaxMs: delayMs(b.loopMaxS) };
  const requests = b.requests - a.requests;
  const slower = (upToA: number, upToB: number) => (requests > 0 ? (requests - (upToB - upToA)) / requests : 0);
  return {
    queries,
    borrowed: share(b.borrowed - a.borrowed),
    meanWaitMs: share((b.sumS - a.sumS) * 1000),
    over5ms: share(queries - (b.upTo5ms - a.upTo5ms)),
    serverOver25ms: slower(a.upTo25ms, b.upTo25ms),
    serverOver50ms: slower(a.upTo50ms, b.upTo50ms),
    ...loop,
  };
}

export interface RunSettings {
  tool: LoadTool;
  connections: number;
  durationS: number;
  warmupS: number;
  maxRequests: number;
  /** Warm up for this many requests instead of warmupS seconds (e.g. a pass over every tenant). */
  warmupRequests?: number;
  /** The measured run at this fixed rate, requests a second (the warm-up runs flat out). */
  ratePerS?: number;
  /** Read PostgreSQL's block counters around the run: costs 2.2 s (they are flushed once a second). */
  countBlocks?: boolean;
  /** Sample the database's active backends' wait events through the run (bench/lib/pg-waits.ts). */
  sampleWaits?: boolean;
}

/** Flat out until `requests` requests have been answered, continuing the plan's rotation (so `requests` at least the rotation's length visits every variant). */
export async function warmUp(plan: LoadPlan, requests: number, tool: LoadTool): Promise<void> {
  // In runs of 5 s, each continuing the rotation where the last stopped: wrk stops sending
  // at its request cap but runs out its duration, and a long idle tail would let the
  // pool close its connections (30 s idle) before the measurement.
  for (let done = 0, stalls = 0; done < requests && stalls < 3; ) {
    const r = await runLoad({ ...plan, durationS: 5, maxRequests: requests - done, startAt: done }, tool);
    done += r.requests;
    stalls = r.requests === 0 ? stalls + 1 : 0;
  }
}

/** The run's warm-up: `warmupRequests` requests when set, else `warmupS` seconds. */
export async function warmUpFor(plan: LoadPlan, run: RunSettings): Promise<void> {
  if (run.warmupRequests) await warmUp(plan, run.warmupRequests, run.tool);
  else if (run.warmupS > 0) await runLoad({ ...plan, durationS: run.warmupS }, run.tool);
}

export async function measure(
  server: RunningServer,
  plan: Omit<LoadPlan, 'url' | 'connections' | 'durationS' | 'maxRequests'>,
  run: RunSettings,
  pg: { pool: pg.Pool; database: string },
): Promise<Measurement> {
  const full: LoadPlan = { ...plan, url: server.url, connections: run.connections, durationS: run.durationS, maxRequests: run.maxRequests };
  await warmUpFor(full, run);
  const blocks0 = run.countBlocks ? await blockCounters(pg.pool, pg.database) : undefined;
  const acquire0 = await acquireCounters(full.url);
  const cpu0 = cpuSeconds(server.pid);
  const queue0 = runQueueSeconds(server.pid);
  const stopSampling = sampleMachine(pg.database);
  const stopWaits = run.sampleWaits ? sampleWaits(pg.pool, pg.database) : undefined;
  let machineTimeline: MachineTimeline | undefined;
  const start = new Date().toISOString();
  let dbWaits: WaitProfile | undefined;
  // Both samplers stop whether or not the load ran: a failed run must not leave one polling.
  const load = await runLoad({ ...full, ratePerS: run.ratePerS }, run.tool).finally(async () => {
    machineTimeline = stopSampling();
    dbWaits = await stopWaits?.();
  });
  const window = { start, end: new Date().toISOString() };
  const acquire = acquireStats(acquire0, await acquireCounters(full.url));
  const per1k = (s: number) => (load.requests > 0 ? s / (load.requests / 1000) : 0);
  const result: Measurement = {
    target: server.name,
    ...load,
    cpuPer1k: per1k(cpuSeconds(server.pid) - cpu0),
    dbCpuPer1k: per1k(machineTimeline!.dbCpuS),
    peakRssMb: peakRssMb(server.pid),
    runQueueMsPerReq: per1k(runQueueSeconds(server.pid) - queue0),
    dbRunQueueMsPerReq: per1k(machineTimeline!.dbRunQueueS),
    machine: machineTimeline!,
    window,
    ...(acquire && { acquire }),
    ...(dbWaits && { dbWaits }),
    ...(blocks0 && (await blockCounters(pg.pool, pg.database).then((b) => ({ dbBlocksRead: (b.read - blocks0.read) / Math.max(1, load.requests), dbBlocksHit: (b.hit - blocks0.hit) / Math.max(1, load.requests), dbSessionsOpened: b.sessions - blocks0.sessions })))),
  };
  const bad = load.non2xx + load.errors;
  if (load.requests === 0 || bad > load.requests * 0.01) {
    // One request by hand, to show what the server answers.
    const sample = await fetch(full.url + plan.path, { method: plan.method, headers: { ...plan.headers, ...plan.headerSets[0] }, body: plan.body })
      .then(async (r) => `${r.status} ${(await r.text()).slice(0, 300)}`)
      .catch((e: Error) => e.message);
    throw new Error(`${server.name} ${plan.method} ${plan.path}: ${bad} of ${load.requests} requests failed (non-2xx ${load.non2xx}, errors ${load.errors}); a sample answer: ${sample}`);
  }
  return result;
}
