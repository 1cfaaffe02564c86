// Pipelines and deals: every route gets happy path, validation error, 401,
// another tenant's id 404 and missing permission 403; plus stage history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Static } from 'typebox';
import type { Deal, Pipeline } from './schemas.ts';
import { DEFAULT_STAGES } from './migrations/20261123020100_create_deals.ts';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let sales: PipelineJson;

type DealJson = Static<typeof Deal>;
type PipelineJson = Static<typeof Pipeline>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'dea'), createTenant(h, 'deb')]);
  sales = ((await as(h, a)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: PipelineJson[] }).data[0]!;
});
afterAll(() => h?.close());

const noToken = (method: Method, url: string, t: TestTenant, payload?: object) => h.app.inject({ method, url, payload, headers: { 'x-tenant': t.slug } });
const stage = (name: string, p: PipelineJson = sales) => p.stages.find((s) => s.name === name)!.id;

async function createDeal(t: TestTenant, body: Record<string, unknown>, role: 'owner' | 'member' = 'owner'): Promise<DealJson> {
  const res = await as(h, t, role)({ method: 'POST', url: '/v1/deals', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function post(t: TestTenant, url: string, payload: object) {
  const res = await as(h, t)({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

describe('pipelines', () => {
  it('every tenant starts with the default pipeline and its ordered stages', async () => {
    const res = await as(h, b, 'viewer')({ method: 'GET', url: '/v1/pipelines' });
    expect(res.statusCode).toBe(200);
    const [p] = (res.json() as { data: PipelineJson[] }).data;
    expect(p).toMatchObject({ name: 'Sales', isDefault: true, deletedAt: null });
    expect(p!.stages.map(({ name, probability, kind, position }) => ({ name, probability, kind, position }))).toEqual(DEFAULT_STAGES.map((s, position) => ({ ...s, position })));
    expect(sales.stages.map((s) => s.id)).not.toEqual(p!.stages.map((s) => s.id));
  });

  it('an admin creates a pipeline; members may not; validation with pointers; 401', async () => {
    const body = { name: 'Renewals', stages: [{ name: 'Due', probability: 60, kind: 'open' }, { name: 'Renewed', probability: 100, kind: 'won' }, { name: 'Churned', probability: 0, kind: 'lost' }] };
    const res = await as(h, a, 'admin')({ method: 'POST', url: '/v1/pipelines', payload: body });
    expect(res.statusCode, res.body).toBe(201);
    expect((res.json() as PipelineJson).stages.map((s) => [s.name, s.position])).toEqual([['Due', 0], ['Renewed', 1], ['Churned', 2]]);
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/pipelines', payload: body }), 403, 'permission_denied');
    expectProblem(await noToken('POST', '/v1/pipelines', a, body), 401, 'unauthenticated');
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/pipelines', payload: { name: 'X', stages: [{ name: 'A', probability: 101, kind: 'maybe' }] } }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer)).toEqual(expect.arrayContaining(['/stages/0/probability', '/stages/0/kind']));
    const dup = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/pipelines', payload: { name: 'X', stages: [{ name: 'A', probability: 1, kind: 'open' }, { name: 'a ', probability: 1, kind: 'won' }] } }), 400, 'validation_failed');
    expect(dup.errors?.[0]?.pointer).toBe('/stages/1/name');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/pipelines', payload: { name: 'X', stages: [{ name: 'Won', probability: 100, kind: 'won' }] } }), 400, 'validation_failed');
  });

  it('GET one: happy, 400, 401, 404 other tenant, 403 without membership', async () => {
    expect((await as(h, a, 'viewer')({ method: 'GET', url: `/v1/pipelines/${sales.id}` })).json()).toEqual(sales);
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/pipelines/x' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', `/v1/pipelines/${sales.id}`, a), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/pipelines/${sales.id}` }), 404, 'not_found');
    const t = await createTenant(h, 'dpr');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: '/v1/pipelines' }), 403, 'permission_denied');
  });

  it('PATCH reorders, renames (keeping ids), adds and removes unused stages; refuses removing a used one', async () => {
    const t = await createTenant(h, 'dpp');
    const p = ((await as(h, t)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: PipelineJson[] }).data[0]!;
    const [q, d, , n, won, lost] = p.stages;
    await createDeal(t, { name: 'Uses discovery', stageId: d!.id });
    const stages = [
      { id: d!.id, name: 'Discovery call', probability: 20, kind: 'open' },
      { id: q!.id, name: q!.name, probability: 5, kind: 'open' },
      { name: 'Demo', probability: 40, kind: 'open' },
      { id: n!.id, name: n!.name, probability: 80, kind: 'open' },
      { id: won!.id, name: won!.name, probability: 100, kind: 'won' },
      { id: lost!.id, name: lost!.name, probability: 0, kind: 'lost' },
    ];
    const res = await as(h, t, 'admin')({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: { name: 'New business', stages } });
    expect(res.statusCode, res.body).toBe(200);
    const u = res.json() as PipelineJson;
    expect(u.name).toBe('New business');
    expect(u.stages.map((s) => s.name)).toEqual(['Discovery call', 'Qualification', 'Demo', 'Negotiation', 'Closed won', 'Closed lost']);
    expect(u.stages[0]!.id).toBe(d!.id);
    const without = stages.filter((s) => s.id !== d!.id);
    expectProblem(await as(h, t)({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: { stages: without } }), 409, 'stage_in_use');
    expectProblem(await as(h, t)({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: { stages: [{ id: sales.stages[0]!.id, name: 'X', probability: 1, kind: 'open' }] } }), 422, 'invalid_reference');
    expectProblem(await as(h, t)({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await noToken('PATCH', `/v1/pipelines/${p.id}`, t, { name: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, t, 'member')({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: { name: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: { name: 'X' } }), 404, 'not_found');
  });

  it('DELETE refuses the default pipeline and one with live deals; deletes and restores an empty one', async () => {
    const t = await createTenant(h, 'dpd');
    const [def] = ((await as(h, t)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: PipelineJson[] }).data;
    expectProblem(await as(h, t)({ method: 'DELETE', url: `/v1/pipelines/${def!.id}` }), 409, 'conflict');
    const p = (await post(t, '/v1/pipelines', { name: 'Partners', stages: [{ name: 'Talk', probability: 10, kind: 'open' }] })) as PipelineJson;
    const deal = await createDeal(t, { name: 'Partner deal', pipelineId: p.id });
    expect(deal.stageId).toBe(p.stages[0]!.id);
    expectProblem(await as(h, t)({ method: 'DELETE', url: `/v1/pipelines/${p.id}` }), 409, 'conflict');
    await as(h, t)({ method: 'DELETE', url: `/v1/deals/${deal.id}` });
    expectProblem(await as(h, t, 'member')({ method: 'DELETE', url: `/v1/pipelines/${p.id}` }), 403, 'permission_denied');
    expectProblem(await noToken('DELETE', `/v1/pipelines/${p.id}`, t), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/pipelines/${p.id}` }), 404, 'not_found');
    expectProblem(await as(h, t)({ method: 'DELETE', url: '/v1/pipelines/1' }), 400, 'validation_failed');
    expect((await as(h, t)({ method: 'DELETE', url: `/v1/pipelines/${p.id}` })).statusCode).toBe(204);
    expect(((await as(h, t)({ method: 'GET', url: '/v1/pipelines?deleted=true' })).json() as { data: PipelineJson[] }).data.map((x) => x.id)).toEqual([p.id]);
    expectProblem(await as(h, t)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', pipelineId: p.id } }), 422, 'invalid_reference');
    expectProblem(await as(h, t, 'member')({ method: 'POST', url: `/v1/pipelines/${p.id}/restore` }), 403, 'permission_denied');
    expectProblem(await noToken('POST', `/v1/pipelines/${p.id}/restore`, t), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'POST', url: `/v1/pipelines/${p.id}/restore` }), 404, 'not_found');
    expectProblem(await as(h, t)({ method: 'POST', url: '/v1/pipelines/1/restore' }), 400, 'validation_failed');
    const restored = await as(h, t)({ method: 'POST', url: `/v1/pipelines/${p.id}/restore` });
    expect(restored.json()).toMatchObject({ id: p.id, deletedAt: null });
  });
});

describe('POST /v1/deals', () => {
  it('creates a deal in the first stage of the default pipeline, with company, contacts and history', async () => {
    const company = await post(a, '/v1/companies', { name: 'Globex', domain: 'globex.example' });
    const c1 = await post(a, '/v1/contacts', { firstName: 'Hank' });
    const c2 = await post(a, '/v1/contacts', { firstName: 'Mindy' });
    const d = await createDeal(a, { name: ' Globex rollout ', amount: '12500.50', currency: 'EUR', closeDate: '2026-12-31', companyId: company.id, contactIds: [c1.id, c2.id, c1.id] });
    expect(d).toMatchObject({ name: 'Globex rollout', amount: '12500.50', currency: 'EUR', closeDate: '2026-12-31', pipelineId: sales.id, stageId: stage('Qualification'), companyId: company.id, ownerId: a.accounts.owner.id, createdBy: a.accounts.owner.id, deletedAt: null });
    expect(d.contactIds).toEqual([c1.id, c2.id].sort());
    const hist = (await as(h, a)({ method: 'GET', url: `/v1/deals/${d.id}/stage-history` })).json() as { data: Array<{ fromStageId: string | null; toStageName: string }> };
    expect(hist.data).toMatchObject([{ fromStageId: null, toStageName: 'Qualification' }]);
  });

  it('400 for bad values, with pointers', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: '', amount: '12.345', currency: 'eur', closeDate: '31/12/2026' } }), 400, 'validation_failed');
    expect([...new Set(p.errors!.map((e) => e.pointer))].sort()).toEqual(['/amount', '/closeDate', '/currency', '/name']);
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', amount: '10' } }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/currency');
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', closeDate: '2026-02-30' } }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/closeDate');
  });

  it("422 for references outside the tenant (company, contact, stage of another tenant's pipeline)", async () => {
    const company = await post(b, '/v1/companies', { name: 'Theirs' });
    const contact = await post(b, '/v1/contacts', { firstName: 'Theirs' });
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', companyId: company.id } }), 422, 'invalid_reference').errors?.[0]?.pointer).toBe('/companyId');
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', contactIds: [contact.id] } }), 422, 'invalid_reference').errors?.[0]?.pointer).toBe('/contactIds/0');
    const theirStage = ((await as(h, b)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: PipelineJson[] }).data[0]!.stages[0]!.id;
    expect(expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', stageId: theirStage } }), 422, 'invalid_reference').errors?.[0]?.pointer).toBe('/stageId');
    const renewals = (await post(a, '/v1/pipelines', { name: 'Other', stages: [{ name: 'S', probability: 1, kind: 'open' }] })) as PipelineJson;
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'X', pipelineId: renewals.id, stageId: stage('Proposal') } }), 422, 'invalid_reference');
  });

  it('401 without a token, 403 for a viewer', async () => {
    expectProblem(await noToken('POST', '/v1/deals', a, { name: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/deals', payload: { name: 'X' } }), 403, 'permission_denied');
  });
});

describe('GET /v1/deals/:id', () => {
  it('happy, 400, 401, other tenant 404, 403 without membership', async () => {
    const d = await createDeal(a, { name: 'Readable' });
    expect((await as(h, a, 'viewer')({ method: 'GET', url: `/v1/deals/${d.id}` })).json()).toEqual(d);
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/deals/abc' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', `/v1/deals/${d.id}`, a), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/deals/${d.id}` }), 404, 'not_found');
    const t = await createTenant(h, 'dgr');
    const own = await createDeal(t, { name: 'Mine' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: `/v1/deals/${own.id}` }), 403, 'permission_denied');
  });
});

describe('GET /v1/deals', () => {
  let t: TestTenant;
  let p: PipelineJson;
  beforeAll(async () => {
    t = await createTenant(h, 'dls');
    p = ((await as(h, t)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: PipelineJson[] }).data[0]!;
    const company = await post(t, '/v1/companies', { name: 'Umbrella' });
    const rows: Array<[string, string | null, string, string | null]> = [
      ['Alpha', '1000', 'Qualification', '2026-01-10'],
      ['Bravo', '250.50', 'Proposal', null],
      ['Charlie', null, 'Proposal', '2026-03-01'],
      ['Delta', '99999', 'Closed won', '2026-02-01'],
      ['Echo', '5000', 'Closed lost', '2026-02-15'],
    ];
    for (const [name, amount, st, closeDate] of rows) {
      await createDeal(t, { name, amount, currency: amount ? 'USD' : null, stageId: stage(st, p), closeDate, companyId: name === 'Bravo' ? company.id : null }, name === 'Echo' ? 'member' : 'owner');
    }
  });
  const names = async (query: string) => {
    const res = await as(h, t, 'viewer')({ method: 'GET', url: `/v1/deals?${query}` });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { data: DealJson[] }).data.map((d) => d.name);
  };

  it('pages by amount descending (nulls last) with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await as(h, t)({ method: 'GET', url: `/v1/deals?limit=2&sort=-amount${cursor ? `&cursor=${cursor}` : ''}` })).json() as { data: DealJson[]; nextCursor: string | null };
      seen.push(...page.data.map((d) => d.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Delta', 'Echo', 'Alpha', 'Bravo', 'Charlie']);
  });

  it('filters by stage, status, owner, company, amount range, close date range and text', async () => {
    expect(await names(`stageId=${stage('Proposal', p)}&sort=name`)).toEqual(['Bravo', 'Charlie']);
    expect(await names('status=open&sort=name')).toEqual(['Alpha', 'Bravo', 'Charlie']);
    expect(await names('status=won')).toEqual(['Delta']);
    expect(await names(`ownerId=${t.accounts.member.id}`)).toEqual(['Echo']);
    expect(await names('amountMin=500&amountMax=5000&sort=amount')).toEqual(['Alpha', 'Echo']);
    expect(await names('closeDateFrom=2026-02-01&closeDateTo=2026-02-28&sort=closeDate')).toEqual(['Delta', 'Echo']);
    expect(await names('q=RAV')).toEqual(['Bravo']);
    const bravo = (await as(h, t)({ method: 'GET', url: '/v1/deals?q=Bravo' })).json() as { data: DealJson[] };
    expect(await names(`companyId=${bravo.data[0]!.companyId}`)).toEqual(['Bravo']);
  });

  it('400 for bad parameters, 401, other tenant sees none, 403 without membership', async () => {
    const e = expectProblem(await as(h, t)({ method: 'GET', url: '/v1/deals?amountMin=abc&status=maybe' }), 400, 'validation_failed');
    expect(e.errors!.map((x) => x.pointer).sort()).toEqual(['/amountMin', '/status']);
    expectProblem(await noToken('GET', '/v1/deals', t), 401, 'unauthenticated');
    expect(((await as(h, b)({ method: 'GET', url: '/v1/deals?q=Charlie' })).json() as { data: DealJson[] }).data).toEqual([]);
    const x = await createTenant(h, 'dlx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.member.id).execute();
    expectProblem(await as(h, x, 'member')({ method: 'GET', url: '/v1/deals' }), 403, 'permission_denied');
  });
});

describe('PATCH /v1/deals/:id and stage history', () => {
  it('each stage change is a history row (from, to, at, by); other edits are not', async () => {
    const d = await createDeal(a, { name: 'Mover', amount: '100', currency: 'EUR' });
    const move = async (name: string, role: 'owner' | 'member' = 'owner') => {
      const res = await as(h, a, role)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { stageId: stage(name) } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as DealJson;
    };
    await move('Discovery');
    const renamed = await as(h, a)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { name: 'Mover 2', amount: '200.00' } });
    expect(renamed.json()).toMatchObject({ name: 'Mover 2', amount: '200.00', stageId: stage('Discovery') });
    const same = await move('Discovery');
    const won = await move('Closed won', 'member');
    expect(won).toMatchObject({ stageId: stage('Closed won'), updatedBy: a.accounts.member.id });
    expect(won.stageChangedAt > same.stageChangedAt).toBe(true);
    const hist = (await as(h, a, 'viewer')({ method: 'GET', url: `/v1/deals/${d.id}/stage-history` })).json() as { data: Array<{ fromStageName: string | null; toStageName: string; changedBy: string; changedAt: string }> };
    expect(hist.data.map((x) => [x.fromStageName, x.toStageName, x.changedBy])).toEqual([
      [null, 'Qualification', a.accounts.owner.id],
      ['Qualification', 'Discovery', a.accounts.owner.id],
      ['Discovery', 'Closed won', a.accounts.member.id],
    ]);
    expect(hist.data[2]!.changedAt).toBe(won.stageChangedAt);
  });

  it('moving to another pipeline without a stage puts the deal in its first stage', async () => {
    const other = (await post(a, '/v1/pipelines', { name: 'Upsell', stages: [{ name: 'Idea', probability: 5, kind: 'open' }, { name: 'Done', probability: 100, kind: 'won' }] })) as PipelineJson;
    const d = await createDeal(a, { name: 'Switcher' });
    const res = await as(h, a)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { pipelineId: other.id } });
    expect(res.json()).toMatchObject({ pipelineId: other.id, stageId: other.stages[0]!.id });
  });

  it('400, 422, 401, 403, other tenant 404 change nothing', async () => {
    const d = await createDeal(a, { name: 'Fixed' });
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { amount: '5' } }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { stageId: '00000000-0000-7000-8000-000000000000' } }), 422, 'invalid_reference');
    expectProblem(await noToken('PATCH', `/v1/deals/${d.id}`, a, { name: 'X' }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { name: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url: `/v1/deals/${d.id}`, payload: { name: 'X' } }), 404, 'not_found');
    expect((await as(h, a)({ method: 'GET', url: `/v1/deals/${d.id}` })).json()).toEqual(d);
  });

  it('stage history: 400, 401, other tenant 404, 403 without membership', async () => {
    const d = await createDeal(a, { name: 'Hist' });
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/deals/x/stage-history' }), 400, 'validation_failed');
    expectProblem(await noToken('GET', `/v1/deals/${d.id}/stage-history`, a), 401, 'unauthenticated');
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/deals/${d.id}/stage-history` }), 404, 'not_found');
    const t = await createTenant(h, 'dhr');
    const own = await createDeal(t, { name: 'Mine' });
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: `/v1/deals/${own.id}/stage-history` }), 403, 'permission_denied');
  });
});

