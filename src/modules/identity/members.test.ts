// Members of a tenant: roles and reporting lines. Nobody gives a role holding
// more than they do, nor changes a member above them; the last owner stays;
// reporting lines stay in the tenant without cycles; every change is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'ma'), createTenant(h, 'mb')]);
});
afterAll(() => h?.close());

interface MemberBody {
  accountId: string;
  email: string;
  role: string;
  reportsTo: string | null;
}
const auditOf = async (t: TestTenant, targetId: string) =>
  (await sql<{ action: string; changes: Record<string, { before: unknown; after: unknown }> }>`select action, changes from ${sql.id(t.tenant.schemaName, 'audit_log')} where target_id = ${targetId} order by seq`.execute(h.db)).rows;

describe('GET /v1/members', () => {
  it('lists members with role and reporting line, paginated by cursor', async () => {
    const res = await as(h, a, 'member')({ method: 'GET', url: '/v1/members' });
    expect(res.statusCode, res.body).toBe(200);
    const { data, nextCursor } = res.json() as { data: MemberBody[]; nextCursor: string | null };
    expect(data.map((m) => m.role).sort()).toEqual(['admin', 'manager', 'member', 'owner', 'viewer']);
    expect(nextCursor).toBeNull();
    const page1 = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/members?limit=3' })).json() as { data: MemberBody[]; nextCursor: string };
    const page2 = (await as(h, a, 'admin')({ method: 'GET', url: `/v1/members?limit=3&cursor=${page1.nextCursor}` })).json() as { data: MemberBody[]; nextCursor: string | null };
    expect([...page1.data, ...page2.data].map((m) => m.accountId)).toEqual(data.map((m) => m.accountId));
    expect(page2.nextCursor).toBeNull();
    const owners = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/members?role=owner' })).json() as { data: MemberBody[] };
    expect(owners.data.map((m) => m.accountId)).toEqual([a.accounts.owner.id]);
  });

  it('400 for a bad limit or cursor, 401, 403 for a viewer', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/members?limit=0' }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/members?cursor=abc' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/members', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: '/v1/members' }), 403, 'permission_denied');
  });
});

describe('GET /v1/members/:accountId', () => {
  it("answers a member; another tenant's member is a 404; 400; 401; 403", async () => {
    const res = await as(h, a, 'admin')({ method: 'GET', url: `/v1/members/${a.accounts.viewer.id}` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ accountId: a.accounts.viewer.id, email: a.accounts.viewer.email, role: 'viewer', reportsTo: null, status: 'active' });
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: `/v1/members/${b.accounts.viewer.id}` }), 404, 'not_found');
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/members/nope' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/members/${a.accounts.viewer.id}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: `/v1/members/${a.accounts.viewer.id}` }), 403, 'permission_denied');
  });
});

