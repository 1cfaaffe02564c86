// CRM reports: pipeline at a past date rebuilt from stage history; the CSV
// export carries the same numbers as the JSON; the five standard checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let stages: Record<string, string>;

interface Row { stage: string; currency: string | null; count: number; amount: string | null; weightedAmount: string | null }
interface Report { pipelineId: string; at: string; rows: Row[] }

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'rpa'), createTenant(h, 'rpb')]);
  const p = ((await as(h, a)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ stages: Array<{ id: string; name: string }> }> }).data[0]!;
  stages = Object.fromEntries(p.stages.map((s) => [s.name, s.id]));
});
afterAll(() => h?.close());

async function deal(body: Record<string, unknown>, role: 'owner' | 'member' = 'owner'): Promise<{ id: string }> {
  const res = await as(h, a, role)({ method: 'POST', url: '/v1/deals', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const move = async (id: string, stage: string) => expect((await as(h, a)({ method: 'PATCH', url: `/v1/deals/${id}`, payload: { stageId: stages[stage] } })).statusCode).toBe(200);
const instant = async () => {
  await sleep(5);
  const t = new Date().toISOString();
  await sleep(5);
  return t;
};
const report = async (query: string) => {
  const res = await as(h, a, 'viewer')({ method: 'GET', url: `/v1/reports/pipeline?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Report;
};
const nonEmpty = (r: Report) => r.rows.filter((x) => x.count > 0).map(({ stage, currency, count, amount, weightedAmount }) => ({ stage, currency, count, amount, weightedAmount }));

describe('GET /v1/reports/pipeline', () => {
  let t0: string;
  let t1: string;
  let t2: string;
  beforeAll(async () => {
    t0 = await instant();
    const x = await deal({ name: 'X', amount: '1000', currency: 'EUR' });
    const y = await deal({ name: 'Y', amount: '500.50', currency: 'EUR' }, 'member');
    t1 = await instant();
    await move(x.id, 'Proposal');
    await move(y.id, 'Closed won');
    t2 = await instant();
    await deal({ name: 'Z', amount: '200', currency: 'USD', stageId: stages.Proposal });
    await deal({ name: 'No amount', stageId: stages.Proposal });
    await as(h, a)({ method: 'DELETE', url: `/v1/deals/${y.id}` });
  });

  it('rebuilds the pipeline at past dates from the stage history', async () => {
    expect(nonEmpty(await report(`at=${t0}`))).toEqual([]);
    expect(nonEmpty(await report(`at=${t1}`))).toEqual([{ stage: 'Qualification', currency: 'EUR', count: 2, amount: '1500.50', weightedAmount: '150.05' }]);
    expect(nonEmpty(await report(`at=${encodeURIComponent(t2)}`))).toEqual([
      { stage: 'Proposal', currency: 'EUR', count: 1, amount: '1000.00', weightedAmount: '500.00' },
      { stage: 'Closed won', currency: 'EUR', count: 1, amount: '500.50', weightedAmount: '500.50' },
    ]);
    const now = await report('');
    expect(nonEmpty(now)).toEqual([
      { stage: 'Proposal', currency: 'EUR', count: 1, amount: '1000.00', weightedAmount: '500.00' },
      { stage: 'Proposal', currency: 'USD', count: 1, amount: '200.00', weightedAmount: '100.00' },
      { stage: 'Proposal', currency: null, count: 1, amount: null, weightedAmount: null },
    ]);
    expect(now.rows.map((r) => r.stage)).toEqual(['Qualification', 'Discovery', 'Proposal', 'Proposal', 'Proposal', 'Negotiation', 'Closed won', 'Closed lost']);
    expect(nonEmpty(await report(`at=${t2}&ownerId=${a.accounts.member.id}`))).toEqual([{ stage: 'Closed won', currency: 'EUR', count: 1, amount: '500.50', weightedAmount: '500.50' }]);
  });

  it('the CSV export gives the same rows and numbers as the JSON', async () => {
    for (const q of [`at=${t1}`, `at=${t2}`, '']) {
      const json = await report(q);
      const res = await as(h, a, 'viewer')({ method: 'GET', url: `/v1/reports/pipeline.csv?${q}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const csv = parse(res.body, { columns: true }) as Array<Record<string, string>>;
      const asText = json.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)])));
      expect(csv).toEqual(asText);
    }
  });

  it('400 for a bad date, 404 for another tenant\'s pipeline, 401, 403 without membership', async () => {
    for (const url of ['/v1/reports/pipeline', '/v1/reports/pipeline.csv']) {
      expectProblem(await as(h, a)({ method: 'GET', url: `${url}?at=yesterday` }), 400, 'validation_failed');
      const theirs = ((await as(h, b)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ id: string }> }).data[0]!.id;
      expectProblem(await as(h, a)({ method: 'GET', url: `${url}?pipelineId=${theirs}` }), 404, 'not_found');
      expectProblem(await h.app.inject({ method: 'GET', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    }
    const x = await createTenant(h, 'rpx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/reports/pipeline' }), 403, 'permission_denied');
    expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: '/v1/reports/pipeline.csv' }), 403, 'permission_denied');
  });
});
