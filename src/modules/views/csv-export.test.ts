// Streaming CSV export of deals and companies: every matching row (across
// many pages), list filters honoured, custom fields as columns; the five
// standard checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { parse } from 'csv-parse/sync';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'exa'), createTenant(h, 'exb')]);
  const field = await as(h, a)({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'deal', key: 'tags', label: 'Tags', type: 'multi_select', options: ['eu', 'us'] } });
  const fieldId = (field.json() as { id: string }).id;
  const stage = ((await as(h, a)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ id: string; stages: Array<{ id: string }> }> }).data[0]!;
  const owner = a.accounts.owner.id;
  // 1,234 deals straight into the tenant schema: more than two export pages.
  await sql`insert into ${sql.id(a.tenant.schemaName, 'deals')} (id, name, amount, currency, pipeline_id, stage_id, stage_changed_at, owner_id, custom, created_by, updated_by, created_at, updated_at)
    select gen_random_uuid(), 'Deal, "quoted" ' || i, i, 'EUR', ${stage.id}::uuid, ${stage.stages[0]!.id}::uuid, now(), ${owner}::uuid,
           jsonb_build_object(${fieldId}::text, jsonb_build_array('eu', 'us')), ${owner}::uuid, ${owner}::uuid, now() - i * interval '1 second', now()
    from generate_series(1, 1234) i`.execute(h.db);
  await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'Only company', domain: 'only.example' } });
});
afterAll(() => h?.close());

describe('GET /v1/deals/export.csv and /v1/companies/export.csv', () => {
  it('streams every matching deal once, with quoting and custom columns, honouring filters', async () => {
    const res = await as(h, a, 'viewer')({ method: 'GET', url: '/v1/deals/export.csv' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(res.body, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(1234);
    expect(new Set(rows.map((r) => r.id)).size).toBe(1234);
    expect(rows[0]).toMatchObject({ name: 'Deal, "quoted" 1', amount: '1.00', currency: 'EUR', 'custom.tags': 'eu; us', contactIds: '' });
    const filtered = parse((await as(h, a)({ method: 'GET', url: '/v1/deals/export.csv?filter=amount:gt:1000&sort=amount' })).body, { columns: true }) as Array<Record<string, string>>;
    expect(filtered.map((r) => r.amount)).toEqual(Array.from({ length: 234 }, (_, i) => `${1001 + i}.00`));
    const companies = parse((await as(h, a)({ method: 'GET', url: '/v1/companies/export.csv' })).body, { columns: true }) as Array<Record<string, string>>;
    expect(companies.map((c) => [c.name, c.domain])).toEqual([['Only company', 'only.example']]);
  });

  it('400 before streaming for bad parameters, 401, other tenant sees only its rows, 403 without membership', async () => {
    for (const url of ['/v1/deals/export.csv', '/v1/companies/export.csv']) {
      expect(expectProblem(await as(h, a)({ method: 'GET', url: `${url}?filter=nope:eq:1` }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/filter/0');
      expectProblem(await h.app.inject({ method: 'GET', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      const other = parse((await as(h, b)({ method: 'GET', url })).body, { columns: true }) as unknown[];
      expect(other).toEqual([]);
    }
    const x = await createTenant(h, 'exx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/deals/export.csv' }), 403, 'permission_denied');
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/companies/export.csv' }), 403, 'permission_denied');
  });
});
