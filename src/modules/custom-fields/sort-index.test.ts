// Sort indexes of custom fields: creating a number field enqueues a job that
// builds an index the deals list's own SQL for `sort=-custom.<key>` uses
// (checked with EXPLAIN on the SQL the route ran); deleting drops it,
// restoring rebuilds it, an invalid leftover is rebuilt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../../app.ts';
import { FastCamelCasePlugin } from '../../platform/db/camel-case.ts';
import { scopeToTenant } from '../../platform/context.ts';
import type { TenantJobContext } from '../../platform/jobs/tasks.ts';
import type { Platform } from '../../platform/module.ts';
import { tenantRef } from '../../platform/http/access-guard.ts';
import { as, createTenant, testConfig, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { SORT_INDEX_TASK, sortIndexName, sortIndexTask } from './sort-index.ts';

let h: Harness;
let a: TestTenant;
let pool: pg.Pool;
/** Every statement the app runs, so the test EXPLAINs the list route's real SQL. */
const ran: CompiledQuery[] = [];

beforeAll(async () => {
  const config = testConfig();
  pool = new pg.Pool({ connectionString: config.DATABASE_URL!, max: 4 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), plugins: [new FastCamelCasePlugin()], log: (e) => void ran.push(e.query) });
  const app = await buildApp({ config, db, pool });
  await app.ready();
  h = { app, db, config, close: async () => { await app.close(); await db.destroy(); } } as unknown as Harness;
  a = await createTenant(h, 'cfix');
});
afterAll(() => h?.close());

const schema = () => a.tenant.schemaName;
const runTask = (fieldId: string) =>
  sortIndexTask.run({ fieldId }, { jobId: '0', attempt: 1, maxAttempts: 1, platform: {} as Platform, log: pino({ level: 'silent' }), tenant: tenantRef(a.tenant), db: scopeToTenant(h.db, schema()) } satisfies TenantJobContext);
const indexes = async () => (await sql<{ indexname: string; indexdef: string }>`select indexname, indexdef from pg_indexes where schemaname = ${schema()} and tablename = 'deals'`.execute(h.db)).rows;
const queued = async (fieldId: string) =>
  Number((await sql<{ n: string }>`select count(*) as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where t.identifier = ${SORT_INDEX_TASK} and j.key = ${`${SORT_INDEX_TASK}:${fieldId}`}`.execute(h.db)).rows[0]!.n);

async function planOfList(url: string): Promise<string> {
  ran.length = 0;
  const res = await as(h, a)({ method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  const list = ran.find((q) => /order by coalesce/i.test(q.sql) && /from "[^"]+"\."deals"/.test(q.sql));
  expect(list, 'the list query ran').toBeDefined();
  const client = await pool.connect();
  try {
    await client.query('begin');
    // On a small table the planner would rightly pick a seq scan and a sort; with both priced
    // out, only an index whose key is exactly the ORDER BY expression can serve the query.
    await client.query('set local enable_seqscan = off');
    await client.query('set local enable_sort = off');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain ${list!.sql}`, list!.parameters as unknown[]);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('rollback');
    client.release();
  }
}

describe('custom field sort indexes', () => {
  it('a number field gets, from its job, an index the list sorted by it scans; delete drops it, restore rebuilds it', async () => {
    const created = await as(h, a, 'admin')({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'deal', key: 'score', label: 'Score', type: 'number' } });
    expect(created.statusCode, created.body).toBe(201);
    const field = created.json() as { id: string };
    const name = sortIndexName(field.id);
    expect(await queued(field.id)).toBe(1);
    expect((await indexes()).map((i) => i.indexname)).not.toContain(name);
    expect(await planOfList('/v1/deals?sort=-custom.score&limit=25')).not.toContain(name);

    await runTask(field.id);
    const index = (await indexes()).find((i) => i.indexname === name);
    expect(index?.indexdef).toContain(`ON ${schema()}.deals USING btree (COALESCE(((custom ->> '${field.id}'::text))::numeric, '-Infinity'::numeric), id)`);
    expect(await planOfList('/v1/deals?sort=-custom.score&limit=25')).toMatch(new RegExp(`Index Scan Backward using ${name}`));
    expect(await planOfList('/v1/deals?sort=custom.score&limit=25')).toMatch(new RegExp(`Index Scan using ${name}`));
    await runTask(field.id); // idempotent: a second run leaves the one index
    expect((await indexes()).filter((i) => i.indexname === name)).toHaveLength(1);

    // A failed concurrent build leaves an invalid index: the next run drops and rebuilds it.
    await sql`update pg_index set indisvalid = false where indexrelid = ${`${schema()}.${name}`}::regclass`.execute(h.db);
    await runTask(field.id);
    const valid = await sql<{ v: boolean }>`select indisvalid as v from pg_index where indexrelid = ${`${schema()}.${name}`}::regclass`.execute(h.db);
    expect(valid.rows[0]!.v).toBe(true);

    expect((await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/custom-fields/${field.id}` })).statusCode).toBe(204);
    expect(await queued(field.id)).toBeGreaterThanOrEqual(1);
    await runTask(field.id);
    expect((await indexes()).map((i) => i.indexname)).not.toContain(name);

    expect((await as(h, a, 'admin')({ method: 'POST', url: `/v1/custom-fields/${field.id}/restore` })).statusCode).toBe(200);
    await runTask(field.id);
    expect((await indexes()).map((i) => i.indexname)).toContain(name);
  });

  it('currency fields are indexed too; date (its text→date cast is not immutable) and text fields get no job and no index', async () => {
    const budget = (await as(h, a, 'admin')({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'deal', key: 'budget', label: 'Budget', type: 'currency', currency: 'EUR' } })).json() as { id: string };
    expect(await queued(budget.id)).toBe(1);
    await runTask(budget.id);
    expect(await planOfList('/v1/deals?sort=custom.budget&limit=25')).toMatch(new RegExp(`Index Scan using ${sortIndexName(budget.id)}`));
    for (const spec of [{ key: 'renewal', type: 'date' }, { key: 'note', type: 'text' }]) {
      const f = (await as(h, a, 'admin')({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'deal', label: spec.key, ...spec } })).json() as { id: string };
      expect(await queued(f.id)).toBe(0);
      await runTask(f.id);
      expect((await indexes()).map((i) => i.indexname)).not.toContain(sortIndexName(f.id));
    }
  });
});
