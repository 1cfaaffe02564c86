// CSV import of companies: dry run vs real run, per-row errors, no partial
// commit of a failed batch, duplicate policies, column mapping, retries
// creating nothing twice; the five standard checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'ima'), createTenant(h, 'imb')]);
});
afterAll(() => h?.close());

const csv = { 'content-type': 'text/csv' };
const run = async (t: TestTenant, query: string, body: string, role: 'owner' | 'member' = 'owner') => {
  const res = await as(h, t, role)({ method: 'POST', url: `/v1/companies/import?${query}`, headers: csv, payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { rows: number; created: number; updated: number; skipped: number; notWritten: number; errorCount: number; errors: Array<{ line: number; field?: string; detail: string }> };
};
const names = async (t: TestTenant) => ((await as(h, t)({ method: 'GET', url: '/v1/companies?sort=name&limit=200' })).json() as { data: Array<{ name: string; industry: string | null; custom: Record<string, unknown> }> }).data;

describe('POST /v1/companies/import', () => {
  const file = 'name,domain,employees\nAlpha,alpha.example,10\nBeta,beta.example,many\nGamma,https://www.Gamma.example/,5\nDelta,delta.example,1\n,eps.example,3\nZeta,alpha.example,2\n';

  it('dry run reports per-row errors and writes nothing; the real run writes only the clean batches', async () => {
    const t = await createTenant(h, 'imd');
    const dry = await run(t, 'dryRun=true&batchSize=2', file);
    expect(dry).toMatchObject({ rows: 6, created: 2, updated: 0, skipped: 0, notWritten: 4, errorCount: 3 });
    expect(dry.errors).toEqual([
      { line: 3, field: 'employees', detail: 'not a whole number' },
      { line: 6, field: 'name', detail: 'required' },
      { line: 7, field: 'domain', detail: 'domain alpha.example appears earlier in this file' },
    ]);
    expect(await names(t)).toEqual([]);
    const real = await run(t, 'batchSize=2', file);
    expect(real).toEqual(dry);
    // Batches of two: [Alpha, Beta✗] and [(blank)✗, Zeta✗] roll back whole; [Gamma, Delta] is written.
    expect((await names(t)).map((c) => c.name)).toEqual(['Delta', 'Gamma']);
  });

  it('a retry of the corrected file creates nothing twice (skip), then updates with a column mapping and custom fields', async () => {
    const t = await createTenant(h, 'imr');
    await as(h, t)({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'company', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] } });
    const good = 'name,domain\nAlpha,alpha.example\nBeta,beta.example\n';
    expect(await run(t, '', good)).toMatchObject({ created: 2, skipped: 0, errorCount: 0 });
    expect(await run(t, '', good)).toMatchObject({ created: 0, skipped: 2, errorCount: 0 });
    const mapped = 'Company,Website,Sector,Level\nAlpha Ltd,https://alpha.example,Software,gold\nNew Co,new.example,Retail,bronze\n';
    const mapping = encodeURIComponent(JSON.stringify({ Company: 'name', Website: 'domain', Sector: 'industry', Level: 'custom.tier' }));
    const res = await run(t, `onDuplicate=update&mapping=${mapping}`, mapped);
    expect(res).toMatchObject({ rows: 2, updated: 0, created: 0, notWritten: 2, errorCount: 1 });
    expect(res.errors).toEqual([{ line: 3, field: 'custom.tier', detail: 'expected one of gold, silver' }]);
    const fixed = mapped.replace('bronze', 'silver');
    expect(await run(t, `onDuplicate=update&mapping=${mapping}`, fixed)).toMatchObject({ updated: 1, created: 1, errorCount: 0 });
    expect((await names(t)).map((c) => [c.name, c.industry, c.custom.tier ?? null])).toEqual([
      ['Alpha Ltd', 'Software', 'gold'],
      ['Beta', null, null],
      ['New Co', 'Retail', 'silver'],
    ]);
    const create = await run(t, 'onDuplicate=create', 'name,domain\nAgain,alpha.example\n');
    expect(create.errors[0]).toMatchObject({ line: 2, field: 'domain' });
    expect((await run(b, '', good)).created).toBe(2); // another tenant's domains are not duplicates
  });

  it('400 for bad parameters or a broken file, 415 without text/csv, 401, 403 for a viewer', async () => {
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies/import?batchSize=0&onDuplicate=merge', headers: csv, payload: 'name\nX\n' }), 400, 'validation_failed');
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies/import?mapping=nope', headers: csv, payload: 'name\nX\n' }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/mapping');
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/companies/import?mapping=${encodeURIComponent('{"A":"password"}')}`, headers: csv, payload: 'A\nX\n' }), 400, 'validation_failed');
    const broken = await run(a, '', 'name,domain\n"Unclosed,x.example\n');
    expect(broken.errorCount).toBe(1);
    expect(broken.errors[0]!.detail).toMatch(/^CSV: /);
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies/import', payload: { name: 'X' } }), 415, 'unsupported_media_type');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/companies/import', headers: { ...csv, 'x-tenant': a.slug }, payload: 'name\nX\n' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/companies/import', headers: csv, payload: 'name\nX\n' }), 403, 'permission_denied');
    expect((await names(a)).map((c) => c.name)).not.toContain('X');
  });
});
