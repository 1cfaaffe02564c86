// Ratios of a recorded run against the previous recorded run (bench/RESULTS.json):
// the ratios, not absolute numbers, are what stays comparable between runs on
// a shared machine, so a move of more than 10% is flagged.
import type { Row } from '../benchmarks/types.ts';

/** "benchmark | target | ratio name" → value. */
export type RecordedRatios = Record<string, number>;

export const THRESHOLD = 0.1;

export function ratioKeys(rows: Row[]): RecordedRatios {
  const out: RecordedRatios = {};
  for (const r of rows) for (const [name, value] of Object.entries(r.ratios ?? {})) if (Number.isFinite(value)) out[`${r.benchmark} | ${r.target} | ${name}`] = value;
  return out;
}

export function compareRatios(current: RecordedRatios, previous: RecordedRatios): string {
  const lines = ['| benchmark | target | ratio | this run | previous | change |', '|---|---|---|---|---|---|'];
  for (const key of Object.keys(current).sort()) {
    const now = current[key]!;
    const before = previous[key];
    let change = 'new';
    if (before !== undefined && before !== 0) {
      const delta = now / before - 1;
      change = `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(0)}%${Math.abs(delta) > THRESHOLD ? (delta < 0 ? ' **LOWER by >10%**' : ' **higher by >10%**') : ''}`;
    }
    lines.push(`| ${key.split(' | ').join(' | ')} | ${now.toFixed(2)} | ${before === undefined ? '' : before.toFixed(2)} | ${change} |`);
  }
  return lines.join('\n');
}
