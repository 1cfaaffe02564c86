// Companies: every route gets happy path, validation error, 401, another
// tenant's id 404 and missing permission 403, against the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Static } from 'typebox';
import type { Company } from './schemas.ts';
import { normaliseDomain } from './domain.ts';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'coa'), createTenant(h, 'cob')]);
});
afterAll(() => h?.close());

type CompanyJson = Static<typeof Company>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function create(t: TestTenant, body: Record<string, unknown>): Promise<CompanyJson> {
  const res = await as(h, t)({ method: 'POST', url: '/v1/companies', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const noToken = (method: Method, url: string, t: TestTenant, payload?: object) => h.app.inject({ method, url, payload, headers: { 'x-tenant': t.slug } });
const changesOf = async (t: TestTenant, id: string) =>
  (await sql<{ action: string; changes: Record<string, unknown> }>`select action, changes from ${sql.id(t.tenant.schemaName, 'record_changes')} where record_id = ${id} order by changed_at, id`.execute(h.db)).rows;

describe('normaliseDomain', () => {
  it('strips scheme, www, path, port and case; refuses non-domains', () => {
    expect(normaliseDomain('https://www.Acme.COM/about?x=1')).toBe('acme.com');
    expect(normaliseDomain('acme.co.uk:8080')).toBe('acme.co.uk');
    expect(normaliseDomain('bücher.de')).toBe('xn--bcher-kva.de');
    expect(normaliseDomain('not a domain')).toBeNull();
    expect(normaliseDomain('localhost')).toBeNull();
  });
});

describe('POST /v1/companies', () => {
  it('creates a company with a normalised domain, owned by the caller, and logs the creation', async () => {
    const c = await create(a, { name: ' Initech ', domain: 'https://www.Initech.example/about', industry: 'Software', employees: 120, address: '1 Main St' });
    expect(c).toMatchObject({ name: 'Initech', domain: 'initech.example', employees: 120, ownerId: a.accounts.owner.id, createdBy: a.accounts.owner.id, updatedBy: a.accounts.owner.id, deletedAt: null });
    expect((await changesOf(a, c.id)).map((r) => r.action)).toEqual(['created']);
  });

  it('400 for bad fields, with pointers', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: ' ', employees: -1, extra: true } }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/employees', '/extra', '/name']);
    const d = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'X', domain: 'no domain here' } }), 400, 'validation_failed');
    expect(d.errors?.[0]?.pointer).toBe('/domain');
  });

  it('409 for a domain another live company holds (after normalisation); other tenants may reuse it', async () => {
    await create(a, { name: 'Hooli', domain: 'hooli.example' });
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'Hooli 2', domain: 'WWW.HOOLI.example' } }), 409, 'company_domain_taken');
    await create(b, { name: 'Hooli', domain: 'hooli.example' });
  });

  it('422 for an owner outside the tenant', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'X', ownerId: b.accounts.owner.id } }), 422, 'invalid_reference');
    expect(p.errors?.[0]?.pointer).toBe('/ownerId');
  });

  it('401 without a token, 403 for a viewer', async () => {
    expectProblem(await noToken('POST', '/v1/companies', a, { name: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/companies', payload: { name: 'X' } }), 403, 'permission_denied');
  });
});

describe('GET /v1/companies/:id', () => {
  it('returns it; 400 bad id; 401; 404 from another tenant; 403 without membership', async () => {
    const c = await create(a, { name: 'Get Co' });
    const res = await as(h, a, 'viewer')({ method: 'GET', url: `/v1/companies/${c.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(c);
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/companies/nope' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', `/v1/companies/${c.id}`, a), 401, 'unauthenticated');
    const other = expectProblem(await as(h, b)({ method: 'GET', url: `/v1/companies/${c.id}` }), 404, 'not_found');
    const missing = expectProblem(await as(h, b)({ method: 'GET', url: '/v1/companies/00000000-0000-7000-8000-000000000000' }), 404, 'not_found');
    expect(other.detail).toBe(missing.detail);
    const t = await createTenant(h, 'cor');
    const own = await create(t, { name: 'Removed' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: `/v1/companies/${own.id}` }), 403, 'permission_denied');
  });
});

describe('GET /v1/companies', () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant(h, 'col');
    for (const [i, n] of ['Zeta', 'alpha', 'Beta', 'Gamma', 'Delta'].entries()) await create(t, { name: n, domain: `${n.toLowerCase()}.example`, employees: i * 10, industry: i % 2 ? 'Retail' : 'Software' });
  });

  it('pages by name with a cursor, every company exactly once', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(h, t, 'viewer')({ method: 'GET', url: `/v1/companies?limit=2&sort=name${cursor ? `&cursor=${cursor}` : ''}` });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { data: CompanyJson[]; nextCursor: string | null };
      names.push(...page.data.map((c) => c.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names).toEqual(['alpha', 'Beta', 'Delta', 'Gamma', 'Zeta']);
  });

  it('sorts by employees descending and filters by domain, industry and text', async () => {
    const bySize = (await as(h, t)({ method: 'GET', url: '/v1/companies?sort=-employees&limit=2' })).json() as { data: CompanyJson[] };
    expect(bySize.data.map((c) => c.name)).toEqual(['Delta', 'Gamma']);
    const byDomain = (await as(h, t)({ method: 'GET', url: '/v1/companies?domain=https://www.BETA.example/' })).json() as { data: CompanyJson[] };
    expect(byDomain.data.map((c) => c.name)).toEqual(['Beta']);
    const byIndustry = (await as(h, t)({ method: 'GET', url: '/v1/companies?industry=retail&sort=name' })).json() as { data: CompanyJson[] };
    expect(byIndustry.data.map((c) => c.name)).toEqual(['alpha', 'Gamma']);
    const byText = (await as(h, t)({ method: 'GET', url: '/v1/companies?q=AMM' })).json() as { data: CompanyJson[] };
    expect(byText.data.map((c) => c.name)).toEqual(['Gamma']);
  });

  it('400 for bad parameters and foreign cursors; 401; other tenant sees nothing; 403 without membership', async () => {
    const p = expectProblem(await as(h, t)({ method: 'GET', url: '/v1/companies?limit=0&sort=name;drop' }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/limit', '/sort']);
    expect(expectProblem(await as(h, t)({ method: 'GET', url: '/v1/companies?sort=secret' }), 400, 'validation_failed').errors?.[0]).toMatchObject({ in: 'query', pointer: '/sort' });
    expectProblem(await as(h, t)({ method: 'GET', url: '/v1/companies?cursor=xyz' }), 400, 'invalid_cursor');
    const first = (await as(h, t)({ method: 'GET', url: '/v1/companies?limit=1' })).json() as { nextCursor: string };
    expectProblem(await as(h, t)({ method: 'GET', url: `/v1/companies?sort=name&cursor=${first.nextCursor}` }), 400, 'invalid_cursor');
    expectProblem(await noToken('GET', '/v1/companies', t), 401, 'unauthenticated');
    expect(((await as(h, b)({ method: 'GET', url: '/v1/companies?q=example' })).json() as { data: CompanyJson[] }).data.some((c) => c.name === 'Zeta')).toBe(false);
    const x = await createTenant(h, 'cox');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.member.id).execute();
    expectProblem(await as(h, x, 'member')({ method: 'GET', url: '/v1/companies' }), 403, 'permission_denied');
  });
});

describe('PATCH /v1/companies/:id', () => {
  it('updates, records the diff for the timeline, and refuses a taken domain', async () => {
    const c = await create(a, { name: 'Patchy', domain: 'patchy.example', industry: 'Old' });
    const res = await as(h, a, 'member')({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { industry: null, name: 'Patchy Ltd' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Patchy Ltd', industry: null, domain: 'patchy.example', updatedBy: a.accounts.member.id });
    const log = await changesOf(a, c.id);
    expect(log.at(-1)).toEqual({ action: 'updated', changes: { name: ['Patchy', 'Patchy Ltd'], industry: ['Old', null] } });
    await create(a, { name: 'Holder', domain: 'holder.example' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { domain: 'holder.example' } }), 409, 'company_domain_taken');
  });

  it('400 empty patch; 401; 403 viewer; 404 other tenant; nothing changes', async () => {
    const c = await create(a, { name: 'Keep' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await noToken('PATCH', `/v1/companies/${c.id}`, a, { name: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { name: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url: `/v1/companies/${c.id}`, payload: { name: 'X' } }), 404, 'not_found');
    expect(((await as(h, a)({ method: 'GET', url: `/v1/companies/${c.id}` })).json() as CompanyJson).name).toBe('Keep');
  });
});

describe('DELETE /v1/companies/:id and POST /v1/companies/:id/restore', () => {
  it('soft-deletes, lists in the trash, frees the domain, restores (409 while the domain is taken)', async () => {
    const c = await create(a, { name: 'Trash', domain: 'trash.example' });
    expect((await as(h, a, 'member')({ method: 'DELETE', url: `/v1/companies/${c.id}` })).statusCode).toBe(204);
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/companies/${c.id}` }), 404, 'not_found');
    const trash = (await as(h, a)({ method: 'GET', url: '/v1/companies?deleted=true&domain=trash.example' })).json() as { data: CompanyJson[] };
    expect(trash.data.map((x) => x.id)).toEqual([c.id]);
    const taker = await create(a, { name: 'Taker', domain: 'trash.example' });
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/companies/${c.id}/restore` }), 409, 'company_domain_taken');
    await as(h, a)({ method: 'DELETE', url: `/v1/companies/${taker.id}` });
    const restored = await as(h, a)({ method: 'POST', url: `/v1/companies/${c.id}/restore` });
    expect(restored.statusCode, restored.body).toBe(200);
    expect(restored.json()).toMatchObject({ id: c.id, deletedAt: null });
    expect((await changesOf(a, c.id)).map((r) => r.action)).toEqual(['created', 'deleted', 'restored']);
  });

  it('400, 401, 403 and other-tenant 404 leave the company alone', async () => {
    const c = await create(a, { name: 'Stay' });
    expectProblem(await as(h, a)({ method: 'DELETE', url: '/v1/companies/1' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/companies/1/restore' }), 400, 'validation_failed');
    expectProblem(await noToken('DELETE', `/v1/companies/${c.id}`, a), 401, 'unauthenticated');
    expectProblem(await noToken('POST', `/v1/companies/${c.id}/restore`, a), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url: `/v1/companies/${c.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: `/v1/companies/${c.id}/restore` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/companies/${c.id}` }), 404, 'not_found');
    expectProblem(await as(h, b)({ method: 'POST', url: `/v1/companies/${c.id}/restore` }), 404, 'not_found');
    expect((await as(h, a)({ method: 'GET', url: `/v1/companies/${c.id}` })).statusCode).toBe(200);
  });
});
