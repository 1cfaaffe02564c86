// Record scope on contacts, enforced in the repository SQL: a manager sees
// their team's contacts (reports of reports too), a member with scope `own`
// only theirs, an admin all; a contact out of scope is a 404 like a missing one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { as, createTenant, expectProblem, login, PASSWORD, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { ensureMember } from '../identity/service.ts';

let h: Harness;
let t: TestTenant;
/** Extra members: rep1 and rep2 report to the manager, rep3 to rep1; outsider reports to nobody. */
const people: Record<'rep1' | 'rep2' | 'rep3' | 'outsider', { id: string; token: string }> = {} as never;
/** One contact per owner. */
const contactOf: Record<string, string> = {};

const asToken = (token: string) => (opts: InjectOptions) => h.app.inject({ ...opts, headers: { authorization: `Bearer ${token}`, 'x-tenant': t.slug, ...(opts.headers ?? {}) } });

beforeAll(async () => {
  h = await startApp();
  t = await createTenant(h, 'sc');
  for (const name of ['rep1', 'rep2', 'rep3', 'outsider'] as const) {
    const email = `${name}@${t.slug}.example`;
    const account = await ensureMember(h.db, { tenantId: t.tenant.id, email, displayName: name, password: PASSWORD, role: 'member' });
    people[name] = { id: account.id, token: await login(h, t.slug, email) };
  }
  const admin = as(h, t, 'admin');
  for (const [who, boss] of [['rep1', t.accounts.manager.id], ['rep2', t.accounts.manager.id], ['rep3', people.rep1.id]] as const) {
    const res = await admin({ method: 'PATCH', url: `/v1/members/${people[who].id}`, payload: { reportsTo: boss } });
    expect(res.statusCode, res.body).toBe(200);
  }
  // Members see only their own contacts in this tenant.
  const roles = (await admin({ method: 'GET', url: '/v1/roles' })).json() as { items: Array<{ id: string; key: string; permissions: Array<{ key: string; scope: string }> }> };
  const member = roles.items.find((r) => r.key === 'member')!;
  const narrowed = member.permissions.map((p) => (p.key.startsWith('crm.contacts.') ? { key: p.key, scope: 'own' } : p));
  expect((await as(h, t, 'owner')({ method: 'PATCH', url: `/v1/roles/${member.id}`, payload: { permissions: narrowed } })).statusCode).toBe(200);

  const owners = { owner: t.accounts.owner.id, manager: t.accounts.manager.id, rep1: people.rep1.id, rep2: people.rep2.id, rep3: people.rep3.id, outsider: people.outsider.id };
  for (const [name, ownerId] of Object.entries(owners)) {
    const res = await admin({ method: 'POST', url: '/v1/contacts', payload: { firstName: `Contact of ${name}`, ownerId } });
    expect(res.statusCode, res.body).toBe(201);
    contactOf[name] = (res.json() as { id: string }).id;
  }
  const unowned = await admin({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Contact of nobody', ownerId: null } });
  contactOf.nobody = (unowned.json() as { id: string }).id;
});
afterAll(() => h?.close());

const listed = async (call: ReturnType<typeof asToken>, query = '') => {
  const res = await call({ method: 'GET', url: `/v1/contacts?limit=200${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: Array<{ firstName: string }> }).data.map((c) => c.firstName.replace('Contact of ', '')).sort();
};

describe('record scope on contacts', () => {
  it("a manager (scope team) sees their own and their reports' contacts, transitively", async () => {
    const manager = asToken(t.tokens.manager);
    expect(await listed(manager)).toEqual(['manager', 'rep1', 'rep2', 'rep3']);
    // Filters and search run inside the same scope.
    expect(await listed(manager, '&q=Contact')).toEqual(['manager', 'rep1', 'rep2', 'rep3']);
    expect(await listed(manager, `&ownerId=${people.outsider.id}`)).toEqual([]);
    expect((await manager({ method: 'GET', url: `/v1/contacts/${contactOf.rep3}` })).statusCode).toBe(200);
  });

  it('a member with scope own sees only their own; an admin sees all', async () => {
    expect(await listed(asToken(people.rep1.token))).toEqual(['rep1']);
    expect(await listed(asToken(people.outsider.token))).toEqual(['outsider']);
    expect(await listed(asToken(t.tokens.admin))).toEqual(['manager', 'nobody', 'outsider', 'owner', 'rep1', 'rep2', 'rep3']);
  });

  it('a contact out of scope is a 404 for get, update, delete and restore', async () => {
    const manager = asToken(t.tokens.manager);
    for (const id of [contactOf.outsider, contactOf.owner, contactOf.nobody]) {
      expectProblem(await manager({ method: 'GET', url: `/v1/contacts/${id}` }), 404, 'not_found');
      expectProblem(await manager({ method: 'PATCH', url: `/v1/contacts/${id}`, payload: { jobTitle: 'x' } }), 404, 'not_found');
      expectProblem(await manager({ method: 'DELETE', url: `/v1/contacts/${id}` }), 404, 'not_found');
    }
    const rep1 = asToken(people.rep1.token);
    expectProblem(await rep1({ method: 'GET', url: `/v1/contacts/${contactOf.rep3}` }), 404, 'not_found');
    // A deleted contact of the outsider cannot be restored by the manager.
    expect((await asToken(t.tokens.admin)({ method: 'DELETE', url: `/v1/contacts/${contactOf.outsider}` })).statusCode).toBe(204);
    expectProblem(await manager({ method: 'POST', url: `/v1/contacts/${contactOf.outsider}/restore` }), 404, 'not_found');
    expect((await asToken(t.tokens.admin)({ method: 'POST', url: `/v1/contacts/${contactOf.outsider}/restore` })).statusCode).toBe(200);
    // Nothing changed behind the 404s.
    const outsider = (await asToken(t.tokens.admin)({ method: 'GET', url: `/v1/contacts/${contactOf.outsider}` })).json() as { jobTitle: string | null; deletedAt: string | null };
    expect(outsider).toMatchObject({ jobTitle: null, deletedAt: null });
  });

  it('in scope the manager updates and deletes; records are only given to owners within scope', async () => {
    const manager = asToken(t.tokens.manager);
    const updated = await manager({ method: 'PATCH', url: `/v1/contacts/${contactOf.rep3}`, payload: { jobTitle: 'Buyer' } });
    expect(updated.statusCode, updated.body).toBe(200);
    expectProblem(await manager({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Gift', ownerId: people.outsider.id } }), 403, 'permission_denied');
    expectProblem(await manager({ method: 'PATCH', url: `/v1/contacts/${contactOf.rep3}`, payload: { ownerId: people.outsider.id } }), 403, 'permission_denied');
    const created = await manager({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'For rep2', ownerId: people.rep2.id } });
    expect(created.statusCode, created.body).toBe(201);
    expectProblem(await asToken(people.rep1.token)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Gift', ownerId: people.rep3.id } }), 403, 'permission_denied');
    expect((await manager({ method: 'DELETE', url: `/v1/contacts/${(created.json() as { id: string }).id}` })).statusCode).toBe(204);
  });

  it('a reporting line changed through the API applies at once', async () => {
    const admin = as(h, t, 'admin');
    expect((await admin({ method: 'PATCH', url: `/v1/members/${people.outsider.id}`, payload: { reportsTo: people.rep3.id } })).statusCode).toBe(200);
    expect(await listed(asToken(t.tokens.manager))).toContain('outsider');
    expect((await admin({ method: 'PATCH', url: `/v1/members/${people.outsider.id}`, payload: { reportsTo: null } })).statusCode).toBe(200);
    expect(await listed(asToken(t.tokens.manager))).not.toContain('outsider');
  });
});