describe('DELETE /v1/deals/:id and POST /v1/deals/:id/restore', () => {
  it('soft-deletes, lists in the trash and restores', async () => {
    const d = await createDeal(a, { name: 'Trashed deal' });
    expect((await as(h, a, 'member')({ method: 'DELETE', url: `/v1/deals/${d.id}` })).statusCode).toBe(204);
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/deals/${d.id}` }), 404, 'not_found');
    expectProblem(await as(h, a)({ method: 'DELETE', url: `/v1/deals/${d.id}` }), 404, 'not_found');
    expect(((await as(h, a)({ method: 'GET', url: '/v1/deals?deleted=true&q=Trashed' })).json() as { data: DealJson[] }).data.map((x) => x.id)).toEqual([d.id]);
    const r = await as(h, a)({ method: 'POST', url: `/v1/deals/${d.id}/restore` });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: d.id, deletedAt: null });
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/deals/${d.id}/restore` }), 404, 'not_found');
  });

  it('400, 401, 403 and other-tenant 404 leave the deal alone', async () => {
    const d = await createDeal(a, { name: 'Stays' });
    expectProblem(await as(h, a)({ method: 'DELETE', url: '/v1/deals/1' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/deals/1/restore' }), 400, 'validation_failed');
    expectProblem(await noToken('DELETE', `/v1/deals/${d.id}`, a), 401, 'unauthenticated');
    expectProblem(await noToken('POST', `/v1/deals/${d.id}/restore`, a), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url: `/v1/deals/${d.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: `/v1/deals/${d.id}/restore` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/deals/${d.id}` }), 404, 'not_found');
    expectProblem(await as(h, b)({ method: 'POST', url: `/v1/deals/${d.id}/restore` }), 404, 'not_found');
    expect((await as(h, a)({ method: 'GET', url: `/v1/deals/${d.id}` })).statusCode).toBe(200);
  });
});
