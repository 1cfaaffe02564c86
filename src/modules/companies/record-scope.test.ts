// Record scope `own` applied in the repositories' SQL: a context whose
// actor holds the permissions with scope `own` sees and changes only the
// records it owns (activities: owns or is assigned), and another member's
// record is a 404 like a missing one. Roles that grant `own` are another
// issue's; the context is plain data, the database is the real one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import type { RequestContext } from '../../platform/context.ts';
import { scopeToTenant } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { RecordScope } from '../../platform/record-scope.ts';
import { createCompaniesService } from './service.ts';
import { createDealsService } from '../deals/service.ts';
import { createActivitiesService } from '../activities/service.ts';
import { createReportsService } from '../crm-reports/service.ts';
import { createImportsService } from '../imports/service.ts';
import { searchCrm } from '../views/search.ts';

let h: Harness;
let t: TestTenant;
const ids = {} as Record<'memberCompany' | 'ownerCompany' | 'memberDeal' | 'ownerDeal' | 'memberNote' | 'assignedTask' | 'ownerNote', string>;

const SCOPED = ['crm.companies', 'crm.deals', 'crm.activities'].flatMap((p) => [`${p}.read`, `${p}.write`, `${p}.delete`]).concat(['crm.contacts.read', 'crm.reports.read', 'crm.imports.read']);

function ctxOf(role: 'member' | 'owner', scope: RecordScope): RequestContext {
  return {
    requestId: 'scope-test',
    tenant: { id: t.tenant.id, slug: t.slug, displayName: t.tenant.displayName, schemaName: t.tenant.schemaName },
    actor: { accountId: t.accounts[role].id, role, permissions: h.app.platform.permissions.permissionsOf(role), scopes: new Map(SCOPED.map((p) => [p, scope])) },
    db: scopeToTenant(h.db, t.tenant.schemaName),
  };
}
const notFound = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe('not_found');
};

beforeAll(async () => {
  h = await startApp();
  t = await createTenant(h, 'rs');
  const owner = as(h, t, 'owner');
  const post = async (url: string, payload: object) => {
    const res = await owner({ method: 'POST', url, payload });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  };
  const member = t.accounts.member.id;
  ids.memberCompany = await post('/v1/companies', { name: 'Member Co', domain: 'member.example', ownerId: member });
  ids.ownerCompany = await post('/v1/companies', { name: 'Owner Co', domain: 'owner.example' });
  ids.memberDeal = await post('/v1/deals', { name: 'Member deal', amount: '10.00', currency: 'EUR', ownerId: member });
  ids.ownerDeal = await post('/v1/deals', { name: 'Owner deal', amount: '1000.00', currency: 'EUR' });
  ids.memberNote = await post('/v1/activities', { type: 'note', subject: 'Member note', ownerId: member });
  ids.assignedTask = await post('/v1/activities', { type: 'task', subject: 'Owner task for member', assigneeId: member });
  ids.ownerNote = await post('/v1/activities', { type: 'note', subject: 'Owner note', links: [{ type: 'company', id: ids.memberCompany }] });
});
afterAll(() => h?.close());

describe('own scope in repository SQL', () => {
  it('companies: list, search and export pages show only own records; get, update, delete of another owner is 404', async () => {
    const companies = createCompaniesService(h.app.platform);
    const own = ctxOf('member', 'own');
    const page = await companies.list(own, { limit: 50, deleted: false });
    expect(page.data.map((c) => c.id)).toEqual([ids.memberCompany]);
    expect((await companies.list(ctxOf('member', 'all'), { limit: 50, deleted: false })).data).toHaveLength(2);
    expect((await companies.get(own, ids.memberCompany)).name).toBe('Member Co');
    await notFound(companies.get(own, ids.ownerCompany));
    await notFound(companies.update(own, ids.ownerCompany, { name: 'Hijacked' }));
    await notFound(companies.remove(own, ids.ownerCompany));
    expect((await companies.get(ctxOf('owner', 'all'), ids.ownerCompany)).name).toBe('Owner Co');
    const found = await searchCrm(own, 'co', 10);
    expect(found.companies.map((c) => c.id)).toEqual([ids.memberCompany]);
  });

  it('deals: list and get own only; another owner’s deal cannot be read, moved or deleted', async () => {
    const deals = createDealsService(h.app.platform);
    const own = ctxOf('member', 'own');
    expect((await deals.list(own, { limit: 50, deleted: false })).data.map((d) => d.id)).toEqual([ids.memberDeal]);
    await notFound(deals.get(own, ids.ownerDeal));
    await notFound(deals.update(own, ids.ownerDeal, { name: 'x' }));
    await notFound(deals.remove(own, ids.ownerDeal));
    await notFound(deals.stageHistory(own, ids.ownerDeal));
    expect((await deals.update(own, ids.memberDeal, { name: 'Member deal 2' })).name).toBe('Member deal 2');
  });

  it('activities: own or assigned; timelines show only activities in scope of records in scope', async () => {
    const activities = createActivitiesService(h.app.platform);
    const own = ctxOf('member', 'own');
    const list = await activities.list(own, { limit: 50, sort: '-createdAt', deleted: false });
    expect(list.data.map((x) => x.id).sort()).toEqual([ids.memberNote, ids.assignedTask].sort());
    await notFound(activities.get(own, ids.ownerNote));
    expect((await activities.update(own, ids.assignedTask, { status: 'done' })).status).toBe('done');
    await notFound(activities.remove(own, ids.ownerNote));
    const timeline = await activities.timeline(own, 'company', ids.memberCompany, { limit: 50 });
    expect(timeline.data.filter((e) => e.kind === 'activity')).toEqual([]);
    expect((await activities.timeline(ctxOf('owner', 'all'), 'company', ids.memberCompany, { limit: 50 })).data.some((e) => e.kind === 'activity')).toBe(true);
    await notFound(activities.timeline(own, 'company', ids.ownerCompany, { limit: 50 }));
  });

  it('reports count only deals and activities in scope', async () => {
    const reports = createReportsService();
    const mine = await reports.pipeline(ctxOf('member', 'own'), {});
    const all = await reports.pipeline(ctxOf('member', 'all'), {});
    const total = (r: typeof mine) => r.rows.reduce((n, x) => n + x.count, 0);
    expect([total(mine), total(all)]).toEqual([1, 2]);
    expect(mine.rows.find((r) => r.count > 0)?.amount).toBe('10.00');
    const range = { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' };
    const acts = await reports.activities(ctxOf('member', 'own'), range);
    expect(acts.rows[0]).toMatchObject({ scope: 'all', notes: 1, tasks: 0 });
  });

  it('imports: own scope lists only your imports and 404s another member’s', async () => {
    const imports = createImportsService(h.app.platform);
    const res = await as(h, t, 'owner')({ method: 'POST', url: '/v1/imports/companies?dryRun=true', headers: { 'content-type': 'text/csv' }, payload: 'name\nX\n' });
    const id = (res.json() as { id: string }).id;
    expect((await imports.list(ctxOf('member', 'own'), { limit: 20 })).data).toEqual([]);
    await notFound(imports.get(ctxOf('member', 'own'), id));
    expect((await imports.get(ctxOf('member', 'all'), id)).id).toBe(id);
  });
});