describe('PATCH /v1/members/:accountId', () => {
  it("changes a member's role (audited); the new permissions apply on the next request", async () => {
    const t = await createTenant(h, 'mr');
    expectProblem(await as(h, t, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Ada' } }), 403, 'permission_denied');
    const res = await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/members/${t.accounts.viewer.id}`, payload: { role: 'member' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ accountId: t.accounts.viewer.id, role: 'member' });
    expect((await as(h, t, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Ada' } })).statusCode).toBe(201);
    const me = (await as(h, t, 'viewer')({ method: 'GET', url: '/v1/me/permissions' })).json() as { role: string };
    expect(me.role).toBe('member');
    const rows = await auditOf(t, t.accounts.viewer.id);
    expect(rows.map((r) => r.action)).toEqual(['identity.member.updated']);
    expect(rows[0]!.changes.role).toEqual({ before: 'viewer', after: 'member' });
  });

  it('sets and clears reporting lines; refuses cycles, self, and accounts of other tenants (422)', async () => {
    const t = await createTenant(h, 'mh');
    const patch = (id: string, payload: object) => as(h, t, 'admin')({ method: 'PATCH', url: `/v1/members/${id}`, payload });
    const { member, manager, viewer } = t.accounts;
    expect((await patch(member.id, { reportsTo: manager.id })).json()).toMatchObject({ reportsTo: manager.id });
    expect((await patch(viewer.id, { reportsTo: member.id })).statusCode).toBe(200);
    // manager ← member ← viewer: the manager cannot report to either of them.
    expectProblem(await patch(manager.id, { reportsTo: viewer.id }), 422, 'hierarchy_cycle');
    expectProblem(await patch(manager.id, { reportsTo: member.id }), 422, 'hierarchy_cycle');
    expectProblem(await patch(manager.id, { reportsTo: manager.id }), 422, 'hierarchy_cycle');
    expectProblem(await patch(manager.id, { reportsTo: b.accounts.owner.id }), 422, 'invalid_reference');
    expectProblem(await patch(manager.id, { role: 'no-such-role' }), 422, 'invalid_reference');
    expect((await patch(viewer.id, { reportsTo: null })).json()).toMatchObject({ reportsTo: null });
    expect((await auditOf(t, member.id)).map((r) => r.action)).toEqual(['identity.member.updated']);
  });

  it('nobody gives a role holding more than they do, or changes a member above them', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${a.accounts.member.id}`, payload: { role: 'owner' } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${a.accounts.owner.id}`, payload: { role: 'member' } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${a.accounts.owner.id}`, payload: { reportsTo: a.accounts.admin.id } }), 403, 'permission_denied');
    const after = (await as(h, a, 'admin')({ method: 'GET', url: `/v1/members/${a.accounts.owner.id}` })).json() as MemberBody;
    expect(after).toMatchObject({ role: 'owner', reportsTo: null });
  });

  it('the last owner cannot be demoted (409); with a second owner it can', async () => {
    const t = await createTenant(h, 'mo');
    expectProblem(await as(h, t, 'owner')({ method: 'PATCH', url: `/v1/members/${t.accounts.owner.id}`, payload: { role: 'admin' } }), 409, 'last_owner');
    expect((await as(h, t, 'owner')({ method: 'PATCH', url: `/v1/members/${t.accounts.admin.id}`, payload: { role: 'owner' } })).statusCode).toBe(200);
    const res = await as(h, t, 'owner')({ method: 'PATCH', url: `/v1/members/${t.accounts.owner.id}`, payload: { role: 'admin' } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it("400 for a bad body, 401, 403 for a manager, another tenant's member 404", async () => {
    const id = a.accounts.viewer.id;
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${id}`, payload: { role: 'Not A Key' } }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${id}`, payload: { reportsTo: 'x' } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'PATCH', url: `/v1/members/${id}`, headers: { 'x-tenant': a.slug }, payload: { role: 'member' } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'manager')({ method: 'PATCH', url: `/v1/members/${id}`, payload: { role: 'member' } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${b.accounts.viewer.id}`, payload: { role: 'member' } }), 404, 'not_found');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/members/${randomUUID()}`, payload: { role: 'member' } }), 404, 'not_found');
  });
});

describe('DELETE /v1/members/:accountId', () => {
  it('removes a member (audited): their token stops working in this tenant; their reports are detached', async () => {
    const t = await createTenant(h, 'md');
    await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/members/${t.accounts.viewer.id}`, payload: { reportsTo: t.accounts.member.id } });
    const res = await as(h, t, 'admin')({ method: 'DELETE', url: `/v1/members/${t.accounts.member.id}` });
    expect(res.statusCode, res.body).toBe(204);
    expectProblem(await as(h, t, 'member')({ method: 'GET', url: '/v1/me' }), 403, 'permission_denied');
    expect(((await as(h, t, 'admin')({ method: 'GET', url: `/v1/members/${t.accounts.viewer.id}` })).json() as MemberBody).reportsTo).toBeNull();
    expect((await auditOf(t, t.accounts.member.id)).map((r) => r.action)).toEqual(['identity.member.removed']);
  });

  it('the last owner cannot be removed (409); an admin cannot remove an owner (403)', async () => {
    const t = await createTenant(h, 'ml');
    expectProblem(await as(h, t, 'owner')({ method: 'DELETE', url: `/v1/members/${t.accounts.owner.id}` }), 409, 'last_owner');
    expectProblem(await as(h, t, 'admin')({ method: 'DELETE', url: `/v1/members/${t.accounts.owner.id}` }), 403, 'permission_denied');
    expect((await as(h, t, 'owner')({ method: 'GET', url: '/v1/me' })).statusCode).toBe(200);
  });

  it("400, 401, 403, another tenant's member 404", async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/members/zzz' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/members/${a.accounts.viewer.id}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'DELETE', url: `/v1/members/${a.accounts.viewer.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/members/${b.accounts.viewer.id}` }), 404, 'not_found');
    expect((await as(h, b, 'viewer')({ method: 'GET', url: '/v1/me' })).statusCode).toBe(200);
  });
});
