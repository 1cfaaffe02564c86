import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTenant, expectProblem, login, startApp, uniqueSlug, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { createPlatformAdmin } from './admins.ts';

let h: Harness;
let tenant: TestTenant;
let adminToken: string;
const ADMIN_PASSWORD = 'platform admin password';

const asAdmin = (opts: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }, token = adminToken) =>
  h.app.inject({ ...opts, headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  h = await startApp({ config: { TENANT_SPARE_POOL_SIZE: '0' } });
  tenant = await createTenant(h, 'padm');
  const email = `${uniqueSlug('root')}@platform.example`;
  await createPlatformAdmin(h.db, { email, password: ADMIN_PASSWORD });
  const res = await h.app.inject({ method: 'POST', url: '/v1/platform/login', payload: { email, password: ADMIN_PASSWORD } });
  expect(res.statusCode).toBe(200);
  adminToken = res.json().accessToken;
});
afterAll(async () => {
  await h?.close();
});

describe('platform-admin API', () => {
  it('creates, lists, gets, suspends, resumes, renames and deletes a tenant', async () => {
    const slug = uniqueSlug('api');
    const created = await asAdmin({ method: 'POST', url: '/v1/platform/tenants', payload: { slug, displayName: 'Via API', ownerEmail: `owner@${slug}.example` } });
    expect(created.statusCode, created.body).toBe(201);
    const { tenant: t, owner } = created.json();
    expect(t).toMatchObject({ slug, displayName: 'Via API', status: 'active', schemaVersion: h.app.platform.migrations.latest });
    expect(owner.password).toMatch(/^[\w-]{20}$/);
    // The owner logs in to the new tenant with the generated password.
    expect(await login(h, slug, `owner@${slug}.example`, owner.password)).toBeTruthy();

    const list = await asAdmin({ method: 'GET', url: '/v1/platform/tenants?limit=1000' });
    expect(list.statusCode).toBe(200);
    expect(list.json().tenants.map((x: { slug: string }) => x.slug)).toContain(slug);

    const got = await asAdmin({ method: 'GET', url: `/v1/platform/tenants/${slug}` });
    expect(got.json()).toMatchObject({ slug, sizeBytes: expect.any(Number) });

    expect((await asAdmin({ method: 'POST', url: `/v1/platform/tenants/${slug}/suspend` })).json().status).toBe('suspended');
    // This process's directory was invalidated: the tenant is refused at once.
    const refused = await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': slug }, payload: { email: `owner@${slug}.example`, password: owner.password } });
    expectProblem(refused, 403, 'tenant_suspended');
    expect((await asAdmin({ method: 'POST', url: `/v1/platform/tenants/${slug}/resume` })).json().status).toBe('active');

    const renamed = `${slug}-x`;
    const patch = await asAdmin({ method: 'PATCH', url: `/v1/platform/tenants/${slug}`, payload: { slug: renamed } });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.json()).toMatchObject({ slug: renamed, schemaName: t.schemaName });
    expectProblem(await asAdmin({ method: 'GET', url: `/v1/platform/tenants/${slug}` }), 404, 'tenant_not_found');

    const del = await asAdmin({ method: 'DELETE', url: `/v1/platform/tenants/${renamed}?export=false` });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json()).toMatchObject({ slug: renamed, exportFile: null });
    expect(del.json().droppedTables).toBeGreaterThan(1);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = ${t.schemaName}`.execute(h.db);
    expect(rows[0]!.n).toBe(0);
  });

  it('validates input: bad slug, taken slug, bad email, empty rename', async () => {
    expectProblem(await asAdmin({ method: 'POST', url: '/v1/platform/tenants', payload: { slug: 'Bad Slug', displayName: 'x', ownerEmail: 'o@x.example' } }), 400, 'validation_failed');
    expectProblem(await asAdmin({ method: 'POST', url: '/v1/platform/tenants', payload: { slug: tenant.slug, displayName: 'x', ownerEmail: 'o@x.example' } }), 409, 'tenant_slug_taken');
    expectProblem(await asAdmin({ method: 'POST', url: '/v1/platform/tenants', payload: { slug: uniqueSlug(), displayName: 'x', ownerEmail: 'not-an-email' } }), 400, 'validation_failed');
    expectProblem(await asAdmin({ method: 'PATCH', url: `/v1/platform/tenants/${tenant.slug}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await asAdmin({ method: 'GET', url: '/v1/platform/tenants?limit=0' }), 400, 'validation_failed');
  });

  it('401 without a token; tenant tokens (even an owner) get 403 on platform routes', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/platform/tenants' }), 401, 'unauthenticated');
    expectProblem(await asAdmin({ method: 'GET', url: '/v1/platform/tenants' }, tenant.tokens.owner), 403, 'permission_denied');
    expectProblem(await asAdmin({ method: 'POST', url: `/v1/platform/tenants/${tenant.slug}/suspend` }, tenant.tokens.admin), 403, 'permission_denied');
  });

  it('a platform token opens no tenant data, and a revoked flag takes effect at once', async () => {
    const tenantRoute = await h.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${adminToken}`, 'x-tenant': tenant.slug } });
    expectProblem(tenantRoute, 403, 'tenant_mismatch');
    const email = `${uniqueSlug('gone')}@platform.example`;
    const { id } = await createPlatformAdmin(h.db, { email, password: ADMIN_PASSWORD });
    const token = (await h.app.inject({ method: 'POST', url: '/v1/platform/login', payload: { email, password: ADMIN_PASSWORD } })).json().accessToken;
    expect((await asAdmin({ method: 'GET', url: '/v1/platform/migrations' }, token)).statusCode).toBe(200);
    await sql`update public.accounts set is_platform_admin = false where id = ${id}`.execute(h.db);
    expectProblem(await asAdmin({ method: 'GET', url: '/v1/platform/migrations' }, token), 403, 'permission_denied');
  });

  it('platform login: wrong password and non-admin accounts get the same 401', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/platform/login', payload: { email: tenant.accounts.owner.email, password: 'correct horse battery staple' } }), 401, 'invalid_credentials');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/platform/login', payload: { email: 'nobody@platform.example', password: 'x' } }), 401, 'invalid_credentials');
  });

  it('fleet status over the API', async () => {
    const res = await asAdmin({ method: 'GET', url: '/v1/platform/migrations' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ latest: h.app.platform.migrations.latest, total: expect.any(Number) });
  });
});
