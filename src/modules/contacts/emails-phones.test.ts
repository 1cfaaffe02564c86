// People with several emails and phones and a company: `email`/`phone` stay
// the primary values (first of the lists), the company must be a live
// company of the same tenant, merges keep every address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { scopeToTenant } from '../../platform/context.ts';
import { insertContact, updateContact } from './repository.ts';
import type { ContactsTables } from './tables.ts';
import { sql, type SqlBool } from 'kysely';
import type { ScopeCondition } from '../../platform/record-scope.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let acme: string;
let otherTenantCompany: string;

type ContactJson = { id: string; email: string | null; emails: string[]; phone: string | null; phones: string[]; companyId: string | null; jobTitle: string | null };

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'cea'), createTenant(h, 'ceb')]);
  acme = ((await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'Acme', domain: 'acme.example' } })).json() as { id: string }).id;
  otherTenantCompany = ((await as(h, b)({ method: 'POST', url: '/v1/companies', payload: { name: 'Other', domain: 'other.example' } })).json() as { id: string }).id;
});
afterAll(() => h?.close());

const create = async (payload: object) => {
  const res = await as(h, a)({ method: 'POST', url: '/v1/contacts', payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as ContactJson;
};
const patch = async (id: string, payload: object) => {
  const res = await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${id}`, payload });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as ContactJson;
};

describe('contacts: emails, phones, company', () => {
  it('keeps the primary first; changing the primary or the list keeps them consistent', async () => {
    const c = await create({ firstName: 'Ada', email: 'ada@acme.example', emails: ['ada@home.example', 'ADA@acme.example'], phones: ['+44 1', '+44 2'], companyId: acme, jobTitle: 'CTO' });
    expect(c).toMatchObject({ email: 'ada@acme.example', emails: ['ada@acme.example', 'ada@home.example'], phone: '+44 1', phones: ['+44 1', '+44 2'], companyId: acme });
    // A new primary replaces the old one (as the single email did before lists).
    expect(await patch(c.id, { email: 'ada@new.example' })).toMatchObject({ email: 'ada@new.example', emails: ['ada@new.example', 'ada@home.example'] });
    // A new list keeps the primary when it is still in it, else its first is the primary.
    expect(await patch(c.id, { emails: ['x@y.example', 'ada@new.example'] })).toMatchObject({ email: 'ada@new.example', emails: ['ada@new.example', 'x@y.example'] });
    expect(await patch(c.id, { emails: ['z@y.example'] })).toMatchObject({ email: 'z@y.example', emails: ['z@y.example'] });
    // Clearing the primary promotes the next one.
    expect(await patch(c.id, { phone: null })).toMatchObject({ phone: '+44 2', phones: ['+44 2'] });
    expect(await patch(c.id, { companyId: null })).toMatchObject({ companyId: null });
    const byCompany = (await as(h, a)({ method: 'GET', url: `/v1/contacts?companyId=${acme}` })).json() as { data: unknown[] };
    expect(byCompany.data).toEqual([]);
    // A contact created the old way gets one-element lists.
    expect(await create({ firstName: 'Old', email: 'old@acme.example', phone: '+1 555' })).toMatchObject({ emails: ['old@acme.example'], phones: ['+1 555'] });
  });

  it('400 for a bad email in the list, 422 for an unknown or other tenant company, 409 for a taken primary email', async () => {
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'X', emails: ['nope'] } }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'X', phones: ['abc'] } }), 400, 'validation_failed');
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'X', companyId: otherTenantCompany } }), 422, 'invalid_reference');
    expect(p.errors?.[0]?.pointer).toBe('/companyId');
    const c = await create({ firstName: 'Y', email: 'y@acme.example' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { companyId: '0190b6b4-1c2d-7000-8000-000000000000' } }), 422, 'invalid_reference');
    await create({ firstName: 'Z', email: 'z@acme.example' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${c.id}`, payload: { emails: ['z@acme.example'] } }), 409, 'contact_email_taken');
  });

  it('repository callers that set only email/phone (seeds, sync) keep the lists consistent', async () => {
    const everything: ScopeCondition = () => sql<SqlBool>`true`;
    const db = scopeToTenant(h.db, a.tenant.schemaName).withTables<ContactsTables>();
    const by = a.accounts.owner.id;
    const now = new Date();
    const c = await insertContact(db, { id: uuidv7(), firstName: 'Sync', lastName: null, email: 'sync@acme.example', phone: '+1 200', jobTitle: null, ownerId: by, createdBy: by, updatedBy: by, createdAt: now, updatedAt: now, deletedAt: null });
    expect(c).toMatchObject({ emails: ['sync@acme.example'], phones: ['+1 200'] });
    await updateContact(db, c.id, everything, { emails: ['sync@acme.example', 'other@acme.example'] });
    expect(await updateContact(db, c.id, everything, { email: 'new@acme.example', updatedAt: new Date() })).toMatchObject({ email: 'new@acme.example', emails: ['new@acme.example', 'other@acme.example'] });
    expect(await updateContact(db, c.id, everything, { email: null, phone: null })).toMatchObject({ email: 'other@acme.example', emails: ['other@acme.example'], phone: null, phones: [] });
  });

  it('a merge keeps every email and phone of both people', async () => {
    const target = await create({ firstName: 'Grace', email: 'grace@acme.example', phones: ['+1 100'] });
    const source = await create({ firstName: 'Grace H', email: 'grace@navy.example', emails: ['gh@home.example'] });
    const res = await as(h, a)({ method: 'POST', url: `/v1/contacts/${target.id}/merge`, payload: { sourceId: source.id } });
    expect(res.statusCode, res.body).toBe(200);
    const merged = (await as(h, a)({ method: 'GET', url: `/v1/contacts/${target.id}` })).json() as ContactJson;
    expect(merged).toMatchObject({ email: 'grace@acme.example', emails: ['grace@acme.example', 'grace@navy.example', 'gh@home.example'], phones: ['+1 100'] });
  });
});
