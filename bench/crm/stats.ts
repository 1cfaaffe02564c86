// Timing helpers for the CRM benchmarks (server-side latency of one query).
import type pg from 'pg';

export interface Timing {
  p50: number;
  p95: number;
  max: number;
}

export async function timeQuery(pool: pg.Pool, text: string, params: unknown[] = [], runs = 40): Promise<Timing> {
  for (let i = 0; i < 5; i++) await pool.query(text, params); // warm caches
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await pool.query(text, params);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(runs / 2)]!, p95: ms[Math.floor(runs * 0.95)]!, max: ms.at(-1)! };
}

export const fmt = (t: Timing) => `p50 ${t.p50.toFixed(2)} ms, p95 ${t.p95.toFixed(2)} ms`;

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}
