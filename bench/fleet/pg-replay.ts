// `node bench/fleet/pg-replay.ts (--url URL | --embedded DIR) [--tenants N] [--seconds S] [--passes P] [--shared]`:
// the reference read's SQL straight through pg, no Node server, over the first N
// fleet tenants (bench/fleet/fill.ts): what PostgreSQL itself pays per query for the
// spread. Ten connections; each serves its own tenth of the tenants (ideal tenant
// affinity; --shared: every connection serves every tenant) after P passes over
// them, so their catalog caches are warm; then S seconds measured. Prints queries/s,
// the backends' CPU per query (/proc) and PostgreSQL blocks per query. Used for the
// open-files finding in docs/scaling.md; run beside `strace -c -p <pid>` (it prints
// the backends' pids) to count the system calls of a query.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres.ts';
import { FLEET_PREFIX } from './fleet.ts';
import { blockCounters, sumCpu } from '../lib/proc.ts';

const { values } = parseArgs({
  options: { url: { type: 'string' }, embedded: { type: 'string' }, tenants: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '15' }, passes: { type: 'string', default: '2' }, shared: { type: 'boolean', default: false } },
});
if (!values.url && !values.embedded) {
  process.stderr.write('usage: node bench/fleet/pg-replay.ts (--url URL | --embedded DIR) [--tenants N] [--seconds S] [--passes P] [--shared]\n');
  process.exit(2);
}
const embedded = values.embedded ? await startEmbeddedPostgres({ dataDir: values.embedded, port: 0, log: (m) => process.stderr.write(`${m}\n`) }) : undefined;
const url = embedded?.url ?? values.url!;
const CONNECTIONS = 10;
const clients = await Promise.all(
  Array.from({ length: CONNECTIONS + 1 }, async () => {
    const c = new pg.Client({ connectionString: url, application_name: 'plinth-pg-replay' });
    await c.connect();
    return c;
  }),
);
const admin = clients.pop()!;
try {
  const { rows } = await admin.query<{ schema_name: string }>('select schema_name from public.tenants where slug like $1 order by created_at limit $2', [`${FLEET_PREFIX}-%`, Number(values.tenants)]);
  const schemas = rows.map((r) => r.schema_name);
  const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid));
  process.stdout.write(`backends: ${pids.join(' ')}\n`);
  // The list query Plinth sends for GET /v1/contacts?limit=50 (pg_stat_statements of a Plinth run).
  const query = (schema: string) => `select * from "${schema}"."contacts" where true and "deleted_at" is null order by "created_at" desc, "id" desc limit $1`;
  const mine = (i: number) => (values.shared ? schemas : schemas.filter((_, j) => j % CONNECTIONS === i));
  const t0 = performance.now();
  await Promise.all(clients.map(async (c, i) => { for (let p = 0; p < Number(values.passes); p++) for (const s of mine(i)) await c.query(query(s), [51]); }));
  process.stdout.write(`warm-up: ${values.passes} passes in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const database = (await admin.query<{ name: string }>('select current_database() as name')).rows[0]!.name;
  const b0 = await blockCounters(admin, database);
  const c0 = sumCpu(pids);
  const end = Date.now() + Number(values.seconds) * 1000;
  let n = 0;
  const t1 = performance.now();
  await Promise.all(clients.map(async (c, i) => { const m = mine(i); for (let k = i * 997; Date.now() < end; k++, n++) await c.query(query(m[k % m.length]!), [51]); }));
  const s = (performance.now() - t1) / 1000;
  const cpuUs = ((sumCpu(pids) - c0) * 1e6) / n;
  const b1 = await blockCounters(admin, database);
  process.stdout.write(
    `${schemas.length} tenants, ${values.shared ? 'every connection serves every tenant' : 'each connection its own tenth'}: ${(n / s).toFixed(0)} queries/s, ` +
      `PostgreSQL CPU ${cpuUs.toFixed(0)} µs/query, blocks/query ${((b1.read - b0.read) / n).toFixed(2)} read + ${((b1.hit - b0.hit) / n).toFixed(1)} hit\n`,
  );
} finally {
  await Promise.all([...clients, admin].map((c) => c.end()));
  await embedded?.stop();
}
