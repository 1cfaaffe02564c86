// Roles per tenant: system roles (owner, admin, manager, member, viewer) and
// custom roles through the API; nobody grants what they lack; changes are
// audited and apply to the role's members at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyPluginAsync } from 'fastify';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { modules } from '../index.ts';
import type { PlinthModule } from '../../platform/module.ts';

// A permission only owners hold, to show that an admin cannot grant it.
const vaultRoutes: FastifyPluginAsync = async (app) => {
  app.get('/v1/test-vault', { config: { permission: 'test.vault.read' } }, async () => ({ secret: 42 }));
};
const vaultModule: PlinthModule = { name: 'test-vault', permissions: [{ key: 'test.vault.read', description: 'owner only', roles: [] }], routes: vaultRoutes };

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp({ modules: [...modules, vaultModule] });
  [a, b] = await Promise.all([createTenant(h, 'ra'), createTenant(h, 'rb')]);
});
afterAll(() => h?.close());

interface RoleBody {
  id: string;
  key: string;
  system: boolean;
  memberCount: number;
  permissions: Array<{ key: string; scope: string }>;
}

const rolesOf = async (t: TestTenant): Promise<RoleBody[]> => {
  const res = await as(h, t)({ method: 'GET', url: '/v1/roles' });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { items: RoleBody[] }).items;
};
const roleId = async (t: TestTenant, key: string) => (await rolesOf(t)).find((r) => r.key === key)!.id;
const myPermissions = async (t: TestTenant, role: 'owner' | 'admin' | 'manager' | 'member' | 'viewer') => {
  const res = await as(h, t, role)({ method: 'GET', url: '/v1/me/permissions' });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { permissions: Array<{ key: string }> }).permissions.map((p) => p.key);
};
const auditActions = async (t: TestTenant, targetId: string) =>
  (await sql<{ action: string }>`select action from ${sql.id(t.tenant.schemaName, 'audit_log')} where target_id = ${targetId} order by seq`.execute(h.db)).rows.map((r) => r.action);
const newRoleKey = () => `r-${randomUUID().slice(0, 8)}`;

describe('GET /v1/roles', () => {
  it('lists the five system roles with their grants and member counts', async () => {
    const roles = await rolesOf(a);
    expect(roles.filter((r) => r.system).map((r) => r.key)).toEqual(['owner', 'admin', 'manager', 'member', 'viewer']);
    for (const r of roles.filter((x) => x.system)) expect(r.memberCount).toBe(1);
    const manager = roles.find((r) => r.key === 'manager')!;
    // Managers hold what members hold, with scope team on record permissions.
    expect(manager.permissions).toContainEqual({ key: 'crm.contacts.read', scope: 'team' });
    expect(manager.permissions).toContainEqual({ key: 'identity.me.read', scope: 'all' });
    const member = roles.find((r) => r.key === 'member')!;
    expect(manager.permissions.map((p) => p.key).sort()).toEqual(member.permissions.map((p) => p.key).sort());
    expect(roles.find((r) => r.key === 'owner')!.permissions).toContainEqual({ key: 'test.vault.read', scope: 'all' });
    // The manager sees the same scopes on GET /v1/me/permissions.
    const mine = (await as(h, a, 'manager')({ method: 'GET', url: '/v1/me/permissions' })).json() as { role: string; permissions: Array<{ key: string; scope: string }> };
    expect(mine.role).toBe('manager');
    expect(mine.permissions).toContainEqual(expect.objectContaining({ key: 'crm.contacts.read', scope: 'team' }));
    expect(mine.permissions).toContainEqual(expect.objectContaining({ key: 'identity.me.read', scope: 'all' }));
  });

  it('401 without a token, 403 for a member', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/roles', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/roles' }), 403, 'permission_denied');
  });

  it('GET /v1/permissions lists the registry with module, resource and action', async () => {
    const res = await as(h, a, 'admin')({ method: 'GET', url: '/v1/permissions' });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: unknown[] }).items).toContainEqual({ key: 'crm.contacts.read', module: 'contacts', resource: 'contacts', action: 'read', description: 'List and view contacts', recordScope: true });
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: '/v1/permissions' }), 403, 'permission_denied');
  });
});

