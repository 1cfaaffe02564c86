// Activities and timelines: every route gets happy path, validation error,
// 401, another tenant's id 404 and missing permission 403.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Static } from 'typebox';
import type { Activity } from './schemas.ts';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let company: { id: string };
let contact: { id: string };
let deal: { id: string };

type ActivityJson = Static<typeof Activity>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function post<T = { id: string }>(t: TestTenant, url: string, payload: object, role: 'owner' | 'member' = 'owner'): Promise<T> {
  const res = await as(h, t, role)({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as T;
}
const noToken = (method: Method, url: string, t: TestTenant, payload?: object) => h.app.inject({ method, url, payload, headers: { 'x-tenant': t.slug } });

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'aca'), createTenant(h, 'acb')]);
  company = await post(a, '/v1/companies', { name: 'Vandelay', domain: 'vandelay.example' });
  contact = await post(a, '/v1/contacts', { firstName: 'Art', lastName: 'Vandelay' });
  deal = await post(a, '/v1/deals', { name: 'Latex import', amount: '9000', currency: 'USD', companyId: company.id });
});
afterAll(() => h?.close());

describe('POST /v1/activities', () => {
  it('creates each type with its own fields and links to several records', async () => {
    const note = await post<ActivityJson>(a, '/v1/activities', { type: 'note', subject: 'Intro', body: 'Met at the fair', links: [{ type: 'company', id: company.id }, { type: 'contact', id: contact.id }, { type: 'company', id: company.id }] });
    expect(note).toMatchObject({ type: 'note', subject: 'Intro', status: null, ownerId: a.accounts.owner.id, createdBy: a.accounts.owner.id });
    expect(note.links).toEqual([{ type: 'company', id: company.id }, { type: 'contact', id: contact.id }]);
    const task = await post<ActivityJson>(a, '/v1/activities', { type: 'task', subject: 'Send quote', dueAt: '2026-12-01T09:00:00.000Z', assigneeId: a.accounts.member.id, links: [{ type: 'deal', id: deal.id }] });
    expect(task).toMatchObject({ status: 'todo', dueAt: '2026-12-01T09:00:00.000Z', assigneeId: a.accounts.member.id, completedAt: null });
    const call = await post<ActivityJson>(a, '/v1/activities', { type: 'call', subject: 'Discovery call', startsAt: '2026-11-20T15:00:00.000Z', durationMinutes: 30, outcome: 'Interested' });
    expect(call).toMatchObject({ startsAt: '2026-11-20T15:00:00.000Z', occurredAt: '2026-11-20T15:00:00.000Z', durationMinutes: 30, outcome: 'Interested' });
    const meeting = await post<ActivityJson>(a, '/v1/activities', { type: 'meeting', subject: 'Demo', startsAt: '2026-11-25T10:00:00.000Z', location: 'Their office', status: undefined });
    expect(meeting.location).toBe('Their office');
  });

  it('400 for fields of another type, bad values; 422 for links outside the tenant', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/activities', payload: { type: 'note', subject: 'X', status: 'done', dueAt: '2026-01-01T00:00:00Z' } }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/dueAt', '/status']);
    const q = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/activities', payload: { type: 'email', subject: '', links: [{ type: 'invoice', id: 'x' }] } }), 400, 'validation_failed');
    expect(new Set(q.errors!.map((e) => e.pointer.split('/')[1]))).toEqual(new Set(['type', 'subject', 'links']));
    const theirs = await post(b, '/v1/companies', { name: 'Theirs' });
    const r = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/activities', payload: { type: 'note', subject: 'X', links: [{ type: 'contact', id: contact.id }, { type: 'company', id: theirs.id }] } }), 422, 'invalid_reference');
    expect(r.errors?.[0]?.pointer).toBe('/links/1/id');
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/activities', payload: { type: 'task', subject: 'X', assigneeId: b.accounts.owner.id } }), 422, 'invalid_reference').errors?.[0]?.pointer).toBe('/assigneeId');
  });

  it('401 without a token, 403 for a viewer', async () => {
    expectProblem(await noToken('POST', '/v1/activities', a, { type: 'note', subject: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/activities', payload: { type: 'note', subject: 'X' } }), 403, 'permission_denied');
  });
});

describe('GET /v1/activities/:id', () => {
  it('happy, 400, 401, other tenant 404, 403 without membership', async () => {
    const n = await post<ActivityJson>(a, '/v1/activities', { type: 'note', subject: 'Readable' });
    expect((await as(h, a, 'viewer')({ method: 'GET', url: `/v1/activities/${n.id}` })).json()).toEqual(n);
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/activities/x' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', `/v1/activities/${n.id}`, a), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/activities/${n.id}` }), 404, 'not_found');
    const t = await createTenant(h, 'acr');
    const own = await post(t, '/v1/activities', { type: 'note', subject: 'Mine' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: `/v1/activities/${own.id}` }), 403, 'permission_denied');
  });
});

describe('GET /v1/activities', () => {
  let t: TestTenant;
  let d: { id: string };
  beforeAll(async () => {
    t = await createTenant(h, 'acl');
    d = await post(t, '/v1/deals', { name: 'D' });
    await post(t, '/v1/activities', { type: 'task', subject: 'Late', dueAt: '2026-01-01T00:00:00.000Z', assigneeId: t.accounts.member.id, links: [{ type: 'deal', id: d.id }] });
    await post(t, '/v1/activities', { type: 'task', subject: 'Soon', dueAt: '2026-06-01T00:00:00.000Z', assigneeId: t.accounts.member.id });
    await post(t, '/v1/activities', { type: 'task', subject: 'Done', status: 'done', assigneeId: t.accounts.member.id });
    await post(t, '/v1/activities', { type: 'task', subject: 'Someone else', dueAt: '2026-02-01T00:00:00.000Z' });
    await post(t, '/v1/activities', { type: 'note', subject: 'A note', links: [{ type: 'deal', id: d.id }] }, 'member');
  });
  const subjects = async (q: string) => {
    const res = await as(h, t, 'viewer')({ method: 'GET', url: `/v1/activities?${q}` });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { data: ActivityJson[] }).data.map((x) => x.subject);
  };

  it("lists a member's open tasks by due date, and activities linked to a record", async () => {
    expect(await subjects(`type=task&status=todo&assigneeId=${t.accounts.member.id}&sort=dueAt`)).toEqual(['Late', 'Soon']);
    expect(await subjects('type=task&dueBefore=2026-03-01T00:00:00Z&sort=dueAt')).toEqual(['Late', 'Someone else']);
    expect(await subjects(`recordType=deal&recordId=${d.id}&sort=createdAt`)).toEqual(['Late', 'A note']);
    expect(await subjects(`ownerId=${t.accounts.member.id}`)).toEqual(['A note']);
  });

  it('pages with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await as(h, t)({ method: 'GET', url: `/v1/activities?limit=2&sort=createdAt${cursor ? `&cursor=${cursor}` : ''}` })).json() as { data: ActivityJson[]; nextCursor: string | null };
      seen.push(...page.data.map((x) => x.subject));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Late', 'Soon', 'Done', 'Someone else', 'A note']);
  });

  it('400, 401, other tenant sees none, 403 without membership', async () => {
    expectProblem(await as(h, t)({ method: 'GET', url: '/v1/activities?type=fax' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', '/v1/activities', t), 401, 'unauthenticated');
    expect(((await as(h, b)({ method: 'GET', url: `/v1/activities?recordId=${d.id}` })).json() as { data: unknown[] }).data).toEqual([]);
    const x = await createTenant(h, 'acx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.member.id).execute();
    expectProblem(await as(h, x, 'member')({ method: 'GET', url: '/v1/activities' }), 403, 'permission_denied');
  });
});

describe('PATCH /v1/activities/:id', () => {
  it('moves a task through its statuses (done sets completedAt) and relinks it', async () => {
    const task = await post<ActivityJson>(a, '/v1/activities', { type: 'task', subject: 'Follow up' });
    const step = async (payload: object) => {
      const res = await as(h, a, 'member')({ method: 'PATCH', url: `/v1/activities/${task.id}`, payload });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as ActivityJson;
    };
    expect((await step({ status: 'in_progress' })).completedAt).toBeNull();
    const done = await step({ status: 'done', links: [{ type: 'deal', id: deal.id }] });
    expect(done).toMatchObject({ status: 'done', updatedBy: a.accounts.member.id, links: [{ type: 'deal', id: deal.id }] });
    expect(done.completedAt).not.toBeNull();
    expect((await step({ status: 'todo' })).completedAt).toBeNull();
  });

  it('400 (empty, field of another type), 401, 403, other tenant 404', async () => {
    const n = await post<ActivityJson>(a, '/v1/activities', { type: 'note', subject: 'Fixed' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/activities/${n.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/activities/${n.id}`, payload: { status: 'done' } }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/activities/${n.id}`, payload: { type: 'task' } }), 400, 'validation_failed');
    expectProblem(await noToken('PATCH', `/v1/activities/${n.id}`, a, { subject: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'PATCH', url: `/v1/activities/${n.id}`, payload: { subject: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url: `/v1/activities/${n.id}`, payload: { subject: 'X' } }), 404, 'not_found');
    expect((await as(h, a)({ method: 'GET', url: `/v1/activities/${n.id}` })).json()).toEqual(n);
  });
});

describe('DELETE /v1/activities/:id and restore', () => {
  it('soft-deletes and restores; 400, 401, 403, other tenant 404', async () => {
    const n = await post<ActivityJson>(a, '/v1/activities', { type: 'note', subject: 'Bin me' });
    expectProblem(await as(h, a)({ method: 'DELETE', url: '/v1/activities/1' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/activities/1/restore' }), 400, 'validation_failed');
    expectProblem(await noToken('DELETE', `/v1/activities/${n.id}`, a), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url: `/v1/activities/${n.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/activities/${n.id}` }), 404, 'not_found');
    expect((await as(h, a, 'member')({ method: 'DELETE', url: `/v1/activities/${n.id}` })).statusCode).toBe(204);
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/activities/${n.id}` }), 404, 'not_found');
    expectProblem(await noToken('POST', `/v1/activities/${n.id}/restore`, a), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: `/v1/activities/${n.id}/restore` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'POST', url: `/v1/activities/${n.id}/restore` }), 404, 'not_found');
    const r = await as(h, a)({ method: 'POST', url: `/v1/activities/${n.id}/restore` });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: n.id, deletedAt: null });
  });
});

