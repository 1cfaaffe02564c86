// Lists that scale: filters on standard fields, multi-field sort with
// cursors, full-text search, saved views per user (five standard checks per
// route) and the cross-object search box.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Static } from 'typebox';
import type { SavedView } from './schemas.ts';
import { prefixTsQuery } from './filters.ts';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
type ViewJson = Static<typeof SavedView>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function post<T = { id: string }>(t: TestTenant, url: string, payload: object, role: 'owner' | 'member' | 'viewer' = 'owner'): Promise<T> {
  const res = await as(h, t, role)({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as T;
}
const noToken = (method: Method, url: string, t: TestTenant, payload?: object) => h.app.inject({ method, url, payload, headers: { 'x-tenant': t.slug } });
const names = async (t: TestTenant, url: string) => {
  const res = await as(h, t, 'viewer')({ method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: Array<{ name: string }> }).data.map((d) => d.name);
};

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'vwa'), createTenant(h, 'vwb')]);
  const acme = await post(a, '/v1/companies', { name: 'Acme Corporation', domain: 'acme-corp.example', industry: 'Manufacturing', employees: 500 });
  await post(a, '/v1/companies', { name: 'Acme Labs', domain: 'acmelabs.example', employees: 20 });
  await post(a, '/v1/companies', { name: 'Blue Sky', domain: 'bluesky.example', industry: 'Aviation', employees: 500 });
  await post(a, '/v1/contacts', { firstName: 'Wile', lastName: 'Coyote', email: 'wile@acme-corp.example' });
  const rows: Array<[string, string | null, string | null]> = [
    ['Rocket skates', '1500', '2026-05-01'],
    ['Giant magnet', '1500', '2026-04-01'],
    ['Anvil bulk order', '300', null],
    ['Earthquake pills', null, '2026-06-01'],
    ['Acme renewal', '900', '2026-04-01'],
  ];
  for (const [name, amount, closeDate] of rows) await post(a, '/v1/deals', { name, amount, currency: amount ? 'USD' : null, closeDate, companyId: name === 'Acme renewal' ? acme.id : null });
});
afterAll(() => h?.close());

describe('prefixTsQuery', () => {
  it('turns words into quoted prefix terms and drops operators', () => {
    expect(prefixTsQuery('Acme  corp')).toBe("'acme':* & 'corp':*");
    expect(prefixTsQuery("o'brien & | !")).toBe("'o':* & 'brien':*");
    expect(prefixTsQuery('!!!')).toBeNull();
  });
});