describe('POST /v1/roles', () => {
  it('creates a custom role (audited) that can be given to a member', async () => {
    const key = newRoleKey();
    const res = await as(h, a, 'admin')({
      method: 'POST',
      url: '/v1/roles',
      payload: { key, name: 'Sales rep', description: 'Own contacts only', permissions: [{ key: 'crm.contacts.read', scope: 'own' }, { key: 'identity.me.read' }] },
    });
    expect(res.statusCode, res.body).toBe(201);
    const role = res.json() as RoleBody;
    expect(role).toMatchObject({ key, system: false, memberCount: 0, permissions: [{ key: 'crm.contacts.read', scope: 'own' }, { key: 'identity.me.read', scope: 'all' }] });
    expect(await auditActions(a, role.id)).toEqual(['identity.role.created']);
    expect((await rolesOf(a)).map((r) => r.key)).toContain(key);
  });

  it('400 for unknown permissions, a narrow scope on a non-record permission, a bad key or extra fields', async () => {
    const post = (payload: object) => as(h, a, 'admin')({ method: 'POST', url: '/v1/roles', payload });
    const unknown = expectProblem(await post({ key: newRoleKey(), name: 'x', permissions: [{ key: 'identity.me.read' }, { key: 'nope.nope.nope' }] }), 400, 'validation_failed');
    expect(unknown.errors).toContainEqual(expect.objectContaining({ pointer: '/permissions/1/key' }));
    const scoped = expectProblem(await post({ key: newRoleKey(), name: 'x', permissions: [{ key: 'identity.me.read', scope: 'own' }] }), 400, 'validation_failed');
    expect(scoped.errors).toContainEqual(expect.objectContaining({ pointer: '/permissions/0/scope' }));
    expectProblem(await post({ key: 'Bad Key', name: 'x', permissions: [] }), 400, 'validation_failed');
    expectProblem(await post({ key: newRoleKey(), name: 'x', permissions: [{ key: 'crm.contacts.read', scope: 'some' }] }), 400, 'validation_failed');
    expectProblem(await post({ key: newRoleKey(), name: 'x', permissions: [], extra: 1 }), 400, 'validation_failed');
  });

  it('401 without a token, 403 for a viewer, 409 for a taken key (system keys included)', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/roles', headers: { 'x-tenant': a.slug }, payload: { key: newRoleKey(), name: 'x', permissions: [] } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'x', permissions: [] } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/roles', payload: { key: 'manager', name: 'x', permissions: [] } }), 409, 'role_key_taken');
  });

  it('nobody grants what they lack: an admin cannot grant an owner-only permission', async () => {
    const denied = expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'x', permissions: [{ key: 'test.vault.read' }] } }), 403, 'permission_denied');
    expect(denied.detail).toContain('test.vault.read');
    const ok = await as(h, a, 'owner')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'vault', permissions: [{ key: 'test.vault.read' }] } });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('a member allowed to manage roles cannot grant what they lack, nor a wider scope than theirs', async () => {
    const t = await createTenant(h, 'rm');
    // The owner lets members manage roles, and narrows their contact reads to their own.
    const memberRole = await roleId(t, 'member');
    const current = (await rolesOf(t)).find((r) => r.key === 'member')!.permissions.filter((p) => p.key !== 'crm.contacts.read');
    const patched = await as(h, t, 'owner')({
      method: 'PATCH',
      url: `/v1/roles/${memberRole}`,
      payload: { permissions: [...current, { key: 'crm.contacts.read', scope: 'own' }, { key: 'identity.roles.manage' }, { key: 'identity.roles.read' }] },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const asMember = as(h, t, 'member');
    // Lacks identity.apiKeys.manage altogether.
    const lacks = expectProblem(await asMember({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'x', permissions: [{ key: 'identity.apiKeys.manage' }] } }), 403, 'permission_denied');
    expect(lacks.detail).toContain('identity.apiKeys.manage');
    // Holds crm.contacts.read only with scope own.
    expectProblem(await asMember({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'x', permissions: [{ key: 'crm.contacts.read', scope: 'team' }] } }), 403, 'permission_denied');
    // Cannot widen its own role either.
    expectProblem(await asMember({ method: 'PATCH', url: `/v1/roles/${memberRole}`, payload: { permissions: [...current, { key: 'crm.contacts.read' }, { key: 'identity.roles.manage' }, { key: 'identity.roles.read' }] } }), 403, 'permission_denied');
    // What it holds, at its scope, it may grant.
    const ok = await asMember({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'x', permissions: [{ key: 'crm.contacts.read', scope: 'own' }, { key: 'crm.contacts.write' }] } });
    expect(ok.statusCode, ok.body).toBe(201);
  });
});

describe('GET /v1/roles/:id', () => {
  it("answers a role; another tenant's role id is a 404; 400 for a bad id; 401; 403", async () => {
    const id = await roleId(a, 'viewer');
    const res = await as(h, a, 'admin')({ method: 'GET', url: `/v1/roles/${id}` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, key: 'viewer', system: true, memberCount: 1 });
    expectProblem(await as(h, b, 'owner')({ method: 'GET', url: `/v1/roles/${id}` }), 404, 'not_found');
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/roles/not-a-uuid' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: `/v1/roles/${id}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: `/v1/roles/${id}` }), 403, 'permission_denied');
  });
});

