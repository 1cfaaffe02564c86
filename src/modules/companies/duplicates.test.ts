// Duplicates and merges: detection beyond exact match, merge preview, merge
// moving deals/activities, undo putting everything back; five standard
// checks per route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
type Method = 'GET' | 'POST';

async function post<T = { id: string }>(t: TestTenant, url: string, payload: object): Promise<T> {
  const res = await as(h, t)({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as T;
}
const noToken = (method: Method, url: string, t: TestTenant, payload?: object) => h.app.inject({ method, url, payload, headers: { 'x-tenant': t.slug } });
const dupes = async (t: TestTenant, url: string) => {
  const res = await as(h, t, 'viewer')({ method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: Array<{ label: string; reasons: string[]; score: number }> }).data;
};

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'dua'), createTenant(h, 'dub')]);
});
afterAll(() => h?.close());

describe('GET /v1/companies/:id/duplicates and /v1/contacts/:id/duplicates', () => {
  it('finds companies by domain name under another suffix and by similar names without legal suffixes', async () => {
    const acme = await post(a, '/v1/companies', { name: 'Acme Inc.', domain: 'acme.com' });
    await post(a, '/v1/companies', { name: 'ACME Corporation' });
    await post(a, '/v1/companies', { name: 'Totally different', domain: 'acme.co.uk' });
    await post(a, '/v1/companies', { name: 'Acne Studios' });
    await post(a, '/v1/companies', { name: 'Initech' });
    const found = await dupes(a, `/v1/companies/${acme.id}/duplicates`);
    expect(found.map((d) => [d.label, d.reasons])).toEqual([
      ['ACME Corporation', ['similar_name']],
      ['Totally different', ['same_domain_name']],
    ]);
    expect(found[0]!.score).toBe(1);
  });

  it('finds people by normalised email (case, +tag, Gmail dots), phone digits and similar names', async () => {
    const ada = await post(a, '/v1/contacts', { firstName: 'Ada', lastName: 'Lovelace', email: 'ada.lovelace@gmail.com', phone: '+44 20 7946 0001' });
    await post(a, '/v1/contacts', { firstName: 'Augusta', lastName: 'King', email: 'AdaLovelace+crm@googlemail.com' });
    await post(a, '/v1/contacts', { firstName: 'A.', lastName: 'K.', phone: '020 7946 0001' });
    await post(a, '/v1/contacts', { firstName: 'Ada', lastName: 'Lovelance' });
    await post(a, '/v1/contacts', { firstName: 'Grace', lastName: 'Hopper', email: 'ada@other.example' });
    const found = await dupes(a, `/v1/contacts/${ada.id}/duplicates`);
    expect(found.map((d) => [d.label, d.reasons])).toEqual([
      ['Augusta King', ['same_email']],
      ['A. K.', ['same_phone']],
      ['Ada Lovelance', ['similar_name']],
    ]);
  });

  it('400, 401, other tenant 404, 403 without membership', async () => {
    const c = await post(a, '/v1/companies', { name: 'Lonely' });
    const p = await post(a, '/v1/contacts', { firstName: 'Lonely' });
    for (const url of [`/v1/companies/${c.id}/duplicates`, `/v1/contacts/${p.id}/duplicates`]) {
      expect(await dupes(a, url)).toEqual([]);
      expectProblem(await as(h, a)({ method: 'GET', url: `${url}?limit=0` }), 400, 'validation_failed');
      expectProblem(await noToken('GET', url, a), 401, 'unauthenticated');
      expectProblem(await as(h, b)({ method: 'GET', url }), 404, 'not_found');
    }
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/companies/x/duplicates' }), 400, 'validation_failed');
    const x = await createTenant(h, 'dux');
    const xc = await post(x, '/v1/companies', { name: 'X' });
    const xp = await post(x, '/v1/contacts', { firstName: 'X' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: `/v1/companies/${xc.id}/duplicates` }), 403, 'permission_denied');
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: `/v1/contacts/${xp.id}/duplicates` }), 403, 'permission_denied');
  });
});

