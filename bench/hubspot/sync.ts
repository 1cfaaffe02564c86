// HubSpot sync throughput and API economy against the local HubSpot-shaped
// server: a first full pull of N companies + N contacts + N deals, an
// incremental run with nothing changed, then a push of N Plinth-side edits.
// Prints records/s and HubSpot requests per 1,000 records, the figure that
// matters against HubSpot's 100–190 requests per 10 s (the baseline column is
// one request per record, what a naive per-record sync would send).
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx node bench/hubspot/sync.ts [--records 1000]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pino from 'pino';
import { openBenchDatabase } from '../lib/database.ts';
import { createBenchTenant } from '../lib/fixtures.ts';
import { scopeToTenant } from '../../src/platform/context.ts';
import { hubspotClient } from '../../src/modules/hubspot/client.ts';
import { startFakeHubSpot } from '../../src/modules/hubspot/fake-hubspot.ts';
import * as repo from '../../src/modules/hubspot/repository.ts';
import { runSync } from '../../src/modules/hubspot/sync.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000' } } });
const n = Number(values.records);
const out = (s: string) => process.stdout.write(`${s}\n`);
const token = 'pat-bench-token-0000';

const database = await openBenchDatabase(process.env.DATABASE_URL);
const fake = await startFakeHubSpot({ token });
try {
  const { tenant, ownerId } = await createBenchTenant(database.db, 'hubspot-bench', 0);
  const db = repo.hsDb(scopeToTenant(database.db, tenant.schemaName));
  await db.insertInto('hubspotConnection').values({ id: true, tokenEnc: 'unused', clientSecretEnc: null, portalId: '4242', fieldRules: '{}', defaultCurrency: 'USD', cursors: '{}', status: 'connected', connectedBy: ownerId, connectedAt: new Date(), updatedAt: new Date() }).execute();
  for (let i = 0; i < n; i++) {
    const c = fake.seed('companies', { name: `Company ${i}`, domain: `company${i}.example`, numberofemployees: String(i % 500) });
    const p = fake.seed('contacts', { firstname: `First${i}`, lastname: `Last${i}`, email: `person${i}@company${i}.example` });
    const d = fake.seed('deals', { dealname: `Deal ${i}`, amount: String(1000 + i), deal_currency_code: 'EUR', pipeline: 'default', dealstage: 'qualifiedtobuy' });
    fake.associate('deals', d, 'companies', c, 5);
    fake.associate('deals', d, 'contacts', p, 3);
  }
  const log = pino({ level: 'silent' });
  const run = async (label: string) => {
    const conn = (await repo.getConnection(db))!;
    const before = fake.log.length;
    const started = performance.now();
    const result = await runSync({ db, client: hubspotClient({ baseUrl: fake.baseUrl, token }), conn, batch: 100, log });
    const ms = performance.now() - started;
    const requests = fake.log.length - before;
    const records = result.counts.pulled + result.counts.pushed;
    out(`| ${label} | ${records} | ${(ms / 1000).toFixed(2)} s | ${Math.round((records / ms) * 1000)} | ${requests} | ${records ? Math.round((requests / records) * 1000) : '-'} | ${records ? 1000 : '-'} | ${JSON.stringify(result.counts)} |`);
  };
  out(`# HubSpot sync, ${n} companies + ${n} contacts + ${n} deals (${database.where}, local HubSpot-shaped server, batches of 100)\n`);
  out('| run | records | time | records/s | HubSpot requests | requests per 1,000 records | baseline: one request per record | counts |');
  out('|---|---|---|---|---|---|---|---|');
  await run('first full pull');
  await run('incremental, nothing changed');
  await sql`update ${sql.id(tenant.schemaName, 'companies')} set employees = coalesce(employees, 0) + 1, updated_at = now()`.execute(database.db);
  await sql`update ${sql.id(tenant.schemaName, 'contacts')} set job_title = 'Buyer', updated_at = now()`.execute(database.db);
  await run('push of every company and contact edited in Plinth');
} finally {
  await fake.close();
  await database.close();
}
