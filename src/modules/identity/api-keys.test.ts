// API keys: shown once, stored as prefix + SHA-256, scoped to a subset of the
// creator's permissions, expiry, last use, revocation, on every route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyPluginAsync } from 'fastify';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { modules } from '../index.ts';
import type { PlinthModule } from '../../platform/module.ts';

// A permission only owners hold, to show that an admin cannot grant it.
const ownerOnlyRoutes: FastifyPluginAsync = async (app) => {
  app.get('/v1/test-vault', { config: { permission: 'test.vault.read' } }, async () => ({ secret: 42 }));
};
const testModule: PlinthModule = { name: 'test-vault', permissions: [{ key: 'test.vault.read', description: 'owner only', roles: [] }], routes: ownerOnlyRoutes };

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp({ modules: [...modules, testModule] });
  [a, b] = await Promise.all([createTenant(h, 'ka'), createTenant(h, 'kb')]);
});
afterAll(() => h?.close());

interface Created {
  id: string;
  key: string;
  prefix: string;
  permissions: string[];
}

async function createKey(t: TestTenant, body: object, role: 'owner' | 'admin' = 'admin'): Promise<Created> {
  const res = await as(h, t, role)({ method: 'POST', url: '/v1/api-keys', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const withKey = (key: string, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
  h.app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...headers }, ...(payload ? { payload } : {}) });

describe('POST /v1/api-keys and using a key', () => {
  it('shows the key once, stores only prefix + SHA-256, and the key works within its scope only', async () => {
    const k = await createKey(a, { name: ' reader ', permissions: ['crm.contacts.read'] });
    expect(k.key).toMatch(new RegExp(`^plk_${k.prefix}_[A-Za-z0-9_-]{43}$`));
    const stored = JSON.stringify((await sql`select * from api_keys where id = ${k.id}`.execute(h.db)).rows);
    expect(stored).not.toContain(k.key.split('_')[2]);
    expect((await withKey(k.key, 'GET', '/v1/contacts')).statusCode).toBe(200);
    expect((await withKey(k.key, 'GET', '/v1/contacts', undefined, { 'x-tenant': a.slug })).statusCode).toBe(200);
    expectProblem(await withKey(k.key, 'POST', '/v1/contacts', { firstName: 'X' }), 403, 'permission_denied');
    expectProblem(await withKey(k.key, 'GET', '/v1/me'), 403, 'permission_denied');
    const list = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/api-keys' })).json() as { items: Array<{ id: string; name: string; lastUsedAt: string | null; key?: string }> };
    const item = list.items.find((i) => i.id === k.id)!;
    expect(item).toMatchObject({ name: 'reader' });
    expect(item.key).toBeUndefined();
    expect(item.lastUsedAt).not.toBeNull();
    const used = (await as(h, a)({ method: 'GET', url: `/v1/audit?action=auth.api_key.used&targetId=${k.id}` })).json() as { data: unknown[] };
    expect(used.data).toHaveLength(1); // recorded at most once a minute
  });

  it('a write key creates records as its creator', async () => {
    const k = await createKey(a, { name: 'writer', permissions: ['crm.contacts.write', 'crm.contacts.read'] });
    const res = await withKey(k.key, 'POST', '/v1/contacts', { firstName: 'ByKey' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ createdBy: a.accounts.admin.id });
  });

  it('nobody can grant a permission they do not hold (403); the owner can', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', permissions: ['test.vault.read'] } }), 403, 'permission_denied');
    const k = await createKey(a, { name: 'vault', permissions: ['test.vault.read'] }, 'owner');
    expect((await withKey(k.key, 'GET', '/v1/test-vault')).json()).toEqual({ secret: 42 });
  });

  it("demoting the creator narrows the key to what they still hold", async () => {
    const t = await createTenant(h, 'kd');
    const k = await createKey(t, { name: 'w', permissions: ['crm.contacts.write'] });
    await h.db.updateTable('memberships').set({ role: 'viewer' }).where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.admin.id).execute();
    expectProblem(await withKey(k.key, 'POST', '/v1/contacts', { firstName: 'X' }), 403, 'permission_denied');
  });

  it('400 for unknown, sign-in or no permissions, a past expiry or extra fields', async () => {
    for (const payload of [
      { name: 'x', permissions: ['no.such.permission'] },
      { name: 'x', permissions: ['identity.sessions.manage'] },
      { name: 'x', permissions: [] },
      { name: '', permissions: ['crm.contacts.read'] },
      { name: 'x', permissions: ['crm.contacts.read'], expiresAt: new Date(Date.now() - 1000).toISOString() },
      { name: 'x', permissions: ['crm.contacts.read'], extra: 1 },
    ]) {
      expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/api-keys', payload }), 400, 'validation_failed');
    }
  });

  it('401 without a token; 403 for a member; a key of tenant A with X-Tenant: B is refused', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/api-keys', headers: { 'x-tenant': a.slug }, payload: { name: 'x', permissions: ['crm.contacts.read'] } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', permissions: ['crm.contacts.read'] } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/api-keys' }), 403, 'permission_denied');
    const k = await createKey(a, { name: 'r', permissions: ['crm.contacts.read'] });
    expectProblem(await withKey(k.key, 'GET', '/v1/contacts', undefined, { 'x-tenant': b.slug }), 403, 'tenant_mismatch');
  });

  it('expired, revoked, tampered and unknown keys get 401', async () => {
    const expiring = await createKey(a, { name: 'e', permissions: ['crm.contacts.read'], expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await withKey(expiring.key, 'GET', '/v1/contacts')).statusCode).toBe(200);
    await sql`update api_keys set expires_at = now() - interval '1 second' where id = ${expiring.id}`.execute(h.db);
    expectProblem(await withKey(expiring.key, 'GET', '/v1/contacts'), 401, 'invalid_token');
    const k = await createKey(a, { name: 'r', permissions: ['crm.contacts.read'] });
    const tampered = k.key.slice(0, -1) + (k.key.endsWith('A') ? 'B' : 'A');
    expectProblem(await withKey(tampered, 'GET', '/v1/contacts'), 401, 'invalid_token');
    expectProblem(await withKey('plk_aaaaaaaaaa_' + 'A'.repeat(43), 'GET', '/v1/contacts'), 401, 'invalid_token');
    expectProblem(await withKey('plk_nonsense', 'GET', '/v1/contacts'), 401, 'invalid_token');
    expect((await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/api-keys/${k.id}` })).statusCode).toBe(204);
    expectProblem(await withKey(k.key, 'GET', '/v1/contacts'), 401, 'invalid_token');
  });
});

describe('DELETE /v1/api-keys/:id', () => {
  it("404 for another tenant's key or a missing one, 400 for a bad id, 401 and 403", async () => {
    const kb = await createKey(b, { name: 'b', permissions: ['crm.contacts.read'] });
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/api-keys/${kb.id}` }), 404, 'not_found');
    expect((await withKey(kb.key, 'GET', '/v1/contacts')).statusCode).toBe(200);
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/api-keys/${randomUUID()}` }), 404, 'not_found');
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/api-keys/nope' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/api-keys/${kb.id}`, headers: { 'x-tenant': b.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, b, 'member')({ method: 'DELETE', url: `/v1/api-keys/${kb.id}` }), 403, 'permission_denied');
  });
});

describe('GET /v1/me/permissions', () => {
  it('lists the caller’s permissions with descriptions; for a key, only its scope', async () => {
    const res = await as(h, a, 'viewer')({ method: 'GET', url: '/v1/me/permissions' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { role: string; permissions: Array<{ key: string; description: string }> };
    expect(body.role).toBe('viewer');
    expect(body.permissions.map((p) => p.key)).toContain('crm.contacts.read');
    expect(body.permissions.map((p) => p.key)).not.toContain('crm.contacts.write');
    expect(body.permissions.every((p) => p.description.length > 0)).toBe(true);
    const owner = (await as(h, a)({ method: 'GET', url: '/v1/me/permissions' })).json() as { permissions: unknown[] };
    expect(owner.permissions.length).toBe(h.app.platform.permissions.all().length);
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me/permissions', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me/permissions', headers: { authorization: `Bearer ${a.tokens.viewer}`, 'x-tenant': b.slug } }), 403, 'tenant_mismatch');
    // A key cannot hold identity.me.read, so it cannot call this route.
    const k = await createKey(a, { name: 'r', permissions: ['crm.contacts.read'] });
    expectProblem(await withKey(k.key, 'GET', '/v1/me/permissions'), 403, 'permission_denied');
  });
});