describe('list filters, multi-field sort and full-text search', () => {
  it('filters on standard fields: eq, neq, in, ranges, contains, empty', async () => {
    expect(await names(a, '/v1/deals?filter=amount:eq:1500&sort=name')).toEqual(['Giant magnet', 'Rocket skates']);
    expect(await names(a, '/v1/deals?filter=amount:neq:1500&sort=name')).toEqual(['Acme renewal', 'Anvil bulk order', 'Earthquake pills']);
    expect(await names(a, '/v1/deals?filter=closeDate:in:2026-04-01,2026-06-01&sort=name')).toEqual(['Acme renewal', 'Earthquake pills', 'Giant magnet']);
    expect(await names(a, '/v1/deals?filter=amount:gt:300&filter=amount:lte:1500&sort=name')).toEqual(['Acme renewal', 'Giant magnet', 'Rocket skates']);
    expect(await names(a, '/v1/deals?filter=name:contains:KATE')).toEqual(['Rocket skates']);
    expect(await names(a, '/v1/deals?filter=closeDate:empty')).toEqual(['Anvil bulk order']);
    expect(await names(a, '/v1/deals?filter=companyId:not_empty')).toEqual(['Acme renewal']);
    expect(await names(a, '/v1/companies?filter=industry:empty')).toEqual(['Acme Labs']);
  });

  it('sorts on several fields in mixed directions and pages through them exactly once', async () => {
    const expected = ['Giant magnet', 'Rocket skates', 'Acme renewal', 'Anvil bulk order', 'Earthquake pills'];
    expect(await names(a, '/v1/deals?sort=-amount,closeDate')).toEqual(expected);
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await as(h, a)({ method: 'GET', url: `/v1/deals?sort=-amount,closeDate&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}` })).json() as { data: Array<{ name: string }>; nextCursor: string | null };
        seen.push(...page.data.map((d) => d.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(expected);
    }
    expect(await names(a, '/v1/companies?sort=-employees,name')).toEqual(['Acme Corporation', 'Blue Sky', 'Acme Labs']);
  });

  it('full-text search matches word prefixes over name and domain', async () => {
    expect(await names(a, '/v1/companies?search=acm&sort=name')).toEqual(['Acme Corporation', 'Acme Labs']);
    expect(await names(a, '/v1/companies?search=acme cor')).toEqual(['Acme Corporation']);
    expect(await names(a, '/v1/companies?search=bluesky.example')).toEqual(['Blue Sky']);
    expect(await names(a, '/v1/deals?search=rock')).toEqual(['Rocket skates']);
    expect(await names(b, '/v1/companies?search=acme')).toEqual([]);
  });

  it('400 for bad filters and sorts with pointers', async () => {
    const bad = async (q: string, pointer: string) => expect(expectProblem(await as(h, a)({ method: 'GET', url: `/v1/deals?${q}` }), 400, 'validation_failed').errors?.[0]?.pointer).toBe(pointer);
    await bad('filter=amount:gte:lots', '/filter/0');
    await bad('filter=secret:eq:1', '/filter/0');
    await bad('filter=ownerId:gt:00000000-0000-7000-8000-000000000000', '/filter/0');
    await bad('sort=amount,amount', '/sort');
    await bad('sort=a,b,c,d,e', '/sort');
    await bad('sort=name;drop', '/sort');
  });
});

