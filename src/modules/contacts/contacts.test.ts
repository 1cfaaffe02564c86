// Contacts: the reference module. Every route gets happy path, validation
// error, unauthenticated 401, another tenant's id 404 and missing permission
// 403, against the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Static } from 'typebox';
import type { Contact } from './schemas.ts';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'ca'), createTenant(h, 'cb')]);
});
afterAll(() => h?.close());

type ContactJson = Static<typeof Contact>;

async function create(t: TestTenant, body: Record<string, unknown>, role: 'owner' | 'member' = 'owner'): Promise<ContactJson> {
  const res = await as(h, t, role)({ method: 'POST', url: '/v1/contacts', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const rowsOf = async (t: TestTenant) =>
  // (The CamelCasePlugin maps result columns to camelCase.)
  (await sql<{ id: string; firstName: string; email: string | null; deletedAt: Date | null }>`select id, first_name, email, deleted_at from ${sql.id(t.tenant.schemaName, 'contacts')} order by id`.execute(h.db)).rows;

const noToken = (opts: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }, t: TestTenant) =>
  h.app.inject({ ...opts, headers: { 'x-tenant': t.slug } });

describe('POST /v1/contacts', () => {
  it('creates a contact owned by the caller by default', async () => {
    const c = await create(a, { firstName: ' Ada ', lastName: 'Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000', jobTitle: 'Engineer' });
    expect(c).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', ownerId: a.accounts.owner.id, createdBy: a.accounts.owner.id, deletedAt: null });
    expect(new Date(c.createdAt).toISOString()).toBe(c.createdAt);
    const stored = (await rowsOf(a)).find((r) => r.id === c.id);
    expect(stored?.firstName).toBe('Ada');
  });

  it('rejects invalid fields with pointers', async () => {
    const res = await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { email: 'not-an-email', phone: 'call me', unknown: 1 } });
    const p = expectProblem(res, 400, 'validation_failed');
    const pointers = p.errors!.map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/email', '/firstName', '/phone', '/unknown']);
    expect(p.errors!.every((e) => e.in === 'body')).toBe(true);
  });

  it('refuses a blank first name', async () => {
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: '   ' } }), 400, 'validation_failed');
  });

  it('refuses a duplicate email with 409, case-insensitively', async () => {
    await create(a, { firstName: 'Dup', email: 'dup@example.com' });
    const before = (await rowsOf(a)).length;
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Dup2', email: 'DUP@example.com' } }), 409, 'contact_email_taken');
    expect(p.errors?.[0]?.pointer).toBe('/email');
    expect((await rowsOf(a)).length).toBe(before);
  });

  it('allows the same email in another tenant', async () => {
    await create(a, { firstName: 'Same', email: 'same@example.com' });
    await create(b, { firstName: 'Same', email: 'same@example.com' });
  });

  it('refuses an owner who is not a member of the tenant (422)', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'X', ownerId: b.accounts.owner.id } }), 422, 'invalid_reference');
    expect(p.errors?.[0]?.pointer).toBe('/ownerId');
  });

  it('401 without a token, 401 with a bad token', async () => {
    expectProblem(await noToken({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'X' } }, a), 401, 'unauthenticated');
    const res = await h.app.inject({ method: 'POST', url: '/v1/contacts', headers: { authorization: 'Bearer nope', 'x-tenant': a.slug }, payload: { firstName: 'X' } });
    expectProblem(res, 401, 'invalid_token');
  });

  it('403 for a viewer', async () => {
    const before = (await rowsOf(a)).length;
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'X' } }), 403, 'permission_denied');
    expect((await rowsOf(a)).length).toBe(before);
  });
});