describe('GET /v1/{companies,contacts,deals}/:id/timeline', () => {
  it("merges a deal's activities and field changes (incl. stage moves), newest first, paged", async () => {
    const t = await createTenant(h, 'act');
    const stages = ((await as(h, t)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ stages: Array<{ id: string; name: string }> }> }).data[0]!.stages;
    const d = await post(t, '/v1/deals', { name: 'Timeline deal', amount: '100', currency: 'EUR' });
    await post(t, '/v1/activities', { type: 'call', subject: 'First call', links: [{ type: 'deal', id: d.id }] });
    await as(h, t)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { stageId: stages[2]!.id, amount: '150.00' } });
    const gone = await post(t, '/v1/activities', { type: 'note', subject: 'Deleted note', links: [{ type: 'deal', id: d.id }] });
    await as(h, t)({ method: 'DELETE', url: `/v1/activities/${gone.id}` });
    await post(t, '/v1/activities', { type: 'note', subject: 'Latest note', links: [{ type: 'deal', id: d.id }] });
    const items: Array<{ kind: string; activity?: ActivityJson; change?: { action: string; changes: Record<string, unknown> } }> = [];
    let cursor: string | null = null;
    do {
      const res = await as(h, t, 'viewer')({ method: 'GET', url: `/v1/deals/${d.id}/timeline?limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { data: typeof items; nextCursor: string | null };
      items.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    expect(items.map((i) => (i.kind === 'activity' ? i.activity!.subject : i.change!.action))).toEqual(['Latest note', 'updated', 'First call', 'created']);
    expect(items[1]!.change!.changes).toEqual({ amount: ['100.00', '150.00'], stageId: [stages[0]!.id, stages[2]!.id] });
  });

  it('works for companies and contacts; 400, 401, other tenant 404, 403 without membership', async () => {
    await post(a, '/v1/activities', { type: 'meeting', subject: 'Lunch', links: [{ type: 'company', id: company.id }, { type: 'contact', id: contact.id }] });
    const ct = (await as(h, a)({ method: 'GET', url: `/v1/contacts/${contact.id}/timeline` })).json() as { data: Array<{ kind: string; activity?: ActivityJson }> };
    expect(ct.data.filter((i) => i.kind === 'activity').map((i) => i.activity!.subject)).toContain('Lunch');
    const co = (await as(h, a)({ method: 'GET', url: `/v1/companies/${company.id}/timeline` })).json() as { data: Array<{ kind: string }> };
    expect(co.data.map((i) => i.kind)).toContain('change');
    for (const url of [`/v1/companies/${company.id}/timeline`, `/v1/contacts/${contact.id}/timeline`, `/v1/deals/${deal.id}/timeline`]) {
      expectProblem(await as(h, a)({ method: 'GET', url: `${url}?limit=0` }), 400, 'validation_failed');
      expectProblem(await as(h, a)({ method: 'GET', url: `${url}?cursor=zz` }), 400, 'invalid_cursor');
      expectProblem(await noToken('GET', url, a), 401, 'unauthenticated');
      expectProblem(await as(h, b)({ method: 'GET', url }), 404, 'not_found');
    }
    const x = await createTenant(h, 'acy');
    const c = await post(x, '/v1/companies', { name: 'C' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: `/v1/companies/${c.id}/timeline` }), 403, 'permission_denied');
  });
});
