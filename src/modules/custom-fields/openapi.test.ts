// GET /v1/custom-fields/openapi.json: the tenant's companies and deals with
// their custom fields as OpenAPI 3.1 schemas; the `custom` schema accepts
// what the API returns and refuses what it would refuse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'cfo'), createTenant(h, 'cfp')]);
});
afterAll(() => h?.close());

type Doc = { openapi: string; components: { schemas: Record<string, Record<string, unknown>> } };

describe('GET /v1/custom-fields/openapi.json', () => {
  it('describes each custom field by key with its type; a real record validates, bad values do not', async () => {
    const admin = as(h, a, 'admin');
    for (const payload of [
      { object: 'company', key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'], required: true },
      { object: 'company', key: 'tags', label: 'Tags', type: 'multi_select', options: ['eu', 'us'] },
      { object: 'company', key: 'arr', label: 'ARR', type: 'currency', currency: 'EUR' },
      { object: 'deal', key: 'score', label: 'Score', type: 'number' },
    ]) expect((await admin({ method: 'POST', url: '/v1/custom-fields', payload })).statusCode).toBe(201);
    const res = await as(h, a, 'viewer')({ method: 'GET', url: '/v1/custom-fields/openapi.json' });
    expect(res.statusCode, res.body).toBe(200);
    const doc = res.json() as Doc;
    expect(doc.openapi).toBe('3.1.0');
    const companyCustom = doc.components.schemas.CompanyCustom!;
    expect(companyCustom).toMatchObject({ type: 'object', required: ['tier'], properties: { tier: { type: 'string', enum: ['gold', 'silver'], title: 'Tier' }, tags: { type: 'array' }, arr: { type: 'string' } } });
    expect(doc.components.schemas.DealCustom).toMatchObject({ properties: { score: { type: 'number' } } });
    expect(doc.components.schemas.Company).toEqual({ allOf: [{ $ref: '/openapi.json#/components/schemas/Company' }, { type: 'object', properties: { custom: { $ref: '#/components/schemas/CompanyCustom' } } }] });

    // TypeBox schemas are JSON Schema: its checker validates the document's schema as it is.
    const validate = (v: unknown) => Value.Check(companyCustom as unknown as TSchema, v);
    const company = (await admin({ method: 'POST', url: '/v1/companies', payload: { name: 'Acme', custom: { tier: 'gold', tags: ['eu'], arr: '1200.00' } } })).json() as { custom: unknown };
    expect(validate(company.custom)).toBe(true);
    expect(validate({ tier: 'bronze' })).toBe(false);
    expect(validate({ tags: ['eu'] })).toBe(false); // tier is required
    // Another tenant's document has none of these fields.
    expect(((await as(h, b)({ method: 'GET', url: '/v1/custom-fields/openapi.json' })).json() as Doc).components.schemas.CompanyCustom).toEqual({ type: 'object', additionalProperties: false, properties: {} });
  });

  it('401 without a token, 403 without membership', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/custom-fields/openapi.json', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    const x = await createTenant(h, 'cfq');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/custom-fields/openapi.json' }), 403, 'permission_denied');
  });
});
