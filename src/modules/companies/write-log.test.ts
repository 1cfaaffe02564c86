// Every CRM write leaves an audit row and (where subscribers care) a domain
// event in its own transaction: events reach a subscribed webhook endpoint's
// delivery queue, a rolled-back write emits nothing, and handing a deal or a
// task to someone notifies them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;

const EVENTS = [
  'crm.company.created',
  'crm.company.updated',
  'crm.company.deleted',
  'crm.contact.created',
  'crm.deal.created',
  'crm.deal.updated',
  'crm.deal.stage_changed',
  'crm.deal.deleted',
  'crm.activity.created',
  'crm.activity.completed',
];

beforeAll(async () => {
  // No webhook worker here: deliveries stay queued in webhook_deliveries, which is what the event wrote.
  h = await startApp({ config: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
  a = await createTenant(h, 'wl');
  const res = await as(h, a, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: EVENTS } });
  expect(res.statusCode, res.body).toBe(201);
});
afterAll(() => h?.close());

const deliveries = async (t: TestTenant) =>
  (await sql<{ eventType: string; payload: { type: string; data: Record<string, unknown> } }>`select event_type, payload from ${sql.id(t.tenant.schemaName, 'webhook_deliveries')} order by created_at, id`.execute(h.db)).rows;
const auditActions = async (t: TestTenant, targetId: string) =>
  (await sql<{ action: string; actorId: string }>`select action, actor_id from ${sql.id(t.tenant.schemaName, 'audit_log')} where target_id = ${targetId} order by seq`.execute(h.db)).rows;