describe('merge and undo', () => {
  it('previews, merges a company (deals and activities move, source deleted, audited) and undoes it exactly', async () => {
    const t = await createTenant(h, 'dum');
    const target = await post<{ id: string }>(t, '/v1/companies', { name: 'Globex', industry: null });
    const source = await post<{ id: string }>(t, '/v1/companies', { name: 'Globex Corp', domain: 'globex.example', industry: 'Energy', employees: 900 });
    const d1 = await post(t, '/v1/deals', { name: 'D1', companyId: source.id });
    const d2 = await post(t, '/v1/deals', { name: 'D2', companyId: target.id });
    const shared = await post(t, '/v1/activities', { type: 'note', subject: 'On both', links: [{ type: 'company', id: source.id }, { type: 'company', id: target.id }] });
    const only = await post(t, '/v1/activities', { type: 'call', subject: 'On source', links: [{ type: 'company', id: source.id }] });
    const url = `/v1/companies/${target.id}/merge`;

    const preview = await as(h, t)({ method: 'POST', url, payload: { sourceId: source.id, prefer: { name: 'source' }, dryRun: true } });
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json()).toMatchObject({ mergeId: null, record: { id: target.id, name: 'Globex Corp', domain: 'globex.example', industry: 'Energy', employees: 900 }, moved: { deals: 1, activities: 1 } });
    expect((await as(h, t)({ method: 'GET', url: `/v1/companies/${source.id}` })).statusCode).toBe(200);

    const res = await as(h, t, 'member')({ method: 'POST', url, payload: { sourceId: source.id, prefer: { name: 'source' } } });
    expect(res.statusCode, res.body).toBe(200);
    const { mergeId, record } = res.json() as { mergeId: string; record: Record<string, unknown> };
    expect(record).toMatchObject({ name: 'Globex Corp', domain: 'globex.example', industry: 'Energy', custom: {} });
    expectProblem(await as(h, t)({ method: 'GET', url: `/v1/companies/${source.id}` }), 404, 'not_found');
    const deals = (await as(h, t)({ method: 'GET', url: `/v1/deals?companyId=${target.id}&sort=name` })).json() as { data: Array<{ id: string }> };
    expect(deals.data.map((d) => d.id)).toEqual([d1.id, d2.id]);
    const acts = (await as(h, t)({ method: 'GET', url: `/v1/activities?recordType=company&recordId=${target.id}&sort=createdAt` })).json() as { data: Array<{ id: string; links: unknown[] }> };
    expect(acts.data.map((x) => x.id)).toEqual([shared.id, only.id]);
    expect(acts.data[0]!.links).toEqual([{ type: 'company', id: target.id }]);
    const audit = await sql<{ action: string }>`select action from ${sql.id(t.tenant.schemaName, 'audit_log')} where target_id = ${target.id} order by seq`.execute(h.db);
    expect(audit.rows.map((r) => r.action)).toContain('crm.company.merged');

    const undo = await as(h, t, 'member')({ method: 'POST', url: `/v1/merges/${mergeId}/undo` });
    expect(undo.statusCode, undo.body).toBe(200);
    expect((await as(h, t)({ method: 'GET', url: `/v1/companies/${target.id}` })).json()).toMatchObject({ name: 'Globex', domain: null, industry: null, employees: null });
    expect((await as(h, t)({ method: 'GET', url: `/v1/companies/${source.id}` })).json()).toMatchObject({ name: 'Globex Corp', domain: 'globex.example', deletedAt: null });
    expect(((await as(h, t)({ method: 'GET', url: `/v1/deals?companyId=${source.id}` })).json() as { data: Array<{ id: string }> }).data.map((d) => d.id)).toEqual([d1.id]);
    const back = (await as(h, t)({ method: 'GET', url: `/v1/activities/${shared.id}` })).json() as { links: Array<{ id: string }> };
    expect(back.links.map((l) => l.id).sort()).toEqual([source.id, target.id].sort());
    expect(((await as(h, t)({ method: 'GET', url: `/v1/activities/${only.id}` })).json() as { links: Array<{ id: string }> }).links).toEqual([{ type: 'company', id: source.id }]);
    expectProblem(await as(h, t)({ method: 'POST', url: `/v1/merges/${mergeId}/undo` }), 409, 'conflict');
  });

  it('merges people: email taken over, deal memberships moved without duplicates; undo restores both', async () => {
    const t = await createTenant(h, 'dup');
    const target = await post(t, '/v1/contacts', { firstName: 'Ada', lastName: 'Lovelace' });
    const source = await post(t, '/v1/contacts', { firstName: 'Ada', lastName: 'L.', email: 'ada@x.example', jobTitle: 'Countess' });
    const both = await post(t, '/v1/deals', { name: 'Both', contactIds: [target.id, source.id] });
    const src = await post(t, '/v1/deals', { name: 'Source only', contactIds: [source.id] });
    const res = await as(h, t)({ method: 'POST', url: `/v1/contacts/${target.id}/merge`, payload: { sourceId: source.id } });
    expect(res.statusCode, res.body).toBe(200);
    const { mergeId, record } = res.json() as { mergeId: string; record: Record<string, unknown> };
    expect(record).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@x.example', jobTitle: 'Countess' });
    for (const d of [both, src]) expect(((await as(h, t)({ method: 'GET', url: `/v1/deals/${d.id}` })).json() as { contactIds: string[] }).contactIds).toEqual([target.id]);
    expect((await as(h, t)({ method: 'POST', url: `/v1/merges/${mergeId}/undo` })).statusCode).toBe(200);
    expect((await as(h, t)({ method: 'GET', url: `/v1/contacts/${target.id}` })).json()).toMatchObject({ email: null, jobTitle: null });
    expect((await as(h, t)({ method: 'GET', url: `/v1/contacts/${source.id}` })).json()).toMatchObject({ email: 'ada@x.example', deletedAt: null });
    expect(((await as(h, t)({ method: 'GET', url: `/v1/deals/${both.id}` })).json() as { contactIds: string[] }).contactIds).toEqual([target.id, source.id].sort());
    expect(((await as(h, t)({ method: 'GET', url: `/v1/deals/${src.id}` })).json() as { contactIds: string[] }).contactIds).toEqual([source.id]);
  });

  it('merge: 400 (self, unknown field), 422 unknown source, 401, 403 viewer, other tenant 404', async () => {
    const c = await post(a, '/v1/companies', { name: 'Keep me' });
    const s = await post(a, '/v1/companies', { name: 'Keep me too' });
    const url = `/v1/companies/${c.id}/merge`;
    expectProblem(await as(h, a)({ method: 'POST', url, payload: { sourceId: c.id } }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url, payload: { sourceId: s.id, prefer: { password: 'source' } } }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url, payload: { sourceId: 'x' } }), 400, 'validation_failed');
    const theirs = await post(b, '/v1/companies', { name: 'Theirs' });
    expectProblem(await as(h, a)({ method: 'POST', url, payload: { sourceId: theirs.id } }), 422, 'invalid_reference');
    expectProblem(await noToken('POST', url, a, { sourceId: s.id }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url, payload: { sourceId: s.id } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'POST', url, payload: { sourceId: theirs.id } }), 404, 'not_found');
    const p = await post(a, '/v1/contacts', { firstName: 'P' });
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: `/v1/contacts/${p.id}/merge`, payload: { sourceId: p.id } }), 403, 'permission_denied');
    expectProblem(await noToken('POST', `/v1/contacts/${p.id}/merge`, a, { sourceId: p.id }), 401, 'unauthenticated');
    expect((await as(h, a)({ method: 'GET', url: `/v1/companies/${s.id}` })).statusCode).toBe(200);
  });

  it('undo: 400, 401, 403 viewer, other tenant 404; 409 when the freed domain was taken meanwhile', async () => {
    const t = await createTenant(h, 'duu');
    const target = await post(t, '/v1/companies', { name: 'T' });
    const source = await post(t, '/v1/companies', { name: 'S', domain: 's.example' });
    const { mergeId } = (await as(h, t)({ method: 'POST', url: `/v1/companies/${target.id}/merge`, payload: { sourceId: source.id, prefer: { domain: 'target' } } })).json() as { mergeId: string };
    const url = `/v1/merges/${mergeId}/undo`;
    expectProblem(await as(h, t)({ method: 'POST', url: '/v1/merges/x/undo' }), 400, 'validation_failed');
    expectProblem(await noToken('POST', url, t), 401, 'unauthenticated');
    expectProblem(await as(h, t, 'viewer')({ method: 'POST', url }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'POST', url }), 404, 'not_found');
    // The target took the domain (it had none); move it to a third company, then undo cannot give it back.
    await as(h, t)({ method: 'PATCH', url: `/v1/companies/${target.id}`, payload: { domain: null } });
    await post(t, '/v1/companies', { name: 'Third', domain: 's.example' });
    expectProblem(await as(h, t)({ method: 'POST', url }), 409, 'company_domain_taken');
    expectProblem(await as(h, t)({ method: 'GET', url: `/v1/companies/${source.id}` }), 404, 'not_found');
  });
});
