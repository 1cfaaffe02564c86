// Import throughput: a CSV of N companies (with a custom field) posted to
// POST /v1/imports/companies through the real app (streamed into the staging
// table), then run by the job worker in batches of 500; timed to completion.
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx node bench/crm/import-companies.ts [--rows 100000]
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { openBenchDatabase } from '../lib/database.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, createBenchTenant } from '../lib/fixtures.ts';
import { timed } from './stats.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const rows = Number(values.rows);
const database = await openBenchDatabase(process.env.DATABASE_URL);
const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', DEMO_SEED: 'false', JOBS_IN_API: 'true', JOBS_TASKS: 'crm.imports.*', JOBS_POLL_INTERVAL_MS: '200', JOBS_CRON: 'false' });
const { db, pool } = createDatabase({ url: database.url, poolMax: 4, statementTimeoutMs: 0 });
try {
  await createBenchTenant(database.db, 'crm-import', 0);
  const app = await buildApp({ config, db, pool });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant': 'crm-import' }, body: JSON.stringify({ email: BENCH_EMAIL, password: BENCH_PASSWORD }) });
  const headers = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`, 'x-tenant': 'crm-import' };
  await fetch(`${base}/v1/custom-fields`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ object: 'company', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] }) });
  // The file is generated while it is sent: neither side holds it whole.
  const file = () =>
    Readable.from(
      (function* () {
        yield 'name,domain,industry,employees,custom.tier\n';
        for (let i = 1; i <= rows; i++) yield `Company ${i},company${i}.example,Industry ${i % 20},${i % 5000},${i % 2 ? 'gold' : 'silver'}\n`;
      })(),
    );
  let uploadMs = 0;
  const post = async (query: string) => {
    const t0 = performance.now();
    const started = (await fetch(`${base}/v1/imports/companies?${query}`, { method: 'POST', headers: { ...headers, 'content-type': 'text/csv' }, body: Readable.toWeb(file()) as ReadableStream, duplex: 'half' } as RequestInit).then((r) => r.json())) as { id: string };
    uploadMs = performance.now() - t0;
    for (;;) {
      const imp = (await (await fetch(`${base}/v1/imports/${started.id}`, { headers })).json()) as Record<string, unknown>;
      if (imp.status === 'completed' || imp.status === 'failed') return { ...imp, uploadMs: Math.round(uploadMs) };
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const heapBefore = process.memoryUsage().rss;
  const [dry, dryMs] = await timed(() => post('dryRun=true'));
  const [real, realMs] = await timed(() => post(''));
  const [again, againMs] = await timed(() => post('onDuplicate=skip'));
  const rss = (process.memoryUsage().rss - heapBefore) / 1e6;
  process.stdout.write(`# Import ${rows} companies (${database.where}), batches of 500\n`);
  process.stdout.write(`dry run: ${(dryMs / 1000).toFixed(1)} s (${Math.round(rows / (dryMs / 1000))} rows/s) ${JSON.stringify({ ...dry, errors: undefined })}\n`);
  process.stdout.write(`import:  ${(realMs / 1000).toFixed(1)} s (${Math.round(rows / (realMs / 1000))} rows/s) ${JSON.stringify({ ...real, errors: undefined })}\n`);
  process.stdout.write(`retry (skip): ${(againMs / 1000).toFixed(1)} s ${JSON.stringify({ ...again, errors: undefined })}\n`);
  process.stdout.write(`process RSS growth over the three runs (client and server in one process): ${rss.toFixed(0)} MB\n`);
  await app.close();
} finally {
  await db.destroy();
  await database.close();
}
