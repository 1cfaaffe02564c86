// Outcome (win rate, cycle length), stage conversion and activity reports
// over a date range, per owner, computed from stage history; CSV gives the
// same rows; five standard checks per route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let stages: Record<string, string>;
let t0: string;
let t1: string;

const instant = async () => {
  await sleep(5);
  const t = new Date().toISOString();
  await sleep(5);
  return t;
};
async function post(body: Record<string, unknown>, url = '/v1/deals', role: 'owner' | 'member' = 'owner'): Promise<{ id: string }> {
  const res = await as(h, a, role)({ method: 'POST', url, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const move = async (id: string, ...names: string[]) => {
  for (const n of names) expect((await as(h, a)({ method: 'PATCH', url: `/v1/deals/${id}`, payload: { stageId: stages[n] } })).statusCode).toBe(200);
};
const get = async (url: string) => {
  const res = await as(h, a, 'viewer')({ method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { rows: Array<Record<string, unknown>> };
};

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'rra'), createTenant(h, 'rrb')]);
  const p = ((await as(h, a)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ stages: Array<{ id: string; name: string }> }> }).data[0]!;
  stages = Object.fromEntries(p.stages.map((s) => [s.name, s.id]));
  t0 = await instant();
  const x = await post({ name: 'X', amount: '1000', currency: 'EUR' });
  const y = await post({ name: 'Y', amount: '400', currency: 'EUR' }, '/v1/deals', 'member');
  const z = await post({ name: 'Z', amount: '250.50', currency: 'EUR' });
  await post({ name: 'W' });
  await move(x.id, 'Discovery', 'Proposal', 'Closed won');
  await move(y.id, 'Discovery', 'Closed lost');
  await move(z.id, 'Closed won');
  await post({ type: 'note', subject: 'N' }, '/v1/activities');
  await post({ type: 'task', subject: 'T', status: 'done' }, '/v1/activities', 'member');
  await post({ type: 'call', subject: 'C' }, '/v1/activities');
  await post({ type: 'meeting', subject: 'Old', startsAt: '2020-01-01T10:00:00.000Z' }, '/v1/activities');
  t1 = await instant();
});
afterAll(() => h?.close());

describe('GET /v1/reports/outcomes', () => {
  it('win rate, won amount and cycle length, total then per owner; nothing closed gives a null rate', async () => {
    const r = await get(`/v1/reports/outcomes?from=${t0}&to=${t1}`);
    expect(r.rows.map(({ avgCycleDays: _d, ...x }) => x)).toEqual([
      { scope: 'all', ownerId: null, won: 2, lost: 1, winRate: '0.6667', wonAmount: '1250.50' },
      ...[
        { scope: 'owner', ownerId: a.accounts.owner.id, won: 2, lost: 0, winRate: '1.0000', wonAmount: '1250.50' },
        { scope: 'owner', ownerId: a.accounts.member.id, won: 0, lost: 1, winRate: '0.0000', wonAmount: null },
      ].sort((p, q) => p.ownerId.localeCompare(q.ownerId)),
    ]);
    expect(Number(r.rows[0]!.avgCycleDays)).toBeGreaterThanOrEqual(0);
    expect(Number(r.rows[0]!.avgCycleDays)).toBeLessThan(0.1);
    expect((await get(`/v1/reports/outcomes?from=${t1}&to=2099-01-01T00:00:00Z`)).rows).toEqual([{ scope: 'all', ownerId: null, won: 0, lost: 0, winRate: null, wonAmount: null, avgCycleDays: null }]);
    expect((await get(`/v1/reports/outcomes?from=${t0}&to=${t1}&ownerId=${a.accounts.member.id}`)).rows[0]).toMatchObject({ scope: 'all', won: 0, lost: 1 });
  });
});

describe('GET /v1/reports/conversion', () => {
  it('counts how far each deal created in the range got, lost stages not counting as progress', async () => {
    const r = await get(`/v1/reports/conversion?from=${t0}&to=${t1}`);
    expect(r.rows.map((x) => [x.stage, x.reached, x.conversionToNext])).toEqual([
      ['Qualification', 4, '0.7500'],
      ['Discovery', 3, '0.6667'],
      ['Proposal', 2, '1.0000'],
      ['Negotiation', 2, '1.0000'],
      ['Closed won', 2, null],
    ]);
    expect((await get(`/v1/reports/conversion?from=${t1}&to=2099-01-01T00:00:00Z`)).rows.map((x) => [x.reached, x.conversionToNext])).toEqual([[0, null], [0, null], [0, null], [0, null], [0, null]]);
  });
});

describe('GET /v1/reports/activities', () => {
  it('counts activities that happened in the range per owner', async () => {
    const r = await get(`/v1/reports/activities?from=${t0}&to=${t1}`);
    expect(r.rows[0]).toEqual({ scope: 'all', ownerId: null, notes: 1, tasks: 1, tasksDone: 1, calls: 1, meetings: 0 });
    expect(r.rows.slice(1).find((x) => x.ownerId === a.accounts.member.id)).toEqual({ scope: 'owner', ownerId: a.accounts.member.id, notes: 0, tasks: 1, tasksDone: 1, calls: 0, meetings: 0 });
    expect((await get('/v1/reports/activities?from=2019-01-01T00:00:00Z&to=2021-01-01T00:00:00Z')).rows[0]).toMatchObject({ meetings: 1, notes: 0 });
  });
});

describe('report CSV twins and the standard checks', () => {
  it('each CSV has the same rows and numbers as its JSON', async () => {
    for (const name of ['outcomes', 'conversion', 'activities']) {
      const q = `from=${t0}&to=${t1}`;
      const json = await get(`/v1/reports/${name}?${q}`);
      const res = await as(h, a, 'viewer')({ method: 'GET', url: `/v1/reports/${name}.csv?${q}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const csv = parse(res.body, { columns: true }) as Array<Record<string, string>>;
      expect(csv).toEqual(json.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)]))));
    }
  });

  it("400 (missing or reversed range), 404 for another tenant's pipeline, 401, 403 without membership", async () => {
    const theirs = ((await as(h, b)({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ id: string }> }).data[0]!.id;
    const x = await createTenant(h, 'rrx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', x.tenant.id).where('accountId', '=', x.accounts.viewer.id).execute();
    for (const name of ['outcomes', 'conversion', 'activities', 'outcomes.csv', 'conversion.csv', 'activities.csv']) {
      const url = `/v1/reports/${name}`;
      expectProblem(await as(h, a)({ method: 'GET', url }), 400, 'validation_failed');
      expect(expectProblem(await as(h, a)({ method: 'GET', url: `${url}?from=${t1}&to=${t0}` }), 400, 'validation_failed').errors?.[0]?.pointer).toBe('/to');
      expectProblem(await h.app.inject({ method: 'GET', url: `${url}?from=${t0}&to=${t1}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      expectProblem(await as(h, x, 'viewer')({ method: 'GET', url: `${url}?from=${t0}&to=${t1}` }), 403, 'permission_denied');
    }
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/reports/conversion?from=${t0}&to=${t1}&pipelineId=${theirs}` }), 404, 'not_found');
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/reports/conversion.csv?from=${t0}&to=${t1}&pipelineId=${theirs}` }), 404, 'not_found');
    expect((await as(h, b)({ method: 'GET', url: `/v1/reports/outcomes?from=${t0}&to=${t1}` })).json()).toMatchObject({ rows: [{ won: 0, lost: 0 }] });
  });
});
