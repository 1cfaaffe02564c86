// CSV imports as background jobs: dry run vs real run with per-row errors
// (line and field), no partial commit of a failed batch, duplicate policies
// and column mapping, companies, contacts and deals, progress through
// GET /v1/imports/:id, idempotent re-sends and concurrent retries, the
// completion event and audit rows; the five standard checks per route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { scopeToTenant } from '../../platform/context.ts';
import { importTask } from './run.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp({ config: { JOBS_IN_API: 'true', JOBS_TASKS: 'crm.imports.*', JOBS_POLL_INTERVAL_MS: '200', JOBS_CRON: 'false' } });
  [a, b] = await Promise.all([createTenant(h, 'ima'), createTenant(h, 'imb')]);
});
afterAll(() => h?.close());

type ImportJson = {
  id: string;
  status: string;
  rows: number;
  processed: number;
  created: number;
  updated: number;
  skipped: number;
  notWritten: number;
  errorCount: number;
  errors: Array<{ line: number; field: string | null; detail: string }>;
};
const csv = { 'content-type': 'text/csv' };
const until = async <T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
};
const get = async (t: TestTenant, id: string) => (await as(h, t)({ method: 'GET', url: `/v1/imports/${id}` })).json() as ImportJson;
const finished = (t: TestTenant, id: string) => until(async () => {
  const imp = await get(t, id);
  return imp.status === 'completed' || imp.status === 'failed' ? imp : undefined;
});
const start = async (t: TestTenant, object: string, query: string, body: string, headers: Record<string, string> = {}) => {
  const res = await as(h, t)({ method: 'POST', url: `/v1/imports/${object}?${query}`, headers: { ...csv, ...headers }, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  return res.json() as ImportJson;
};
const run = async (t: TestTenant, object: string, query: string, body: string) => finished(t, (await start(t, object, query, body)).id);
const companies = async (t: TestTenant) =>
  ((await as(h, t)({ method: 'GET', url: '/v1/companies?sort=name&limit=200' })).json() as { data: Array<{ name: string; domain: string | null; industry: string | null; custom: Record<string, unknown> }> }).data;
const strip = ({ errors, rows, processed, created, updated, skipped, notWritten, errorCount }: ImportJson) => ({ errors, rows, processed, created, updated, skipped, notWritten, errorCount });

describe('POST /v1/imports/companies', () => {
  const file = 'name,domain,employees\nAlpha,alpha.example,10\nBeta,beta.example,many\nGamma,https://www.Gamma.example/,5\nDelta,delta.example,1\n,eps.example,3\nZeta,alpha.example,2\n';

  it('queues a job (202) whose progress GET shows; dry run reports per-row errors and writes nothing; the real run writes only clean batches', async () => {
    const t = await createTenant(h, 'imd');
    const queued = await start(t, 'companies', 'dryRun=true&batchSize=2', file);
    expect(queued).toMatchObject({ status: 'queued', rows: 6, processed: 0 });
    const dry = await finished(t, queued.id);
    expect(dry).toMatchObject({ status: 'completed', rows: 6, processed: 6, created: 2, updated: 0, skipped: 0, notWritten: 4, errorCount: 3 });
    expect(dry.errors).toEqual([
      { line: 3, field: 'employees', detail: 'not a whole number' },
      { line: 6, field: 'name', detail: 'required' },
      { line: 7, field: 'domain', detail: 'alpha.example appears earlier in this file' },
    ]);
    expect(await companies(t)).toEqual([]);
    const real = await run(t, 'companies', 'batchSize=2', file);
    expect(strip(real)).toEqual(strip(dry));
    // Batches of two: [Alpha, Beta✗] and [(blank)✗, Zeta✗] roll back whole; [Gamma, Delta] is written.
    expect((await companies(t)).map((c) => c.name)).toEqual(['Delta', 'Gamma']);
    // Written records carry the import in their timeline, and the batch is audited.
    const audit = await sql<{ action: string }>`select action from ${sql.id(t.tenant.schemaName, 'audit_log')} where target_id = ${real.id} order by seq`.execute(h.db);
    expect(audit.rows.map((r) => r.action)).toEqual(['crm.import.created', 'crm.import.batch_written', 'crm.import.completed']);
  });

  it('skip makes a re-run create nothing twice; update with a column mapping and custom fields; create refuses a taken domain', async () => {
    const t = await createTenant(h, 'imr');
    await as(h, t)({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'company', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] } });
    const good = 'name,domain\nAlpha,alpha.example\nBeta,beta.example\n';
    expect(await run(t, 'companies', '', good)).toMatchObject({ created: 2, skipped: 0, errorCount: 0 });
    expect(await run(t, 'companies', '', good)).toMatchObject({ created: 0, skipped: 2, errorCount: 0 });
    const mapped = 'Company,Website,Sector,Level\nAlpha Ltd,https://alpha.example,Software,gold\nNew Co,new.example,Retail,bronze\n';
    const mapping = encodeURIComponent(JSON.stringify({ Company: 'name', Website: 'domain', Sector: 'industry', Level: 'custom.tier' }));
    const bad = await run(t, 'companies', `onDuplicate=update&mapping=${mapping}`, mapped);
    expect(bad).toMatchObject({ rows: 2, updated: 0, created: 0, notWritten: 2, errorCount: 1 });
    expect(bad.errors).toEqual([{ line: 3, field: 'custom.tier', detail: 'expected one of gold, silver' }]);
    expect(await run(t, 'companies', `onDuplicate=update&mapping=${mapping}`, mapped.replace('bronze', 'silver'))).toMatchObject({ updated: 1, created: 1, errorCount: 0 });
    expect((await companies(t)).map((c) => [c.name, c.industry, c.custom.tier ?? null])).toEqual([
      ['Alpha Ltd', 'Software', 'gold'],
      ['Beta', null, null],
      ['New Co', 'Retail', 'silver'],
    ]);
    const create = await run(t, 'companies', 'onDuplicate=create', 'name,domain\nAgain,alpha.example\n');
    expect(create.errors[0]).toMatchObject({ line: 2, field: 'domain' });
    expect((await run(b, 'companies', '', good)).created).toBe(2); // another tenant's domains are not duplicates
  });

  it('a re-sent upload with the same Idempotency-Key returns the first import; concurrent retries of the job write each row once', async () => {
    const t = await createTenant(h, 'imi');
    const rows = Array.from({ length: 1200 }, (_, i) => `Co ${i},co${i}.example`).join('\n');
    const body = `name,domain\n${rows}\n`;
    const first = await start(t, 'companies', 'batchSize=100', body, { 'idempotency-key': 'upload-1' });
    const again = await as(h, t)({ method: 'POST', url: '/v1/imports/companies?batchSize=100', headers: { ...csv, 'idempotency-key': 'upload-1' }, payload: body });
    expect(again.statusCode).toBe(200);
    expect((again.json() as ImportJson).id).toBe(first.id);
    // Two more runs of the job race the worker's (as a retry of a slow attempt would): batches are serialised on the import row.
    const jobCtx = { jobId: 'test', attempt: 2, maxAttempts: 5, platform: h.app.platform, log: h.app.log, tenant: { id: t.tenant.id, slug: t.slug, displayName: t.tenant.displayName, schemaName: t.tenant.schemaName }, db: scopeToTenant(h.db, t.tenant.schemaName) };
    await Promise.all([importTask.run({ importId: first.id }, jobCtx), importTask.run({ importId: first.id }, jobCtx)]);
    const done = await finished(t, first.id);
    expect(done).toMatchObject({ status: 'completed', rows: 1200, processed: 1200, created: 1200, errorCount: 0 });
    const count = await sql<{ n: number }>`select count(*)::int as n, count(distinct domain)::int as d from ${sql.id(t.tenant.schemaName, 'companies')}`.execute(h.db);
    expect(count.rows[0]).toEqual({ n: 1200, d: 1200 });
    // A run after completion is a no-op; the staged rows are gone.
    await importTask.run({ importId: first.id }, jobCtx);
    expect((await get(t, first.id)).created).toBe(1200);
    expect((await sql<{ n: number }>`select count(*)::int as n from ${sql.id(t.tenant.schemaName, 'import_rows')}`.execute(h.db)).rows[0]!.n).toBe(0);
  });

  it('400 for bad parameters, mapping or a broken file (nothing queued); 415 without text/csv; 401; 403 for a viewer', async () => {
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/imports/companies?batchSize=0&onDuplicate=merge', headers: csv, payload: 'name\nX\n' }), 400, 'validation_failed');
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/imports/companies?mapping=nope', headers: csv, payload: 'name\nX\n' }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/mapping');
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/imports/companies?mapping=${encodeURIComponent('{"A":"password"}')}`, headers: csv, payload: 'A\nX\n' }), 400, 'validation_failed');
    const broken = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/imports/companies', headers: csv, payload: 'name,domain\nOk,ok.example\n"Unclosed,x.example\n' }), 400, 'validation_failed');
    expect(broken.detail).toMatch(/not valid CSV at line/);
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/imports/companies', headers: csv, payload: 'name,domain\n' }), 400, 'validation_failed');
    expect(((await as(h, a)({ method: 'GET', url: '/v1/imports' })).json() as { data: unknown[] }).data).toEqual([]);
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/imports/companies', payload: { name: 'X' } }), 415, 'unsupported_media_type');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/imports/companies', headers: { ...csv, 'x-tenant': a.slug }, payload: 'name\nX\n' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/imports/companies', headers: csv, payload: 'name\nX\n' }), 403, 'permission_denied');
    expect((await companies(a)).map((c) => c.name)).not.toContain('X');
  });
});

describe('POST /v1/imports/contacts and /v1/imports/deals', () => {
  it('imports people with several emails and phones and their company by domain; duplicates by primary email', async () => {
    const t = await createTenant(h, 'imc');
    await run(t, 'companies', '', 'name,domain\nAcme,acme.example\n');
    const file = 'firstName,lastName,email,emails,phones,jobTitle,companyDomain\nAda,Lovelace,ada@acme.example,ada.l@home.example;ADA@acme.example,+44 20 1234;+44 77 5555,CTO,acme.example\nBob,,bob@x.example,,,,nowhere.example\nCy,,not-an-email,,,,\n';
    const res = await run(t, 'contacts', 'batchSize=1', file);
    expect(res).toMatchObject({ rows: 3, created: 1, notWritten: 2, errorCount: 2 });
    expect(res.errors).toEqual([
      { line: 3, field: 'companyDomain', detail: 'no company with the domain nowhere.example' },
      { line: 4, field: 'email', detail: '"not-an-email" is not an email address' },
    ]);
    const list = (await as(h, t)({ method: 'GET', url: '/v1/contacts' })).json() as { data: Array<Record<string, unknown>> };
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ firstName: 'Ada', email: 'ada@acme.example', emails: ['ada@acme.example', 'ada.l@home.example'], phone: '+44 20 1234', phones: ['+44 20 1234', '+44 77 5555'], jobTitle: 'CTO' });
    expect(list.data[0]!.companyId).toEqual(expect.any(String));
    expect(await run(t, 'contacts', 'onDuplicate=update', 'email,jobTitle\nADA@acme.example,CEO\n')).toMatchObject({ updated: 1, created: 0 });
    expect(((await as(h, t)({ method: 'GET', url: '/v1/contacts' })).json() as { data: Array<{ jobTitle: string }> }).data[0]!.jobTitle).toBe('CEO');
  });

  it('imports deals into a stage by name, with company and stage history; amounts need a currency', async () => {
    const t = await createTenant(h, 'imdl');
    await run(t, 'companies', '', 'name,domain\nAcme,acme.example\n');
    const pipelines = (await as(h, t)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ id: string; stages: Array<{ id: string; name: string }> }> };
    const stage = pipelines.data[0]!.stages[1]!;
    const file = `name,amount,currency,closeDate,stage,companyDomain\nBig one,1200.50,eur,2027-01-31,${stage.name},acme.example\nNo currency,10,,,,\nBad stage,1,EUR,,Nope,\n`;
    const res = await run(t, 'deals', 'batchSize=1', file);
    expect(res).toMatchObject({ rows: 3, created: 1, errorCount: 2 });
    expect(res.errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'currency'],
      [4, 'stage'],
    ]);
    const deals = (await as(h, t)({ method: 'GET', url: '/v1/deals' })).json() as { data: Array<{ id: string; name: string; amount: string; currency: string; stageId: string; companyId: string }> };
    expect(deals.data).toMatchObject([{ name: 'Big one', amount: '1200.50', currency: 'EUR', stageId: stage.id, companyId: expect.any(String) }]);
    const history = (await as(h, t)({ method: 'GET', url: `/v1/deals/${deals.data[0]!.id}/stage-history` })).json() as { data: Array<{ toStageId: string }> };
    expect(history.data.map((x) => x.toStageId)).toEqual([stage.id]);
  });
});

describe('GET /v1/imports and /v1/imports/:id', () => {
  it('happy, 400, 401, other tenant 404, 403 for a viewer', async () => {
    const imp = await run(a, 'companies', '', 'name\nListed\n');
    const list = (await as(h, a)({ method: 'GET', url: '/v1/imports?object=company' })).json() as { data: Array<{ id: string }> };
    expect(list.data.map((i) => i.id)).toContain(imp.id);
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/imports/nope' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/imports?limit=0' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/imports/${imp.id}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/imports/${imp.id}` }), 404, 'not_found');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: `/v1/imports/${imp.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: '/v1/imports' }), 403, 'permission_denied');
  });
});