describe('GET /v1/contacts/:id', () => {
  it('returns the contact', async () => {
    const c = await create(a, { firstName: 'Get', email: 'get@example.com' });
    const res = await as(h, a, 'viewer')({ method: 'GET', url: `/v1/contacts/${c.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(c);
  });

  it('400 for a malformed id', async () => {
    const p = expectProblem(await as(h, a)({ method: 'GET', url: '/v1/contacts/not-a-uuid' }), 400, 'validation_failed');
    expect(p.errors?.[0]).toMatchObject({ in: 'params', pointer: '/id' });
  });

  it('401 without a token', async () => {
    const c = await create(a, { firstName: 'Anon' });
    expectProblem(await noToken({ method: 'GET', url: `/v1/contacts/${c.id}` }, a), 401, 'unauthenticated');
  });

  it("404 for another tenant's contact, identical to a missing one", async () => {
    const c = await create(a, { firstName: 'Secret', email: 'secret@example.com' });
    const other = expectProblem(await as(h, b)({ method: 'GET', url: `/v1/contacts/${c.id}` }), 404, 'not_found');
    const missing = expectProblem(await as(h, b)({ method: 'GET', url: '/v1/contacts/00000000-0000-7000-8000-000000000000' }), 404, 'not_found');
    expect(other.detail).toBe(missing.detail);
  });

  it('403 for a member whose role lacks the permission (membership removed)', async () => {
    const t = await createTenant(h, 'cr');
    const c = await create(t, { firstName: 'Removed' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: `/v1/contacts/${c.id}` }), 403, 'permission_denied');
  });
});

describe('GET /v1/contacts', () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTenant(h, 'cl');
    const names = ['Zed', 'amy', 'Bob', 'Cat', 'Dan', 'Eve', 'Fay'];
    for (const [i, n] of names.entries()) await create(t, { firstName: n, lastName: i % 2 ? null : `L${n}`, email: `${n.toLowerCase()}@list.example` }, i === 0 ? 'member' : 'owner');
  });

  it('pages through every contact exactly once with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/contacts?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await as(h, t, 'viewer')({ method: 'GET', url });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { data: ContactJson[]; nextCursor: string | null };
      seen.push(...page.data.map((c) => c.firstName));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(['Fay', 'Eve', 'Dan', 'Cat', 'Bob', 'amy', 'Zed']); // -createdAt by default
  });

  it('sorts by a nullable field across pages (nulls first ascending)', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(h, t)({ method: 'GET', url: `/v1/contacts?limit=2&sort=lastName${cursor ? `&cursor=${cursor}` : ''}` });
      const page = res.json() as { data: ContactJson[]; nextCursor: string | null };
      names.push(...page.data.map((c) => c.lastName ?? '-'));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names).toEqual(['-', '-', '-', 'LBob', 'LDan', 'LFay', 'LZed']);
  });

  it('filters by email, owner and text', async () => {
    const byEmail = (await as(h, t)({ method: 'GET', url: '/v1/contacts?email=BOB@list.example' })).json() as { data: ContactJson[] };
    expect(byEmail.data.map((c) => c.firstName)).toEqual(['Bob']);
    const byOwner = (await as(h, t)({ method: 'GET', url: `/v1/contacts?ownerId=${t.accounts.member.id}` })).json() as { data: ContactJson[] };
    expect(byOwner.data.map((c) => c.firstName)).toEqual(['Zed']);
    const byText = (await as(h, t)({ method: 'GET', url: '/v1/contacts?q=AMY' })).json() as { data: ContactJson[] };
    expect(byText.data.map((c) => c.firstName)).toEqual(['amy']);
    const wildcard = (await as(h, t)({ method: 'GET', url: '/v1/contacts?q=%25' })).json() as { data: ContactJson[] };
    expect(wildcard.data).toEqual([]);
  });

  it('rejects bad query parameters and foreign cursors', async () => {
    const p = expectProblem(await as(h, t)({ method: 'GET', url: '/v1/contacts?limit=0&sort=password' }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/limit', '/sort']);
    expect(p.errors![0]!.in).toBe('query');
    expectProblem(await as(h, t)({ method: 'GET', url: '/v1/contacts?cursor=garbage' }), 400, 'invalid_cursor');
    const first = (await as(h, t)({ method: 'GET', url: '/v1/contacts?limit=1' })).json() as { nextCursor: string };
    expectProblem(await as(h, t)({ method: 'GET', url: `/v1/contacts?sort=email&cursor=${first.nextCursor}` }), 400, 'invalid_cursor');
  });

  it('401 without a token', async () => {
    expectProblem(await noToken({ method: 'GET', url: '/v1/contacts' }, t), 401, 'unauthenticated');
  });

  it("never lists another tenant's contacts", async () => {
    const res = (await as(h, b)({ method: 'GET', url: '/v1/contacts?q=list.example' })).json() as { data: ContactJson[] };
    expect(res.data).toEqual([]);
  });

  it('403 for a member whose membership was removed', async () => {
    const x = await createTenant(h, 'cx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.member.id).execute();
    expectProblem(await as(h, x, 'member')({ method: 'GET', url: '/v1/contacts' }), 403, 'permission_denied');
  });
});

describe('PATCH /v1/contacts/:id', () => {
  it('updates given fields, clears nulls, keeps the rest', async () => {
    const c = await create(a, { firstName: 'Pat', lastName: 'Old', email: 'pat@example.com', jobTitle: 'CTO' });
    const res = await as(h, a, 'member')({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { lastName: 'New', jobTitle: null } });
    expect(res.statusCode, res.body).toBe(200);
    const u = res.json() as ContactJson;
    expect(u).toMatchObject({ firstName: 'Pat', lastName: 'New', jobTitle: null, email: 'pat@example.com', updatedBy: a.accounts.member.id });
    expect(u.updatedAt >= c.updatedAt).toBe(true);
  });

  it('400 for an empty patch or a bad field', async () => {
    const c = await create(a, { firstName: 'Val' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: {} }), 400, 'validation_failed');
    const p = expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { firstName: null } }), 400, 'validation_failed');
    expect(p.errors?.[0]?.pointer).toBe('/firstName');
  });

  it('409 when the new email belongs to another contact; nothing changes', async () => {
    await create(a, { firstName: 'Holder', email: 'holder@example.com' });
    const c = await create(a, { firstName: 'Mover', email: 'mover@example.com' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { email: 'Holder@example.com' } }), 409, 'contact_email_taken');
    expect((await rowsOf(a)).find((r) => r.id === c.id)?.email).toBe('mover@example.com');
  });

  it('401, 403 and 404 (other tenant) change nothing', async () => {
    const c = await create(a, { firstName: 'Keep' });
    expectProblem(await noToken({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { firstName: 'X' } }, a), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { firstName: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { firstName: 'X' } }), 404, 'not_found');
    expect((await rowsOf(a)).find((r) => r.id === c.id)?.firstName).toBe('Keep');
  });
});

describe('DELETE /v1/contacts/:id and POST /v1/contacts/:id/restore', () => {
  it('soft-deletes, hides, lists in the trash and restores', async () => {
    const c = await create(a, { firstName: 'Trash', email: 'trash@example.com' });
    const del = await as(h, a, 'member')({ method: 'DELETE', url: `/v1/contacts/${c.id}` });
    expect(del.statusCode).toBe(204);
    expect((await rowsOf(a)).find((r) => r.id === c.id)?.deletedAt).toBeInstanceOf(Date);
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/contacts/${c.id}` }), 404, 'not_found');
    expectProblem(await as(h, a)({ method: 'DELETE', url: `/v1/contacts/${c.id}` }), 404, 'not_found');
    const trash = (await as(h, a)({ method: 'GET', url: '/v1/contacts?deleted=true&email=trash@example.com' })).json() as { data: ContactJson[] };
    expect(trash.data.map((x) => x.id)).toEqual([c.id]);
    const restored = await as(h, a)({ method: 'POST', url: `/v1/contacts/${c.id}/restore` });
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ id: c.id, deletedAt: null });
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/contacts/${c.id}/restore` }), 404, 'not_found');
  });

  it('a deleted contact frees its email; restoring it then conflicts (409)', async () => {
    const old = await create(a, { firstName: 'Old', email: 'reuse@example.com' });
    await as(h, a)({ method: 'DELETE', url: `/v1/contacts/${old.id}` });
    await create(a, { firstName: 'New', email: 'reuse@example.com' });
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/contacts/${old.id}/restore` }), 409, 'contact_email_taken');
    expect((await rowsOf(a)).find((r) => r.id === old.id)?.deletedAt).toBeInstanceOf(Date);
  });

  it('validation, 401, 403 and other-tenant 404 leave the contact alone', async () => {
    const c = await create(a, { firstName: 'Stay' });
    expectProblem(await as(h, a)({ method: 'DELETE', url: '/v1/contacts/123' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts/123/restore' }), 400, 'validation_failed');
    expectProblem(await noToken({ method: 'DELETE', url: `/v1/contacts/${c.id}` }, a), 401, 'unauthenticated');
    expectProblem(await noToken({ method: 'POST', url: `/v1/contacts/${c.id}/restore` }, a), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url: `/v1/contacts/${c.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: `/v1/contacts/${c.id}/restore` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/contacts/${c.id}` }), 404, 'not_found');
    await as(h, a)({ method: 'DELETE', url: `/v1/contacts/${c.id}` });
    expectProblem(await as(h, b)({ method: 'POST', url: `/v1/contacts/${c.id}/restore` }), 404, 'not_found');
    expect((await rowsOf(a)).find((r) => r.id === c.id)?.deletedAt).toBeInstanceOf(Date);
  });
});

