// bench/lib/load.ts pooledPercentileMs: several wrk runs' percentiles together, from each run's tail.
import { describe, expect, it } from 'vitest';
import { pooledPercentileMs, TAIL_FROM_PERCENT, TAIL_STEP_PERCENT } from './load.ts';

// What wrk's done() prints for a run (stats_percentile: the smallest value whose cumulative count reaches the rank; then the max).
function wrkTail(samplesUs: number[]): number[] {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length, Math.round((p / 100) * sorted.length + 0.5)) - 1]!;
  const steps = Math.round((100 - TAIL_FROM_PERCENT) / TAIL_STEP_PERCENT);
  return [...Array.from({ length: steps }, (_, k) => at(TAIL_FROM_PERCENT + k * TAIL_STEP_PERCENT)), sorted.at(-1)!];
}

function exactPercentileMs(samplesUs: number[], p: number): number {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]! / 1000;
}

// A deterministic generator: the test's samples are the same on every run.
function lcg(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('pooledPercentileMs', () => {
  it('takes a slow run and a fast one together: the p99 of the whole is the slow run\'s body, not either run\'s own p99', () => {
    const fast = Array.from({ length: 1000 }, () => 10_000);
    const slow = Array.from({ length: 1000 }, () => 20_000);
    expect(pooledPercentileMs([{ requests: 1000, tailUs: wrkTail(fast) }, { requests: 1000, tailUs: wrkTail(slow) }], 99)).toBe(20);
    // 1% slow requests in one run of two: 0.5% of the whole, so the pooled p99 is the fast value.
    const spiky = [...Array.from({ length: 990 }, () => 10_000), ...Array.from({ length: 10 }, () => 500_000)];
    expect(pooledPercentileMs([{ requests: 1000, tailUs: wrkTail(fast) }, { requests: 1000, tailUs: wrkTail(spiky) }], 99)).toBe(10);
    expect(pooledPercentileMs([{ requests: 1000, tailUs: wrkTail(spiky) }], 99.5)).toBe(500);
  });

  it('matches the exact percentile of all samples to within the tail grid, and never falls below it', () => {
    const rand = lcg(42);
    const runs = Array.from({ length: 9 }, (_, i) => Array.from({ length: 5000 + i * 300 }, () => Math.round(1000 + 2000 * rand() + (rand() < 0.01 * (i + 1) ? 100_000 * rand() : 0))));
    const all = runs.flat();
    const pooled = runs.map((r) => ({ requests: r.length, tailUs: wrkTail(r) }));
    for (const p of [90, 99, 99.9]) {
      const exact = exactPercentileMs(all, p);
      const got = pooledPercentileMs(pooled, p);
      expect(got).toBeGreaterThanOrEqual(exact);
      // Within the samples of the next grid step of the largest run.
      expect(got).toBeLessThanOrEqual(exactPercentileMs(all, Math.min(100, p + 2 * TAIL_STEP_PERCENT)));
    }
  });
});
