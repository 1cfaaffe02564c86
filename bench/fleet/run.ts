// `npx node bench/fleet/run.ts [--quick] [--tenants N]`: the fleet benchmarks on their own,
// in a fresh database (DATABASE_URL's server, else an embedded PostgreSQL).
// bench/run.ts can run them too by registering `fleet` from ./fleet.ts.
import { parseArgs } from 'node:util';
import { openBenchDatabase, type BenchDatabase } from '../lib/database.ts';
import { formatTable } from '../lib/table.ts';
import { fleet } from './fleet.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { migratePlatform } from '../../src/platform/db/platform-migrations.ts';

async function reuseDatabase(url: string): Promise<BenchDatabase> {
  const { db, pool } = createDatabase({ url, poolMax: 4, statementTimeoutMs: 0, applicationName: 'plinth-bench-harness' });
  await migratePlatform(db);
  return { url, name: new URL(url).pathname.slice(1), where: 'reused database', db, pool, close: () => db.destroy() };
}

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, tenants: { type: 'string' }, 'reuse-database': { type: 'string' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  process.stdout.write('node bench/fleet/run.ts [--quick] [--tenants N] [--reuse-database URL]   (10,000 tenants; --quick: 300; --reuse-database: top up and measure a database an earlier run filled, kept afterwards)\n');
  process.exit(0);
}
const started = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
const reuse = values['reuse-database'];
const database = reuse ? await reuseDatabase(reuse) : await openBenchDatabase(process.env.DATABASE_URL);
try {
  const result = await fleet({ database, quick: values.quick, log, tenants: values.tenants ? Number(values.tenants) : undefined });
  process.stdout.write(`\n${formatTable(result.rows)}\n\n${result.notes.map((n) => `- ${n}`).join('\n')}\n${JSON.stringify(result.data, null, 2)}\n`);
} finally {
  await database.close();
}