describe('tenant isolation', () => {
  it("tenant B, with its own token and header, can neither read nor change tenant A's contacts", async () => {
    const x = await createTenant(h, 'ia');
    const y = await createTenant(h, 'ib');
    const ax = await create(x, { firstName: 'Alice', email: 'shared@example.com' });
    const ay = await create(y, { firstName: 'Alice', email: 'shared@example.com' });
    const before = await rowsOf(x);
    const asB = as(h, y);
    const calls = [
      { method: 'GET' as const, url: `/v1/contacts/${ax.id}` },
      { method: 'PATCH' as const, url: `/v1/contacts/${ax.id}`, payload: { firstName: 'Mallory' } },
      { method: 'DELETE' as const, url: `/v1/contacts/${ax.id}` },
      { method: 'POST' as const, url: `/v1/contacts/${ax.id}/restore` },
    ];
    for (const call of calls) expectProblem(await asB(call), 404, 'not_found');
    const listed = (await asB({ method: 'GET', url: '/v1/contacts?email=shared@example.com' })).json() as { data: ContactJson[] };
    expect(listed.data.map((c) => c.id)).toEqual([ay.id]);
    expect(await rowsOf(x)).toEqual(before);
  });

  it("tenant B's token with tenant A's header is refused (403), A unchanged", async () => {
    const x = await createTenant(h, 'ic');
    const y = await createTenant(h, 'id');
    const before = await rowsOf(x);
    const res = await h.app.inject({ method: 'POST', url: '/v1/contacts', headers: { authorization: `Bearer ${y.tokens.owner}`, 'x-tenant': x.slug }, payload: { firstName: 'Intruder' } });
    expectProblem(res, 403, 'tenant_mismatch');
    expect(await rowsOf(x)).toEqual(before);
  });
});
