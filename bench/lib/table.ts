// The summary table, as Markdown (readable in a terminal, pasteable into RESULTS.md).
import type { Row } from '../benchmarks/types.ts';

const HEADERS = ['benchmark', 'target', 'req/s', 'p50 ms', 'p99 ms', 'CPU s/1k req', 'PG CPU s/1k req', 'peak RSS MiB', 'ratio / notes'];

export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => {
    const m = r.measurement;
    if (!m) return [r.benchmark, r.target, '', '', '', '', '', '', r.values ? `${r.values.seconds} s; ${r.ratio}` : r.ratio];
    return [r.benchmark, r.target, m.rps.toFixed(0), m.p50Ms.toFixed(2), m.p99Ms.toFixed(2), m.cpuPer1k.toFixed(3), m.dbCpuPer1k.toFixed(3), m.peakRssMb.toFixed(0), r.ratio];
  });
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(HEADERS), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
