// Custom fields: definitions through the API (five standard checks per
// route), values validated on write, stored by id (renames keep them),
// filterable and sortable in lists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Static } from 'typebox';
import type { CustomField } from './schemas.ts';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

type FieldJson = Static<typeof CustomField>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function post<T = { id: string }>(t: TestTenant, url: string, payload: object, role: 'owner' | 'admin' | 'member' = 'owner'): Promise<T> {
  const res = await as(h, t, role)({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as T;
}
const noToken = (method: Method, url: string, t: TestTenant, payload?: object) => h.app.inject({ method, url, payload, headers: { 'x-tenant': t.slug } });

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'cfa'), createTenant(h, 'cfb')]);
});
afterAll(() => h?.close());

describe('custom field definitions', () => {
  it('an admin defines fields of every type; members and viewers read them', async () => {
    const specs = [
      { object: 'deal', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver', 'bronze'] },
      { object: 'deal', key: 'score', label: 'Score', type: 'number' },
      { object: 'deal', key: 'renewal', label: 'Renewal', type: 'date' },
      { object: 'deal', key: 'strategic', label: 'Strategic', type: 'boolean' },
      { object: 'deal', key: 'tags', label: 'Tags', type: 'multi_select', options: ['eu', 'us', 'apac'] },
      { object: 'deal', key: 'budget', label: 'Budget', type: 'currency', currency: 'EUR' },
      { object: 'deal', key: 'partner', label: 'Partner', type: 'relation', target: 'company' },
      { object: 'company', key: 'notes', label: 'Notes', type: 'text', required: true },
    ];
    for (const s of specs) expect(await post<FieldJson>(a, '/v1/custom-fields', s, 'admin')).toMatchObject({ ...s, createdBy: a.accounts.admin.id, deletedAt: null });
    const list = (await as(h, a, 'viewer')({ method: 'GET', url: '/v1/custom-fields?object=deal' })).json() as { data: FieldJson[] };
    expect(list.data.map((f) => f.key)).toEqual(['tier', 'score', 'renewal', 'strategic', 'tags', 'budget', 'partner']);
  });

  it('400 for bad definitions, 409 for a duplicate key, 401, 403 for a member', async () => {
    const bad = async (payload: object, pointer: string) => expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/custom-fields', payload }), 400, 'validation_failed').errors?.map((e) => e.pointer)).toContain(pointer);
    await bad({ object: 'deal', key: 'Bad Key', label: 'X', type: 'text' }, '/key');
    await bad({ object: 'deal', key: 'x1', label: 'X', type: 'select' }, '/options');
    await bad({ object: 'deal', key: 'x2', label: 'X', type: 'text', options: ['a'] }, '/options');
    await bad({ object: 'deal', key: 'x3', label: 'X', type: 'currency' }, '/currency');
    await bad({ object: 'deal', key: 'x4', label: 'X', type: 'relation' }, '/target');
    await bad({ object: 'invoice', key: 'x5', label: 'X', type: 'text' }, '/object');
    await post(a, '/v1/custom-fields', { object: 'company', key: 'dup', label: 'Dup', type: 'text' });
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'company', key: 'dup', label: 'Again', type: 'number' } }), 409, 'custom_field_key_taken');
    await post(a, '/v1/custom-fields', { object: 'deal', key: 'dup', label: 'Same key, other object', type: 'text' });
    expectProblem(await noToken('POST', '/v1/custom-fields', a, { object: 'deal', key: 'z', label: 'Z', type: 'text' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'deal', key: 'z', label: 'Z', type: 'text' } }), 403, 'permission_denied');
  });

  it('GET one and the list: 400, 401, other tenant 404, 403 without membership', async () => {
    const f = await post<FieldJson>(a, '/v1/custom-fields', { object: 'company', key: 'segment', label: 'Segment', type: 'text' });
    expect((await as(h, a, 'viewer')({ method: 'GET', url: `/v1/custom-fields/${f.id}` })).json()).toEqual(f);
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/custom-fields/x' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/custom-fields?object=invoice' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', `/v1/custom-fields/${f.id}`, a), 401, 'unauthenticated');
    expectProblem(await noToken('GET', '/v1/custom-fields', a), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/custom-fields/${f.id}` }), 404, 'not_found');
    expect(((await as(h, b)({ method: 'GET', url: '/v1/custom-fields' })).json() as { data: FieldJson[] }).data).toEqual([]);
    const x = await createTenant(h, 'cfx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/custom-fields' }), 403, 'permission_denied');
  });
});

describe('custom field values', () => {
  let t: TestTenant;
  let partner: { id: string };
  beforeAll(async () => {
    t = await createTenant(h, 'cfv');
    for (const s of [
      { key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver', 'bronze'] },
      { key: 'score', label: 'Score', type: 'number' },
      { key: 'renewal', label: 'Renewal', type: 'date' },
      { key: 'strategic', label: 'Strategic', type: 'boolean' },
      { key: 'tags', label: 'Tags', type: 'multi_select', options: ['eu', 'us', 'apac'] },
      { key: 'budget', label: 'Budget', type: 'currency', currency: 'EUR' },
      { key: 'partner', label: 'Partner', type: 'relation', target: 'company' },
    ]) await post(t, '/v1/custom-fields', { object: 'deal', ...s });
    partner = await post(t, '/v1/companies', { name: 'Partner Co' });
    const deals: Array<[string, Record<string, unknown>]> = [
      ['A', { tier: 'gold', score: 90, renewal: '2026-03-01', strategic: true, tags: ['eu', 'us'], budget: '1000.00', partner: partner.id }],
      ['B', { tier: 'silver', score: 75.5, renewal: '2026-01-15', strategic: false, tags: ['apac'] }],
      ['C', { tier: 'gold', score: 40, tags: ['us'] }],
      ['D', {}],
    ];
    for (const [name, custom] of deals) await post(t, '/v1/deals', { name, custom });
  });
  const names = async (query: string) => {
    const res = await as(h, t, 'viewer')({ method: 'GET', url: `/v1/deals?${query}` });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { data: Array<{ name: string }> }).data.map((d) => d.name);
  };

  it('validates each value on write with a pointer to the field; 422 for a relation to a missing record', async () => {
    const p = expectProblem(
      await as(h, t)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', custom: { tier: 'platinum', score: '12', renewal: '2026-02-30', strategic: 'yes', tags: ['mars'], budget: 12.5, nope: 1 } } }),
      400,
      'validation_failed',
    );
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/custom/budget', '/custom/nope', '/custom/renewal', '/custom/score', '/custom/strategic', '/custom/tags', '/custom/tier']);
    const theirs = await post(b, '/v1/companies', { name: 'Elsewhere' });
    expect(expectProblem(await as(h, t)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', custom: { partner: theirs.id } } }), 422, 'invalid_reference').errors?.[0]?.pointer).toBe('/custom/partner');
  });

  it('returns values by key, updates and clears them, and logs the change', async () => {
    const d = await post<{ id: string; custom: Record<string, unknown> }>(t, '/v1/deals', { name: 'Edit me', custom: { tier: 'bronze', tags: ['us', 'eu'] } });
    expect(d.custom).toEqual({ tier: 'bronze', tags: ['eu', 'us'] });
    const res = await as(h, t)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { custom: { tier: null, score: 5 } } });
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { custom: unknown }).custom).toEqual({ tags: ['eu', 'us'], score: 5 });
    const tl = (await as(h, t)({ method: 'GET', url: `/v1/deals/${d.id}/timeline` })).json() as { data: Array<{ change?: { changes: unknown } }> };
    expect(tl.data[0]!.change!.changes).toEqual({ tier: ['bronze', null], score: [null, 5] });
    expect((await as(h, t)({ method: 'DELETE', url: `/v1/deals/${d.id}` })).statusCode).toBe(204);
  });

  it('filters on custom fields: eq, in, ranges, contains, is empty, booleans and relations', async () => {
    expect(await names('filter=custom.tier:eq:gold&sort=name')).toEqual(['A', 'C']);
    expect(await names('filter=custom.tier:in:silver,bronze&sort=name')).toEqual(['B']);
    expect(await names('filter=custom.score:gte:75.5&sort=name')).toEqual(['A', 'B']);
    expect(await names('filter=custom.score:lt:80&filter=custom.score:gt:10&sort=name')).toEqual(['B', 'C']);
    expect(await names('filter=custom.renewal:lte:2026-02-01')).toEqual(['B']);
    expect(await names('filter=custom.tags:contains:us&sort=name')).toEqual(['A', 'C']);
    expect(await names('filter=custom.tags:contains:eu,us')).toEqual(['A']);
    expect(await names('filter=custom.renewal:empty&filter=name:in:A,B,C,D&sort=name')).toEqual(['C', 'D']);
    expect(await names('filter=custom.strategic:eq:true')).toEqual(['A']);
    expect(await names('filter=custom.budget:gte:999.99')).toEqual(['A']);
    expect(await names(`filter=custom.partner:eq:${partner.id}`)).toEqual(['A']);
  });

  it('sorts on custom fields (empty values first ascending) and pages across them', async () => {
    expect(await names('filter=name:in:A,B,C,D&sort=-custom.score')).toEqual(['A', 'B', 'C', 'D']);
    expect(await names('filter=name:in:A,B,C,D&sort=custom.renewal,name')).toEqual(['C', 'D', 'B', 'A']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await as(h, t)({ method: 'GET', url: `/v1/deals?filter=name:in:A,B,C,D&sort=custom.tier,-custom.score&limit=1${cursor ? `&cursor=${cursor}` : ''}` })).json() as { data: Array<{ name: string }>; nextCursor: string | null };
      seen.push(...page.data.map((d) => d.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['D', 'A', 'C', 'B']);
  });

  it('400 for filters and sorts on unknown fields, wrong operators or bad values', async () => {
    const bad = async (q: string, pointer: string) => expect(expectProblem(await as(h, t)({ method: 'GET', url: `/v1/deals?${q}` }), 400, 'validation_failed').errors?.[0]?.pointer).toBe(pointer);
    await bad('filter=custom.nope:eq:1', '/filter/0');
    await bad('filter=name:eq:A&filter=custom.score:contains:1', '/filter/1');
    await bad('filter=custom.score:gt:abc', '/filter/0');
    await bad('filter=custom.renewal:eq:2026-13-01', '/filter/0');
    await bad('filter=custom.tier:like:g', '/filter/0');
    await bad('filter=custom.tier:eq', '/filter/0');
    await bad('sort=custom.tags', '/sort');
    await bad('sort=custom.nope', '/sort');
  });

  it('values survive renaming the key; a deleted field hides its values until restored', async () => {
    const fields = ((await as(h, t)({ method: 'GET', url: '/v1/custom-fields?object=deal' })).json() as { data: FieldJson[] }).data;
    const tier = fields.find((f) => f.key === 'tier')!;
    const res = await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/custom-fields/${tier.id}`, payload: { key: 'level', label: 'Level' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(await names('filter=custom.level:eq:gold&sort=name')).toEqual(['A', 'C']);
    const a1 = ((await as(h, t)({ method: 'GET', url: '/v1/deals?filter=name:eq:A' })).json() as { data: Array<{ custom: Record<string, unknown> }> }).data[0]!;
    expect(a1.custom.level).toBe('gold');
    expect(a1.custom.tier).toBeUndefined();
    expect((await as(h, t, 'admin')({ method: 'DELETE', url: `/v1/custom-fields/${tier.id}` })).statusCode).toBe(204);
    const hidden = ((await as(h, t)({ method: 'GET', url: '/v1/deals?filter=name:eq:A' })).json() as { data: Array<{ custom: Record<string, unknown> }> }).data[0]!;
    expect(hidden.custom.level).toBeUndefined();
    expectProblem(await as(h, t)({ method: 'GET', url: '/v1/deals?filter=custom.level:eq:gold' }), 400, 'validation_failed');
    const restored = await as(h, t, 'admin')({ method: 'POST', url: `/v1/custom-fields/${tier.id}/restore` });
    expect(restored.statusCode, restored.body).toBe(200);
    expect(await names('filter=custom.level:eq:gold&sort=name')).toEqual(['A', 'C']);
    const stored = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(t.tenant.schemaName, 'deals')} where custom ? ${tier.id}`.execute(h.db);
    expect(stored.rows[0]!.n).toBe(3); // A, B and C keep their values under the field id
  });

  it('PATCH refuses removing an option in use (409), allows adding; 400, 401, 403, other tenant 404', async () => {
    const tags = ((await as(h, t)({ method: 'GET', url: '/v1/custom-fields?object=deal' })).json() as { data: FieldJson[] }).data.find((f) => f.key === 'tags')!;
    expectProblem(await as(h, t)({ method: 'PATCH', url: `/v1/custom-fields/${tags.id}`, payload: { options: ['eu', 'us'] } }), 409, 'conflict');
    expect(((await as(h, t)({ method: 'PATCH', url: `/v1/custom-fields/${tags.id}`, payload: { options: ['eu', 'us', 'apac', 'latam'] } })).json() as FieldJson).options).toEqual(['eu', 'us', 'apac', 'latam']);
    expectProblem(await as(h, t)({ method: 'PATCH', url: `/v1/custom-fields/${tags.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, t)({ method: 'PATCH', url: `/v1/custom-fields/${tags.id}`, payload: { type: 'text' } }), 400, 'validation_failed');
    expectProblem(await noToken('PATCH', `/v1/custom-fields/${tags.id}`, t, { label: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, t, 'member')({ method: 'PATCH', url: `/v1/custom-fields/${tags.id}`, payload: { label: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url: `/v1/custom-fields/${tags.id}`, payload: { label: 'X' } }), 404, 'not_found');
  });

  it('DELETE and restore: 400, 401, 403, other tenant 404; restore 409 when the key was reused', async () => {
    const f = await post<FieldJson>(t, '/v1/custom-fields', { object: 'company', key: 'temp', label: 'Temp', type: 'text' });
    expectProblem(await as(h, t)({ method: 'DELETE', url: '/v1/custom-fields/1' }), 400, 'validation_failed');
    expectProblem(await as(h, t)({ method: 'POST', url: '/v1/custom-fields/1/restore' }), 400, 'validation_failed');
    expectProblem(await noToken('DELETE', `/v1/custom-fields/${f.id}`, t), 401, 'unauthenticated');
    expectProblem(await noToken('POST', `/v1/custom-fields/${f.id}/restore`, t), 401, 'unauthenticated');
    expectProblem(await as(h, t, 'member')({ method: 'DELETE', url: `/v1/custom-fields/${f.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, t, 'member')({ method: 'POST', url: `/v1/custom-fields/${f.id}/restore` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/custom-fields/${f.id}` }), 404, 'not_found');
    await as(h, t)({ method: 'DELETE', url: `/v1/custom-fields/${f.id}` });
    expectProblem(await as(h, b)({ method: 'POST', url: `/v1/custom-fields/${f.id}/restore` }), 404, 'not_found');
    await post(t, '/v1/custom-fields', { object: 'company', key: 'temp', label: 'Temp 2', type: 'number' });
    expectProblem(await as(h, t)({ method: 'POST', url: `/v1/custom-fields/${f.id}/restore` }), 409, 'custom_field_key_taken');
  });

  it('required fields are enforced on create and when set to null', async () => {
    const t2 = await createTenant(h, 'cfr');
    await post(t2, '/v1/custom-fields', { object: 'company', key: 'region', label: 'Region', type: 'text', required: true });
    expect(expectProblem(await as(h, t2)({ method: 'POST', url: '/v1/companies', payload: { name: 'X' } }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/custom/region');
    const c = await post(t2, '/v1/companies', { name: 'X', custom: { region: 'EMEA' } });
    expectProblem(await as(h, t2)({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { custom: { region: null } } }), 400, 'validation_failed');
    expect((await as(h, t2)({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { name: 'Y' } })).statusCode).toBe(200);
  });
});
