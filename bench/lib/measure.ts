// One measured load run against one server: warm-up, then the run, with the
// server's CPU (from /proc/<pid>/stat) and the database backends' CPU read
// before and after, and the server's peak RSS.
import type pg from 'pg';
import { runLoad, type LoadPlan, type LoadResult, type LoadTool } from './load.ts';
import { backendPids, blockCounters, cpuSeconds, peakRssMb, sumCpu } from './proc.ts';
import type { RunningServer } from './servers.ts';

export interface Measurement extends LoadResult {
  target: string;
  /** Server process CPU seconds per 1,000 requests. */
  cpuPer1k: number;
  /** PostgreSQL backends' CPU seconds per 1,000 requests. */
  dbCpuPer1k: number;
  peakRssMb: number;
  /** PostgreSQL buffer reads per request in the database, from outside shared buffers and from them (pg_stat_database; catalog lookups count too). */
  dbBlocksRead: number;
  dbBlocksHit: number;
}

export interface RunSettings {
  tool: LoadTool;
  connections: number;
  durationS: number;
  warmupS: number;
  maxRequests: number;
  /** Warm up for this many requests instead of warmupS seconds (e.g. a pass over every tenant). */
  warmupRequests?: number;
}

export async function measure(
  server: RunningServer,
  plan: Omit<LoadPlan, 'url' | 'connections' | 'durationS' | 'maxRequests'>,
  run: RunSettings,
  pg: { pool: pg.Pool; database: string },
): Promise<Measurement> {
  const full: LoadPlan = { ...plan, url: server.url, connections: run.connections, durationS: run.durationS, maxRequests: run.maxRequests };
  if (run.warmupRequests) {
    // In runs of 5 s, each continuing the rotation where the last stopped: wrk stops sending
    // at its request cap but runs out its duration, and a long idle tail would let the
    // pool close its connections (30 s idle) before the measurement.
    for (let done = 0, stalls = 0; done < run.warmupRequests && stalls < 3; ) {
      const r = await runLoad({ ...full, durationS: 5, maxRequests: run.warmupRequests - done, startAt: done }, run.tool);
      done += r.requests;
      stalls = r.requests === 0 ? stalls + 1 : 0;
    }
  } else if (run.warmupS > 0) await runLoad({ ...full, durationS: run.warmupS }, run.tool);
  const backends = await backendPids(pg.pool, pg.database);
  const blocks0 = await blockCounters(pg.pool, pg.database);
  const cpu0 = cpuSeconds(server.pid);
  const db0 = sumCpu(backends);
  const load = await runLoad(full, run.tool);
  const per1k = (s: number) => (load.requests > 0 ? s / (load.requests / 1000) : 0);
  const result: Measurement = {
    target: server.name,
    ...load,
    cpuPer1k: per1k(cpuSeconds(server.pid) - cpu0),
    dbCpuPer1k: per1k(sumCpu(backends) - db0),
    peakRssMb: peakRssMb(server.pid),
    ...(await blockCounters(pg.pool, pg.database).then((b) => ({ dbBlocksRead: (b.read - blocks0.read) / Math.max(1, load.requests), dbBlocksHit: (b.hit - blocks0.hit) / Math.max(1, load.requests) }))),
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