describe('audit rows and domain events of CRM writes', () => {
  it('companies, deals (with the stage change), activities: audit row per write, event per subscribed type, in order', async () => {
    const owner = as(h, a, 'owner');
    const company = (await owner({ method: 'POST', url: '/v1/companies', payload: { name: 'Acme', domain: 'acme.example' } })).json() as { id: string };
    await owner({ method: 'PATCH', url: `/v1/companies/${company.id}`, payload: { industry: 'Tools' } });
    const pipelines = (await owner({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ id: string; stages: Array<{ id: string; name: string }> }> };
    const [first, second] = pipelines.data[0]!.stages;
    const deal = (await owner({ method: 'POST', url: '/v1/deals', payload: { name: 'Big', amount: '100.00', currency: 'EUR', companyId: company.id } })).json() as { id: string };
    expect((await owner({ method: 'PATCH', url: `/v1/deals/${deal.id}`, payload: { stageId: second!.id } })).statusCode).toBe(200);
    const task = (await owner({ method: 'POST', url: '/v1/activities', payload: { type: 'task', subject: 'Call back', links: [{ type: 'deal', id: deal.id }] } })).json() as { id: string };
    await owner({ method: 'PATCH', url: `/v1/activities/${task.id}`, payload: { status: 'done' } });
    await owner({ method: 'DELETE', url: `/v1/deals/${deal.id}` });
    await owner({ method: 'DELETE', url: `/v1/companies/${company.id}` });

    const got = await deliveries(a);
    expect(got.map((d) => d.eventType)).toEqual([
      'crm.company.created',
      'crm.company.updated',
      'crm.deal.created',
      'crm.deal.updated',
      'crm.deal.stage_changed',
      'crm.activity.created',
      'crm.activity.completed',
      'crm.deal.deleted',
      'crm.company.deleted',
    ]);
    expect(got[1]!.payload.data).toEqual({ id: company.id, changes: ['industry'] });
    expect(got[4]!.payload.data).toMatchObject({ id: deal.id, fromStageId: first!.id, toStageId: second!.id, fromStage: first!.name, toStage: second!.name, kind: 'open', changedBy: a.accounts.owner.id });

    expect((await auditActions(a, company.id)).map((r) => r.action)).toEqual(['crm.company.created', 'crm.company.updated', 'crm.company.deleted']);
    expect((await auditActions(a, deal.id)).map((r) => r.action)).toEqual(['crm.deal.created', 'crm.deal.updated', 'crm.deal.deleted']);
    expect((await auditActions(a, task.id)).map((r) => r.action)).toEqual(['crm.activity.created', 'crm.activity.updated']);
    expect((await auditActions(a, task.id)).every((r) => r.actorId === a.accounts.owner.id)).toBe(true);
  });

  it('pipelines, custom fields and saved views are audited too', async () => {
    const admin = as(h, a, 'admin');
    const p = (await admin({ method: 'POST', url: '/v1/pipelines', payload: { name: 'Partners', stages: [{ name: 'Talk', probability: 10, kind: 'open' }, { name: 'Signed', probability: 100, kind: 'won' }] } })).json() as { id: string };
    await admin({ method: 'PATCH', url: `/v1/pipelines/${p.id}`, payload: { name: 'Partner deals' } });
    const f = (await admin({ method: 'POST', url: '/v1/custom-fields', payload: { object: 'deal', key: 'source', label: 'Source', type: 'text' } })).json() as { id: string };
    await admin({ method: 'DELETE', url: `/v1/custom-fields/${f.id}` });
    const v = (await admin({ method: 'POST', url: '/v1/views', payload: { object: 'deal', name: 'Mine', filters: [] } })).json() as { id: string };
    await admin({ method: 'DELETE', url: `/v1/views/${v.id}` });
    expect((await auditActions(a, p.id)).map((r) => r.action)).toEqual(['crm.pipeline.created', 'crm.pipeline.updated']);
    expect((await auditActions(a, f.id)).map((r) => r.action)).toEqual(['crm.custom_field.created', 'crm.custom_field.deleted']);
    expect((await auditActions(a, v.id)).map((r) => r.action)).toEqual(['crm.saved_view.created', 'crm.saved_view.deleted']);
  });

  it('a write that rolls back after publishing emits nothing and leaves no audit row', async () => {
    const owner = as(h, a, 'owner');
    const deal = (await owner({ method: 'POST', url: '/v1/deals', payload: { name: 'Doomed' } })).json() as { id: string; stageId: string };
    const stages = ((await owner({ method: 'GET', url: '/v1/pipelines' })).json() as { data: Array<{ stages: Array<{ id: string }> }> }).data[0]!.stages;
    const before = (await deliveries(a)).length;
    const auditBefore = (await auditActions(a, deal.id)).length;
    // A subscriber that fails on this deal's stage change: crm.deal.updated was already published (and its
    // delivery row written) in the same transaction; the failure rolls back the update and both events.
    h.app.platform.events.subscribe(async (_trx, _tenant, event) => {
      if (event.type === 'crm.deal.stage_changed' && (event.data as { id: string }).id === deal.id) throw new Error('subscriber failed');
    });
    const res = await owner({ method: 'PATCH', url: `/v1/deals/${deal.id}`, payload: { name: 'Renamed', stageId: stages[2]!.id } });
    expect(res.statusCode).toBe(500);
    expect((await deliveries(a)).length).toBe(before);
    expect((await auditActions(a, deal.id)).length).toBe(auditBefore);
    expect(((await owner({ method: 'GET', url: `/v1/deals/${deal.id}` })).json() as { name: string; stageId: string })).toMatchObject({ name: 'Doomed', stageId: deal.stageId });
  });

  it('a deal or a task handed to another member notifies them (not the caller acting on their own)', async () => {
    const owner = as(h, a, 'owner');
    await owner({ method: 'POST', url: '/v1/deals', payload: { name: 'For member', ownerId: a.accounts.member.id } });
    await owner({ method: 'POST', url: '/v1/deals', payload: { name: 'Mine' } });
    await owner({ method: 'POST', url: '/v1/activities', payload: { type: 'task', subject: 'Prepare demo', assigneeId: a.accounts.member.id } });
    const inbox = (await as(h, a, 'member')({ method: 'GET', url: '/v1/notifications' })).json() as { data: Array<{ kind: string; title: string }> };
    expect(inbox.data.map((n) => [n.kind, n.title]).sort()).toEqual([
      ['crm.deal.assigned', 'Deal assigned to you: For member'],
      ['crm.task.assigned', 'Task assigned to you: Prepare demo'],
    ]);
    const mine = (await owner({ method: 'GET', url: '/v1/notifications' })).json() as { data: unknown[] };
    expect(mine.data).toEqual([]);
  });
});
