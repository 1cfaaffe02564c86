// POST /v1/auth/login and GET /v1/me: the minimal identity of the foundation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { modules } from '../../src/modules/index.ts';
import { createPermissionRegistry } from '../../src/platform/permissions.ts';
import { as, createTenant, expectProblem, PASSWORD, startApp, type Harness, type TestTenant } from '../helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'la'), createTenant(h, 'lb')]);
});
afterAll(() => h?.close());

const loginReq = (slug: string | undefined, payload: unknown) =>
  h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: slug ? { 'x-tenant': slug } : {}, payload: payload as object });

describe('POST /v1/auth/login', () => {
  it('returns a short-lived EdDSA access token for the tenant', async () => {
    const res = await loginReq(a.slug, { email: a.accounts.member.email.toUpperCase(), password: PASSWORD });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { accessToken: string; tokenType: string; expiresIn: number };
    expect(body.tokenType).toBe('Bearer');
    expect(body.expiresIn).toBe(900);
    expect(decodeProtectedHeader(body.accessToken)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(decodeProtectedHeader(body.accessToken).kid).toBeTruthy();
    const claims = decodeJwt(body.accessToken);
    expect(claims).toMatchObject({ sub: a.accounts.member.id, tid: a.tenant.id });
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it('answers wrong password, unknown email and wrong tenant identically (401)', async () => {
    const wrong = expectProblem(await loginReq(a.slug, { email: a.accounts.owner.email, password: 'nope-nope-nope' }), 401, 'invalid_credentials');
    const unknown = expectProblem(await loginReq(a.slug, { email: 'nobody@nowhere.example', password: 'nope-nope-nope' }), 401, 'invalid_credentials');
    const otherTenant = expectProblem(await loginReq(b.slug, { email: a.accounts.owner.email, password: PASSWORD }), 401, 'invalid_credentials');
    const strip = (p: object) => ({ ...p, requestId: undefined });
    expect(strip(wrong)).toEqual(strip(unknown));
    expect(strip(wrong)).toEqual(strip(otherTenant));
  });

  it('validates the body with pointers', async () => {
    const p = expectProblem(await loginReq(a.slug, { email: 'not-an-email' }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/email', '/password']);
  });

  it('needs a tenant: none → 400, unknown → 404, suspended → 403', async () => {
    expectProblem(await loginReq(undefined, { email: a.accounts.owner.email, password: PASSWORD }), 400, 'tenant_required');
    expectProblem(await loginReq('no-such-tenant', { email: a.accounts.owner.email, password: PASSWORD }), 404, 'tenant_not_found');
    const s = await createTenant(h, 'ls');
    await h.db.updateTable('tenants').set({ status: 'suspended' }).where('id', '=', s.tenant.id).execute();
    expectProblem(await loginReq(s.slug, { email: s.accounts.owner.email, password: PASSWORD }), 403, 'tenant_suspended');
  });
});

describe('GET /v1/me', () => {
  it('returns the account, tenant, role and permissions', async () => {
    const res = await as(h, a, 'viewer')({ method: 'GET', url: '/v1/me' });
    expect(res.statusCode, res.body).toBe(200);
    // Exactly the viewer's permissions from the registry: reads, never writes.
    const viewer = [...createPermissionRegistry(modules.flatMap((m) => m.permissions ?? [])).permissionsOf('viewer')].sort();
    const { permissions } = res.json() as { permissions: string[] };
    expect(permissions).toEqual(viewer);
    expect(permissions).toEqual(expect.arrayContaining(['crm.contacts.read', 'identity.me.read']));
    expect(permissions).not.toContain('crm.contacts.write');
    expect(res.json()).toMatchObject({
      account: { id: a.accounts.viewer.id, email: a.accounts.viewer.email },
      tenant: { id: a.tenant.id, slug: a.slug },
      role: 'viewer',
    });
  });

  it('resolves the tenant from the token when no header is sent', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${a.tokens.owner}` } });
    expect((res.json() as { tenant: { slug: string } }).tenant.slug).toBe(a.slug);
  });

  it('401 without a token, with a malformed header, or with a token signed by another key', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Basic abc' } }), 401, 'invalid_token');
    const [head, body] = a.tokens.owner.split('.');
    const forged = `${head}.${body}.${Buffer.alloc(64).toString('base64url')}`;
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${forged}` } }), 401, 'invalid_token');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${body}.`;
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${none}` } }), 401, 'invalid_token');
  });

  it("another tenant's header with this token → 403 tenant_mismatch; unknown tenant → 404", async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${a.tokens.owner}`, 'x-tenant': b.slug } }), 403, 'tenant_mismatch');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${a.tokens.owner}`, 'x-tenant': 'nope-nope' } }), 404, 'tenant_not_found');
  });

  it('403 once the account is no longer a member of the tenant', async () => {
    const t = await createTenant(h, 'lm');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.member.id).execute();
    expectProblem(await as(h, t, 'member')({ method: 'GET', url: '/v1/me' }), 403, 'permission_denied');
  });
});
