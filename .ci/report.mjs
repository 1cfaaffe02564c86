// Reads Vitest's JSON report: prints "passed failed" on the first line, then one
// line per failed test (or failed file) with the first line of its error. CI
// shows only the tail of the run's output, so .ci/run prints these at the end.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const r = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = (line) => process.stdout.write(`${line}\n`);
out(`${r.numPassedTests} ${r.numFailedTests}`);
const where = (f) => f.name.replace(`${process.cwd()}/`, '');
const first = (s) => String(s ?? '').split('\n')[0].slice(0, 300);
for (const f of r.testResults) {
  const failed = f.assertionResults.filter((t) => t.status === 'failed');
  for (const t of failed) out(`[ci] failed: ${where(f)} > ${t.fullName}: ${first(t.failureMessages[0])}`);
  if (f.status === 'failed' && failed.length === 0) out(`[ci] failed: ${where(f)}: ${first(f.message)}`);
}