describe('saved views', () => {
  it('saves a view per user and applies it to the list, explicit parameters winning', async () => {
    const v = await post<ViewJson>(a, '/v1/views', { object: 'deal', name: ' Big April ', filters: ['amount:gte:900', 'closeDate:eq:2026-04-01'], sort: '-amount', columns: ['name', 'amount'] }, 'viewer');
    expect(v).toMatchObject({ name: 'Big April', accountId: a.accounts.viewer.id, filters: ['amount:gte:900', 'closeDate:eq:2026-04-01'], sort: '-amount', search: null, columns: ['name', 'amount'] });
    expect(await names(a, `/v1/deals?view=${v.id}`)).toEqual(['Giant magnet', 'Acme renewal']);
    expect(await names(a, `/v1/deals?view=${v.id}&sort=name`)).toEqual(['Acme renewal', 'Giant magnet']);
    expect(await names(a, `/v1/deals?view=${v.id}&filter=amount:lt:1000`)).toEqual(['Acme renewal']);
    const list = (await as(h, a, 'viewer')({ method: 'GET', url: '/v1/views?object=deal' })).json() as { data: ViewJson[] };
    expect(list.data.map((x) => x.id)).toEqual([v.id]);
    expect(((await as(h, a, 'member')({ method: 'GET', url: '/v1/views' })).json() as { data: ViewJson[] }).data).toEqual([]);
    expect(expectProblem(await as(h, a, 'member')({ method: 'GET', url: `/v1/deals?view=${v.id}` }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/view');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: `/v1/companies?view=${v.id}` }), 400, 'validation_failed');
  });

  it('POST: 400 for filters or sorts that cannot run, 401, 403 without membership', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/views', payload: { object: 'deal', name: 'X', filters: ['amount:gte:1', 'nope:eq:1'] } }), 400, 'validation_failed');
    expect(p.errors?.[0]).toMatchObject({ in: 'body', pointer: '/filters/1' });
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/views', payload: { object: 'company', name: 'X', sort: 'amount' } }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/sort');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/views', payload: { object: 'invoice', name: '' } }), 400, 'validation_failed');
    expectProblem(await noToken('POST', '/v1/views', a, { object: 'deal', name: 'X' }), 401, 'unauthenticated');
    const x = await createTenant(h, 'vwx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'POST', url: '/v1/views', payload: { object: 'deal', name: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/views' }), 403, 'permission_denied');
    expectProblem(await noToken('GET', '/v1/views', a), 401, 'unauthenticated');
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/views?object=x' }), 400, 'validation_failed');
  });

  it('GET, PATCH, DELETE one: happy, 400, 401, 404 for another user or tenant, 403 without membership', async () => {
    const v = await post<ViewJson>(a, '/v1/views', { object: 'company', name: 'Mine', filters: ['employees:gte:100'] }, 'member');
    const me = as(h, a, 'member');
    expect((await me({ method: 'GET', url: `/v1/views/${v.id}` })).json()).toEqual(v);
    const u = await me({ method: 'PATCH', url: `/v1/views/${v.id}`, payload: { name: 'Renamed', search: 'acme' } });
    expect(u.statusCode, u.body).toBe(200);
    expect(u.json()).toMatchObject({ name: 'Renamed', search: 'acme', filters: ['employees:gte:100'] });
    expect(await names(a, `/v1/companies?view=${v.id}`).catch(() => 'not mine')).toBe('not mine');
    const mine = (await me({ method: 'GET', url: `/v1/companies?view=${v.id}` })).json() as { data: Array<{ name: string }> };
    expect(mine.data.map((c) => c.name)).toEqual(['Acme Corporation']);
    expectProblem(await me({ method: 'PATCH', url: `/v1/views/${v.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await me({ method: 'PATCH', url: `/v1/views/${v.id}`, payload: { filters: ['employees:gte:many'] } }), 400, 'validation_failed');
    for (const [method, payload] of [['GET', undefined], ['PATCH', { name: 'X' }], ['DELETE', undefined]] as const) {
      expectProblem(await me({ method, url: '/v1/views/x', payload }), 400, 'validation_failed');
      expectProblem(await noToken(method, `/v1/views/${v.id}`, a, payload), 401, 'unauthenticated');
      expectProblem(await as(h, a, 'owner')({ method, url: `/v1/views/${v.id}`, payload }), 404, 'not_found');
      expectProblem(await as(h, b)({ method, url: `/v1/views/${v.id}`, payload }), 404, 'not_found');
    }
    const x = await createTenant(h, 'vwy');
    const theirs = await post<ViewJson>(x, '/v1/views', { object: 'deal', name: 'T' }, 'viewer');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) expectProblem(await as(h, x, 'viewer')({ method, url: `/v1/views/${theirs.id}`, payload: method === 'PATCH' ? { name: 'X' } : undefined }), 403, 'permission_denied');
    expect((await me({ method: 'DELETE', url: `/v1/views/${v.id}` })).statusCode).toBe(204);
    expectProblem(await me({ method: 'GET', url: `/v1/views/${v.id}` }), 404, 'not_found');
  });
});

describe('GET /v1/search', () => {
  it('finds companies, people (by email too) and deals by word prefix, only in the caller tenant', async () => {
    const res = await as(h, a, 'viewer')({ method: 'GET', url: '/v1/search?q=acme' });
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json() as { companies: Array<{ name: string }>; contacts: Array<{ email: string }>; deals: Array<{ name: string }> };
    expect(r.companies.map((c) => c.name).sort()).toEqual(['Acme Corporation', 'Acme Labs']);
    expect(r.deals.map((d) => d.name)).toEqual(['Acme renewal']);
    const wile = (await as(h, a)({ method: 'GET', url: '/v1/search?q=wile' })).json() as typeof r;
    expect(wile.contacts.map((c) => c.email)).toEqual(['wile@acme-corp.example']);
    expect((await as(h, b)({ method: 'GET', url: '/v1/search?q=acme' })).json()).toEqual({ companies: [], contacts: [], deals: [] });
  });

  it('400 without q, 401, 403 without membership', async () => {
    expect(expectProblem(await as(h, a)({ method: 'GET', url: '/v1/search' }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/q');
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/search?q=a&limit=500' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', '/v1/search?q=acme', a), 401, 'unauthenticated');
    const x = await createTenant(h, 'vwz');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/search?q=acme' }), 403, 'permission_denied');
  });
});
