// bench/lib/interleave.ts: one side's windows as one measurement, and the judged pair median.
import { describe, expect, it } from 'vitest';
import { median, pairRatios, pooled, type Window } from './interleave.ts';
import { TAIL_FROM_PERCENT, TAIL_STEP_PERCENT } from './load.ts';

const STEPS = Math.round((100 - TAIL_FROM_PERCENT) / TAIL_STEP_PERCENT);

/** A window whose requests all took `us` but the slowest `slowShare`, which took `slowUs` (a wrk tail as load.ts reads it). */
function window(requests: number, us: number, o: { slowShare?: number; slowUs?: number; cpuPer1k?: number; tail?: boolean } = {}): Window {
  const slowFrom = 100 - (o.slowShare ?? 0) * 100;
  const tailUs = [...Array.from({ length: STEPS }, (_, k) => (TAIL_FROM_PERCENT + k * TAIL_STEP_PERCENT >= slowFrom ? o.slowUs! : us)), o.slowShare ? o.slowUs! : us];
  const p99Ms = (o.slowShare ?? 0) > 0.01 ? o.slowUs! / 1000 : us / 1000;
  return {
    target: 'plinth',
    tool: 'wrk',
    requests,
    ok: requests,
    non2xx: 0,
    errors: 0,
    durationS: 10,
    rps: requests / 10,
    p50Ms: us / 1000,
    p99Ms,
    ...(o.tail !== false && { tailUs }),
    cpuPer1k: o.cpuPer1k ?? 1,
    dbCpuPer1k: 0.5,
    peakRssMb: 300,
    runQueueMsPerReq: 0.1,
    dbRunQueueMsPerReq: 0.2,
    machine: { saturatedShare: 0, stealShare: 0.01, maxIntervalStealShare: 0.05, autovacuumCpuS: 1, dbCpuS: 2, dbRunQueueS: 0.1 },
    window: { start: '2026-12-03T12:00:00.000Z', end: '2026-12-03T12:00:10.000Z' },
    fromMs: 0,
    toMs: 10_000,
  };
}

describe('median', () => {
  it('is the middle value of an odd count and the mean of the two middle ones of an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    // Not the lower middle: two pairs at 0.2× and 2.6× do not make a ratio of 0.2×.
    expect(median([0.2, 2.6])).toBeCloseTo(1.4);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('pairRatios', () => {
  it('divides each pair\'s second p99 by its first', () => {
    expect(pairRatios([10, 20, 40], [20, 20, 10])).toEqual([2, 1, 0.25]);
  });
});

describe('pooled', () => {
  it('sums counts and weighs CPU per request by requests', () => {
    const m = pooled([window(5000, 2000, { cpuPer1k: 1 }), window(15000, 2000, { cpuPer1k: 2 })]);
    expect(m.requests).toBe(20000);
    expect(m.durationS).toBe(20);
    expect(m.rps).toBe(1000);
    expect(m.cpuPer1k).toBeCloseTo(1.75);
    expect(m.machine.autovacuumCpuS).toBe(2);
    expect(m.machine.maxIntervalStealShare).toBe(0.05);
  });

  it('takes p99 over all requests: one window with 5% slow requests among nine fast ones sets it, one with 0.5% does not', () => {
    const fast = Array.from({ length: 9 }, () => window(5000, 2000));
    expect(pooled([...fast, window(5000, 2000, { slowShare: 0.05, slowUs: 300_000 })]).p99Ms).toBe(2);
    expect(pooled([...fast.slice(0, 4), window(5000, 2000, { slowShare: 0.05, slowUs: 300_000 })]).p99Ms).toBe(300);
  });

  it('without tails (autocannon) takes the worst window\'s p99, erring high', () => {
    const m = pooled([window(5000, 2000, { tail: false }), window(5000, 2000, { tail: false, slowShare: 0.02, slowUs: 80_000 })]);
    expect(m.p99Ms).toBe(80);
  });
});