describe('PATCH /v1/roles/:id', () => {
  it("changes a system role's grants (audited) and its members get them on their next request", async () => {
    const t = await createTenant(h, 'rp');
    const viewer = (await rolesOf(t)).find((r) => r.key === 'viewer')!;
    expect(await myPermissions(t, 'viewer')).not.toContain('crm.contacts.write');
    expectProblem(await as(h, t, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Ada' } }), 403, 'permission_denied');
    const res = await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/roles/${viewer.id}`, payload: { permissions: [...viewer.permissions, { key: 'crm.contacts.write' }] } });
    expect(res.statusCode, res.body).toBe(200);
    expect(await myPermissions(t, 'viewer')).toContain('crm.contacts.write');
    const created = await as(h, t, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Ada' } });
    expect(created.statusCode, created.body).toBe(201);
    expect(await auditActions(t, viewer.id)).toEqual(['identity.role.updated']);
    // Only the difference to the code's defaults is stored, so later permissions still reach system roles.
    const stored = await sql<{ permissions: unknown }>`select permissions from ${sql.id(t.tenant.schemaName, 'roles')} where key = 'viewer'`.execute(h.db);
    expect(stored.rows[0]!.permissions).toEqual({ 'crm.contacts.write': 'all' });
  });

  it('renames a custom role; the owner role cannot be changed (409)', async () => {
    const created = await as(h, a, 'admin')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'Old', permissions: [] } });
    const id = (created.json() as RoleBody).id;
    const res = await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: { name: 'New', description: 'renamed' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'New', description: 'renamed' });
    expectProblem(await as(h, a, 'owner')({ method: 'PATCH', url: `/v1/roles/${await roleId(a, 'owner')}`, payload: { permissions: [] } }), 409, 'role_protected');
  });

  it('an admin cannot revoke what they do not hold either', async () => {
    const created = await as(h, a, 'owner')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'vault2', permissions: [{ key: 'test.vault.read' }] } });
    const id = (created.json() as RoleBody).id;
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: { permissions: [] } }), 403, 'permission_denied');
    // Renaming it touches no grant: allowed.
    expect((await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: { name: 'Vault' } })).statusCode).toBe(200);
  });

  it("400 for an empty or bad body, 401, 403, another tenant's role 404", async () => {
    const id = await roleId(a, 'viewer');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: { permissions: [{ key: 'x.y.z' }] } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'PATCH', url: `/v1/roles/${id}`, headers: { 'x-tenant': a.slug }, payload: { name: 'x' } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: { name: 'x' } }), 403, 'permission_denied');
    expectProblem(await as(h, b, 'owner')({ method: 'PATCH', url: `/v1/roles/${id}`, payload: { name: 'x' } }), 404, 'not_found');
  });
});

describe('DELETE /v1/roles/:id', () => {
  it('deletes an unused custom role (audited); refuses system roles and roles in use (409)', async () => {
    const t = await createTenant(h, 'rd');
    const created = await as(h, t, 'admin')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'Temp', permissions: [{ key: 'identity.me.read' }] } });
    const role = created.json() as RoleBody;
    // In use: give it to the viewer.
    expect((await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/members/${t.accounts.viewer.id}`, payload: { role: role.key } })).statusCode).toBe(200);
    expectProblem(await as(h, t, 'admin')({ method: 'DELETE', url: `/v1/roles/${role.id}` }), 409, 'role_in_use');
    expect((await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/members/${t.accounts.viewer.id}`, payload: { role: 'viewer' } })).statusCode).toBe(200);
    const res = await as(h, t, 'admin')({ method: 'DELETE', url: `/v1/roles/${role.id}` });
    expect(res.statusCode, res.body).toBe(204);
    expect(await auditActions(t, role.id)).toEqual(['identity.role.created', 'identity.role.deleted']);
    expectProblem(await as(h, t, 'admin')({ method: 'GET', url: `/v1/roles/${role.id}` }), 404, 'not_found');
    expectProblem(await as(h, t, 'owner')({ method: 'DELETE', url: `/v1/roles/${await roleId(t, 'viewer')}` }), 409, 'role_protected');
  });

  it("400, 401, 403, another tenant's role 404", async () => {
    const created = await as(h, a, 'admin')({ method: 'POST', url: '/v1/roles', payload: { key: newRoleKey(), name: 'Temp', permissions: [] } });
    const id = (created.json() as RoleBody).id;
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/roles/123' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/roles/${id}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'manager')({ method: 'DELETE', url: `/v1/roles/${id}` }), 403, 'permission_denied');
    expectProblem(await as(h, b, 'owner')({ method: 'DELETE', url: `/v1/roles/${id}` }), 404, 'not_found');
    expect((await as(h, a, 'admin')({ method: 'GET', url: `/v1/roles/${id}` })).statusCode).toBe(200);
  });
});
