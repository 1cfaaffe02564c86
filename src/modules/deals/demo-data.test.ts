// The demo tenant ships CRM data a new user can explore through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformFor } from '../../app.ts';
import { DEMO, seedDemo } from '../../demo/seed.ts';
import { modules } from '../index.ts';
import { login, startApp, type Harness } from '../../../test/helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startApp();
});
afterAll(() => h?.close());

describe('demo tenant CRM data', () => {
  it('has companies, deals across stages with history, activities, and reports with numbers', async () => {
    expect(await seedDemo(h.db, platformFor(h.config, h.db, modules).migrations)).toBe(true);
    const token = await login(h, DEMO.slug, DEMO.email, DEMO.password);
    const get = async (url: string) => {
      const res = await h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, 'x-tenant': DEMO.slug } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { data: Array<Record<string, unknown>>; rows: Array<Record<string, unknown>> };
    };
    expect((await get('/v1/companies')).data).toHaveLength(4);
    const deals = (await get('/v1/deals?limit=50')).data;
    expect(deals).toHaveLength(8);
    expect(new Set(deals.map((d) => d.stageId)).size).toBeGreaterThanOrEqual(5);
    const pipeline = (await get('/v1/reports/pipeline')).rows;
    expect(pipeline.reduce((n, r) => n + (r.count as number), 0)).toBe(8);
    const month = new Date(Date.now() - 90 * 86_400_000).toISOString();
    expect((await get(`/v1/reports/outcomes?from=${month}&to=${new Date().toISOString()}`)).rows[0]).toMatchObject({ won: 2, lost: 1 });
    const timeline = (await get(`/v1/deals/${deals[0]!.id as string}/timeline`)).data;
    expect(timeline.map((i) => i.kind)).toEqual(expect.arrayContaining(['activity', 'change']));
    expect((await get('/v1/activities?type=task&status=todo')).data).toHaveLength(8);
    expect((await get('/v1/search?q=ada')) as unknown).toMatchObject({ contacts: [{ email: 'ada@analytical.example' }] });
    const people = (await get('/v1/contacts?sort=lastName')).data;
    expect(people.find((p) => p.email === 'ada@analytical.example')).toMatchObject({ emails: ['ada@analytical.example'], phones: ['+44 20 7946 0001'], companyId: expect.any(String) });
    expect(await seedDemo(h.db, platformFor(h.config, h.db, modules).migrations)).toBe(false);
  });
});
