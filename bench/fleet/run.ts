// `npx node bench/fleet/run.ts [--quick] [--tenants N]`: the fleet benchmarks on their own,
// in a fresh database (DATABASE_URL's server, else an embedded PostgreSQL).
// bench/run.ts can run them too by registering `fleet` from ./fleet.ts.
import { parseArgs } from 'node:util';
import { openBenchDatabase } from '../lib/database.ts';
import { formatTable } from '../lib/table.ts';
import { fleet } from './fleet.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, tenants: { type: 'string' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  process.stdout.write('node bench/fleet/run.ts [--quick] [--tenants N]   (10,000 tenants; --quick: 300)\n');
  process.exit(0);
}
const started = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
const database = await openBenchDatabase(process.env.DATABASE_URL);
try {
  const result = await fleet({ database, quick: values.quick, log, tenants: values.tenants ? Number(values.tenants) : undefined });
  process.stdout.write(`\n${formatTable(result.rows)}\n\n${result.notes.map((n) => `- ${n}`).join('\n')}\n${JSON.stringify(result.data, null, 2)}\n`);
} finally {
  await database.close();
}
