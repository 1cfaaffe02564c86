// HubSpot integration against a local server that follows HubSpot's API
// shapes (fake-hubspot.ts): connection (token encrypted, never shown or
// logged), two-way sync through the job queue with paging cursors and 429s,
// conflicts and their resolution, v3-signed webhooks processed once per event.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { startFakeHubSpot, type FakeHubSpot } from './fake-hubspot.ts';
import { signV3 } from './signature.ts';

const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const SECRET = 'client-secret-for-webhooks';
let fake: FakeHubSpot;
let h: Harness;
let a: TestTenant;
let b: TestTenant;
let logs = '';

beforeAll(async () => {
  fake = await startFakeHubSpot({ token: TOKEN });
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  h = await startApp({
    config: { HUBSPOT_API_BASE: fake.baseUrl, HUBSPOT_SYNC_BATCH: '2', HUBSPOT_PUSH_DELAY_SECONDS: '86400', HUBSPOT_SYNC_INTERVAL_MINUTES: '10080', JOBS_IN_API: 'true', JOBS_TASKS: 'hubspot.*', JOBS_POLL_INTERVAL_MS: '200', JOBS_CRON: 'false', LOG_LEVEL: 'debug' },
    logStream,
  });
  [a, b] = await Promise.all([createTenant(h, 'hsa'), createTenant(h, 'hsb')]);
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

const tdb = (t: TestTenant) => h.db.withSchema(t.tenant.schemaName) as any;
const until = async <T>(check: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
};
type Status = { connected: boolean; lastRun: null | { id: string; status: string; trigger: string; counts: Record<string, number>; errors: Array<{ message: string }>; startedAt: string; finishedAt: string | null }; openConflicts: number; cursors: Record<string, string>; status: string | null };
const status = async (t: TestTenant): Promise<Status> => (await as(h, t, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot' })).json();
/** Starts a sync through the route and waits for its run to finish. */
async function syncNow(t: TestTenant, body: Record<string, unknown> = {}) {
  const before = (await status(t)).lastRun?.id;
  const res = await as(h, t, 'admin')({ method: 'POST', url: '/v1/integrations/hubspot/sync', payload: body });
  expect(res.statusCode, res.body).toBe(202);
  return waitForRun(t, before);
}
async function waitForRun(t: TestTenant, before: string | undefined) {
  const run = await until(async () => {
    const s = await status(t);
    return s.lastRun && s.lastRun.id !== before && s.lastRun.finishedAt ? s.lastRun : undefined;
  });
  return run;
}
const connect = (t: TestTenant, payload: Record<string, unknown> = { accessToken: TOKEN, clientSecret: SECRET }) => as(h, t, 'admin')({ method: 'PUT', url: '/v1/integrations/hubspot', payload });

describe('connection: PUT / GET / DELETE /v1/integrations/hubspot', () => {
  it('validates, authenticates and authorises', async () => {
    expectProblem(await connect(a, {}), 400, 'validation_failed');
    expectProblem(await connect(a, { accessToken: TOKEN, fieldRules: { contact: { nickname: 'hubspot' } } }), 400, 'validation_failed');
    expectProblem(await connect(a, { accessToken: TOKEN, fieldRules: { contact: { email: 'sometimes' } } }), 400, 'validation_failed');
    // HubSpot refuses the token: a 400 on the field, nothing stored.
    const refused = expectProblem(await connect(a, { accessToken: 'pat-na1-wrong-token-000' }), 400, 'validation_failed');
    expect(refused.errors?.[0]?.pointer).toBe('/accessToken');
    expectProblem(await h.app.inject({ method: 'PUT', url: '/v1/integrations/hubspot', headers: { 'x-tenant': a.slug }, payload: { accessToken: TOKEN } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/integrations/hubspot', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'PUT', url: '/v1/integrations/hubspot', payload: { accessToken: TOKEN } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/integrations/hubspot' }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url: '/v1/integrations/hubspot' }), 403, 'permission_denied');
    expect((await status(a)).connected).toBe(false);
  });

  it('connects: the token is checked, stored encrypted, never shown; an audit row without it', async () => {
    const res = await connect(a);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).not.toContain(TOKEN);
    expect(res.body).not.toContain(SECRET);
    const body = res.json();
    expect(body).toMatchObject({ connected: true, status: 'connected', portalId: '4242', hasClientSecret: true, defaultCurrency: 'USD', webhookUrl: expect.stringContaining(`/v1/integrations/hubspot/webhooks/${a.slug}`) });
    expect(body.fieldRules.company.industry).toBe('hubspot');
    expect(body.fieldRules.contact.jobTitle).toBe('manual');
    const row = await tdb(a).selectFrom('hubspot_connection').selectAll().executeTakeFirstOrThrow();
    expect(row.tokenEnc).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(row.tokenEnc).not.toContain(TOKEN);
    expect(row.clientSecretEnc).not.toContain(SECRET);
    const audit = await tdb(a).selectFrom('audit_log').selectAll().where('action', '=', 'integrations.hubspot.connected').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0])).not.toContain(TOKEN);
    // The periodic run is scheduled for this tenant, one job, an interval ahead.
    const scheduled = await sql<{ runAt: Date }>`select run_at from graphile_worker._private_jobs where key = ${`hubspot-scheduled:${a.tenant.id}`}`.execute(h.db);
    expect(scheduled.rows).toHaveLength(1);
    expect(scheduled.rows[0]!.runAt.getTime()).toBeGreaterThan(Date.now() + 10079 * 60_000 - 60_000);
    // Another tenant sees nothing of it.
    expect((await status(b)).connected).toBe(false);
    expectProblem(await as(h, b, 'admin')({ method: 'DELETE', url: '/v1/integrations/hubspot' }), 404, 'not_found');
    expectProblem(await as(h, b, 'admin')({ method: 'POST', url: '/v1/integrations/hubspot/sync', payload: {} }), 404, 'not_found');
  });
});

describe('POST /sync and GET /conflicts: validation, 401, 403', () => {
  it('checks the body and query, the token and the permission', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/integrations/hubspot/sync', payload: { full: 'sometimes' } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/integrations/hubspot/sync', headers: { 'x-tenant': a.slug }, payload: {} }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/integrations/hubspot/sync', payload: {} }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts?status=maybe' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/integrations/hubspot/conflicts', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts' }), 403, 'permission_denied');
  });
});

describe('two-way sync', () => {
  let hsAcme: string;
  let hsJane: string;
  let hsDeal: string;

  it('pulls companies, contacts, deals with associations and pipeline stages, page by page through 429s', async () => {
    hsAcme = fake.seed('companies', { name: 'Acme Corp', domain: 'acme.example', industry: 'COMPUTER_SOFTWARE', numberofemployees: '120' });
    fake.seed('companies', { name: 'Globex', domain: 'www.Globex.example' });
    fake.seed('companies', { name: 'Initech', domain: 'initech.example' });
    hsJane = fake.seed('contacts', { firstname: 'Jane', lastname: 'Doe', email: 'Jane@Acme.example', jobtitle: 'CTO' });
    const hsJohn = fake.seed('contacts', { firstname: 'John', lastname: 'Roe', email: 'john@globex.example' });
    hsDeal = fake.seed('deals', { dealname: 'Acme renewal', amount: '12000.5', deal_currency_code: 'EUR', closedate: '2026-12-20T00:00:00.000Z', pipeline: 'default', dealstage: 'qualifiedtobuy' });
    fake.associate('deals', hsDeal, 'companies', hsAcme, 5);
    fake.associate('deals', hsDeal, 'contacts', hsJane, 3);
    fake.associate('deals', hsDeal, 'contacts', hsJohn, 3);
    // Jane works at Acme (primary); John has two companies: the primary one (Globex) is the one Plinth keeps.
    fake.associate('contacts', hsJane, 'companies', hsAcme, 1);
    fake.associate('contacts', hsJohn, 'companies', fake.find('companies', 'domain', 'initech.example')!.id, 279);
    fake.associate('contacts', hsJohn, 'companies', fake.find('companies', 'domain', 'www.Globex.example')!.id, 1);
    fake.throttleNext(2, '1');
    const from = fake.log.length;

    const run = await syncNow(a);
    expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    expect(run.counts).toMatchObject({ pulled: 6, created: 6, failed: 0 });
    const calls = fake.log.slice(from);
    expect(calls.filter((c) => c.status === 429)).toHaveLength(2);
    // Three companies with pages of two: the second page asked with the cursor of the first.
    const companyPages = calls.filter((c) => c.path.startsWith('/crm/v3/objects/companies?') && c.status === 200);
    expect(companyPages).toHaveLength(2);
    expect(companyPages[1]!.path).toContain('after=2');

    const companies = await tdb(a).selectFrom('companies').selectAll().orderBy('name').execute();
    expect(companies.map((c: any) => [c.name, c.domain])).toEqual([['Acme Corp', 'acme.example'], ['Globex', 'globex.example'], ['Initech', 'initech.example']]);
    expect(companies[0].employees).toBe(120);
    const jane = await tdb(a).selectFrom('contacts').selectAll().where('email', '=', 'jane@acme.example').executeTakeFirstOrThrow();
    expect(jane).toMatchObject({ firstName: 'Jane', lastName: 'Doe', jobTitle: 'CTO', emails: ['jane@acme.example'], phones: [], companyId: companies[0].id });
    const john = await tdb(a).selectFrom('contacts').selectAll().where('email', '=', 'john@globex.example').executeTakeFirstOrThrow();
    expect(john.companyId).toBe(companies[1].id);
    const deal = await tdb(a).selectFrom('deals').selectAll().select(sql`close_date::text`.as('close')).executeTakeFirstOrThrow();
    expect(deal).toMatchObject({ name: 'Acme renewal', amount: '12000.50', currency: 'EUR', close: '2026-12-20', companyId: companies[0].id });
    const stage = await tdb(a).selectFrom('pipeline_stages').selectAll().where('id', '=', deal.stageId).executeTakeFirstOrThrow();
    expect(stage).toMatchObject({ name: 'Qualified to buy', probability: 40, kind: 'open' });
    // HubSpot's default pipeline pairs with the tenant's default pipeline.
    const pipeline = await tdb(a).selectFrom('pipelines').selectAll().where('id', '=', deal.pipelineId).executeTakeFirstOrThrow();
    expect(pipeline.isDefault).toBe(true);
    const contacts = await tdb(a).selectFrom('deal_contacts').select('contact_id').where('deal_id', '=', deal.id).execute();
    expect(contacts).toHaveLength(2);
    expect(await tdb(a).selectFrom('deal_stage_history').selectAll().where('deal_id', '=', deal.id).execute()).toHaveLength(1);

    // Nothing changed on either side: a second run pulls by modification time and writes nothing.
    const again = await syncNow(a);
    expect(again.counts).toMatchObject({ created: 0, updated: 0, pushed: 0, conflicts: 0, failed: 0 });
    const search = fake.log.filter((c) => c.path === '/crm/v3/objects/contacts/search').at(-1)!;
    expect(search.body.filterGroups[0].filters[0]).toMatchObject({ propertyName: 'lastmodifieddate', operator: 'GTE' });
    expect(search.body.sorts[0]).toEqual({ propertyName: 'lastmodifieddate', direction: 'ASCENDING' });
  });

  it('pushes Plinth records with batch upsert by domain, email and plinth_id, and v4 associations', async () => {
    const company = (await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'Umbrella', domain: 'umbrella.example', employees: 40, industry: 'Chemicals' } })).json();
    const contact = (await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Alice', lastName: 'Wong', email: 'alice@umbrella.example', companyId: company.id } })).json();
    const stages = (await as(h, a)({ method: 'GET', url: '/v1/pipelines' })).json();
    const pipeline = (stages.data ?? stages).find((p: any) => p.isDefault);
    const won = pipeline.stages.find((s: any) => s.name === 'Closed won');
    const deal = await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'Umbrella pilot', amount: '5000', currency: 'USD', stageId: won.id, companyId: company.id, contactIds: [contact.id] } });
    expect(deal.statusCode, deal.body).toBe(201);
    const from = fake.log.length;

    const run = await syncNow(a);
    expect(run.counts, JSON.stringify(run)).toMatchObject({ pushed: 3, failed: 0 });
    const upserts = fake.log.slice(from).filter((c) => c.path.endsWith('/batch/upsert'));
    expect(upserts.map((u) => [u.path, u.body.inputs[0].idProperty])).toEqual([
      ['/crm/v3/objects/companies/batch/upsert', 'domain'],
      ['/crm/v3/objects/contacts/batch/upsert', 'email'],
      ['/crm/v3/objects/deals/batch/upsert', 'plinth_id'],
    ]);
    // The deal id property was created once, as a unique property.
    expect(fake.log.some((c) => c.method === 'POST' && c.path === '/crm/v3/properties/deals' && c.body.hasUniqueValue === true)).toBe(true);
    const hsCompany = fake.find('companies', 'domain', 'umbrella.example')!;
    expect(hsCompany.properties).toMatchObject({ name: 'Umbrella', numberofemployees: '40' });
    // HubSpot owns industry (a fixed list there): not pushed, and Plinth's value is kept.
    expect(hsCompany.properties.industry).toBeUndefined();
    const hsContact = fake.find('contacts', 'email', 'alice@umbrella.example')!;
    const hsNewDeal = fake.find('deals', 'plinth_id', deal.json().id)!;
    expect(hsNewDeal.properties).toMatchObject({ dealname: 'Umbrella pilot', amount: '5000.00', deal_currency_code: 'USD', pipeline: 'default', dealstage: 'closedwon' });
    expect(fake.associations('deals', hsNewDeal.id, 'companies')).toEqual([[hsCompany.id, 5]]);
    expect(fake.associations('deals', hsNewDeal.id, 'contacts')).toEqual([[hsContact.id, 3]]);
    const create = fake.log.slice(from).find((c) => c.path === '/crm/v4/associations/deals/companies/batch/create')!;
    expect(create.body.inputs[0].types).toEqual([{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }]);
    // The new contact's company goes out as its primary contact → company association.
    expect(fake.associations('contacts', hsContact.id, 'companies')).toEqual([[hsCompany.id, 1]]);
    expect(fake.associations('companies', hsCompany.id, 'contacts')).toEqual([[hsContact.id, 2]]);

    // A later edit in Plinth goes out as a batch update of the mapped id.
    await as(h, a)({ method: 'PATCH', url: `/v1/companies/${company.id}`, payload: { employees: 55 } });
    const from2 = fake.log.length;
    expect((await syncNow(a)).counts).toMatchObject({ pushed: 1, failed: 0 });
    const update = fake.log.slice(from2).find((c) => c.path === '/crm/v3/objects/companies/batch/update')!;
    expect(update.body.inputs).toEqual([{ id: hsCompany.id, properties: { numberofemployees: '55' } }]);
    expect((await tdb(a).selectFrom('companies').select('industry').where('id', '=', company.id).executeTakeFirstOrThrow()).industry).toBe('Chemicals');
  });

  it('brings a HubSpot stage move into the stage history, and moves associations both ways', async () => {
    const john = fake.find('contacts', 'email', 'john@globex.example')!;
    fake.edit('deals', hsDeal, { dealstage: 'closedwon' });
    await fetch(`${fake.baseUrl}/crm/v4/associations/deals/contacts/batch/archive`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ from: { id: hsDeal }, to: [{ id: john.id }] }] }) });
    fake.edit('deals', hsDeal, {}); // an association change bumps the deal's modification time in HubSpot too
    expect((await syncNow(a)).counts).toMatchObject({ failed: 0, conflicts: 0 });
    const deal = await tdb(a).selectFrom('deals').selectAll().where('name', '=', 'Acme renewal').executeTakeFirstOrThrow();
    const stage = await tdb(a).selectFrom('pipeline_stages').selectAll().where('id', '=', deal.stageId).executeTakeFirstOrThrow();
    expect(stage).toMatchObject({ name: 'Closed won', kind: 'won', probability: 100 });
    const history = await tdb(a).selectFrom('deal_stage_history').selectAll().where('dealId', '=', deal.id).orderBy('changedAt').execute();
    expect(history.map((r: any) => r.toStageId)).toEqual([expect.any(String), stage.id]);
    expect(await tdb(a).selectFrom('deal_contacts').selectAll().where('dealId', '=', deal.id).execute()).toHaveLength(1);

    // Plinth moves the deal to another company: HubSpot's association follows (archive + create).
    const umbrella = await tdb(a).selectFrom('companies').select('id').where('domain', '=', 'umbrella.example').executeTakeFirstOrThrow();
    const res = await as(h, a)({ method: 'PATCH', url: `/v1/deals/${deal.id}`, payload: { companyId: umbrella.id } });
    expect(res.statusCode, res.body).toBe(200);
    expect((await syncNow(a)).counts).toMatchObject({ pushed: 1, failed: 0 });
    expect(fake.associations('deals', hsDeal, 'companies')).toEqual([[fake.find('companies', 'domain', 'umbrella.example')!.id, 5]]);

    // HubSpot moves Jane from Acme to Globex: Plinth's contact follows.
    const hsGlobex = fake.find('companies', 'domain', 'www.Globex.example')!.id;
    const hsUmbrella = fake.find('companies', 'domain', 'umbrella.example')!.id;
    const [[hsAcme]] = fake.associations('contacts', hsJane, 'companies') as [[string, number]];
    await fetch(`${fake.baseUrl}/crm/v4/associations/contacts/companies/batch/archive`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ from: { id: hsJane }, to: [{ id: hsAcme }] }] }) });
    fake.associate('contacts', hsJane, 'companies', hsGlobex, 1);
    fake.edit('contacts', hsJane, {});
    expect((await syncNow(a)).counts).toMatchObject({ failed: 0, conflicts: 0 });
    const globex = await tdb(a).selectFrom('companies').select('id').where('domain', '=', 'globex.example').executeTakeFirstOrThrow();
    const jane = () => tdb(a).selectFrom('contacts').select(['id', 'companyId']).where('email', '=', 'jane@acme.example').executeTakeFirstOrThrow();
    expect((await jane()).companyId).toBe(globex.id);

    // Plinth moves her to Umbrella: the old association is archived, the new one created as primary.
    const from = fake.log.length;
    const moved = await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${(await jane()).id}`, payload: { companyId: umbrella.id } });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await syncNow(a)).counts).toMatchObject({ pushed: 1, failed: 0, conflicts: 0 });
    const calls = fake.log.slice(from);
    expect(calls.find((c) => c.path === '/crm/v4/associations/contacts/companies/batch/archive')!.body.inputs).toEqual([{ from: { id: hsJane }, to: [{ id: hsGlobex }] }]);
    const made = calls.find((c) => c.path === '/crm/v4/associations/contacts/companies/batch/create')!;
    expect(made.status).toBe(201);
    expect(made.body.inputs).toEqual([{ from: { id: hsJane }, to: { id: hsUmbrella }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] }]);
    expect(fake.associations('contacts', hsJane, 'companies')).toEqual([[hsUmbrella, 1]]);
    // The next run sees both sides agree: nothing moves back.
    expect((await syncNow(a)).counts).toMatchObject({ updated: 0, pushed: 0, conflicts: 0, failed: 0 });
    expect((await jane()).companyId).toBe(umbrella.id);

    // No company in Plinth: the association goes in HubSpot too.
    expect((await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${(await jane()).id}`, payload: { companyId: null } })).statusCode).toBe(200);
    expect((await syncNow(a)).counts).toMatchObject({ pushed: 1, failed: 0 });
    expect(fake.associations('contacts', hsJane, 'companies')).toEqual([]);
  });

  it('takes a HubSpot edit, undoes a Plinth edit of a field HubSpot owns, and records a conflict when both edit a field', async () => {
    const jane = await tdb(a).selectFrom('contacts').selectAll().where('email', '=', 'jane@acme.example').executeTakeFirstOrThrow();
    const acme = await tdb(a).selectFrom('companies').selectAll().where('domain', '=', 'acme.example').executeTakeFirstOrThrow();
    fake.edit('contacts', hsJane, { jobtitle: 'Chief Technology Officer', phone: '+33 1 23 45 67 89' });
    await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${jane.id}`, payload: { jobTitle: 'VP Engineering', lastName: 'Doe-Smith' } });
    await as(h, a)({ method: 'PATCH', url: `/v1/companies/${acme.id}`, payload: { industry: 'Software' } });

    const run = await syncNow(a);
    expect(run.counts, JSON.stringify(run)).toMatchObject({ conflicts: 1, failed: 0 });
    const after = await tdb(a).selectFrom('contacts').selectAll().where('id', '=', jane.id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ phone: '+33 1 23 45 67 89', phones: ['+33 1 23 45 67 89'], lastName: 'Doe-Smith', jobTitle: 'VP Engineering' });
    expect(fake.get('contacts', hsJane)!.properties).toMatchObject({ lastname: 'Doe-Smith', jobtitle: 'Chief Technology Officer' });
    expect((await tdb(a).selectFrom('companies').select('industry').where('id', '=', acme.id).executeTakeFirstOrThrow()).industry).toBe('COMPUTER_SOFTWARE');

    const list = await as(h, a, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts' });
    expect(list.statusCode).toBe(200);
    const [conflict] = list.json().data;
    expect(conflict).toMatchObject({ objectType: 'contact', recordId: jane.id, hubspotId: hsJane, field: 'jobTitle', baseValue: 'CTO', plinthValue: 'VP Engineering', hubspotValue: 'Chief Technology Officer', resolution: null });
    expect((await status(a)).openConflicts).toBe(1);
    expect((await as(h, b, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts' })).json().data).toEqual([]);
    // An unsettled conflict stays one row, and neither side is overwritten by the next run.
    await syncNow(a);
    expect((await as(h, a, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts' })).json().data).toHaveLength(1);
    expect(fake.get('contacts', hsJane)!.properties.jobtitle).toBe('Chief Technology Officer');
  });

  it('resolves a conflict for Plinth (pushed by the next run) and one for HubSpot (written to Plinth), with audit rows', async () => {
    const conflictId = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts' })).json().data[0].id;
    const url = `/v1/integrations/hubspot/conflicts/${conflictId}/resolve`;
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url, payload: { use: 'both' } }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/integrations/hubspot/conflicts/nope/resolve', payload: { use: 'plinth' } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url, headers: { 'x-tenant': a.slug }, payload: { use: 'plinth' } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url, payload: { use: 'plinth' } }), 403, 'permission_denied');
    expectProblem(await as(h, b, 'admin')({ method: 'POST', url, payload: { use: 'plinth' } }), 404, 'not_found');

    const before = (await status(a)).lastRun!.id;
    const res = await as(h, a, 'admin')({ method: 'POST', url, payload: { use: 'plinth' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ resolution: 'plinth', resolvedBy: a.accounts.admin.id });
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url, payload: { use: 'hubspot' } }), 409, 'conflict');
    // The resolution enqueued a run that pushes Plinth's value.
    const run = await waitForRun(a, before);
    expect(run).toMatchObject({ trigger: 'resolve', status: 'succeeded' });
    expect(fake.get('contacts', hsJane)!.properties.jobtitle).toBe('VP Engineering');

    // A second conflict, settled for HubSpot.
    const jane = await tdb(a).selectFrom('contacts').select('id').where('email', '=', 'jane@acme.example').executeTakeFirstOrThrow();
    fake.edit('contacts', hsJane, { firstname: 'Janet' });
    await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${jane.id}`, payload: { firstName: 'Jenny' } });
    await syncNow(a);
    const second = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts' })).json().data[0];
    expect(second).toMatchObject({ field: 'firstName', plinthValue: 'Jenny', hubspotValue: 'Janet' });
    expect((await as(h, a, 'admin')({ method: 'POST', url: `/v1/integrations/hubspot/conflicts/${second.id}/resolve`, payload: { use: 'hubspot' } })).statusCode).toBe(200);
    expect((await tdb(a).selectFrom('contacts').select('firstName').where('id', '=', jane.id).executeTakeFirstOrThrow()).firstName).toBe('Janet');
    const settled = await syncNow(a);
    expect(settled.counts).toMatchObject({ conflicts: 0, failed: 0 });
    expect(fake.get('contacts', hsJane)!.properties.firstname).toBe('Janet');

    const resolved = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot/conflicts?status=resolved' })).json().data;
    expect(resolved.map((c: any) => c.resolution).sort()).toEqual(['hubspot', 'plinth']);
    const audit = await tdb(a).selectFrom('audit_log').selectAll().where('action', '=', 'integrations.hubspot.conflict_resolved').execute();
    expect(audit).toHaveLength(2);
    expect(audit.every((r: any) => r.actorId === a.accounts.admin.id)).toBe(true);
  });

  it('applies the field rules: newest wins without a conflict; plinth overwrites a HubSpot edit', async () => {
    const res = await connect(a, { accessToken: TOKEN, fieldRules: { contact: { jobTitle: 'newest' }, company: { name: 'plinth' } } });
    expect(res.statusCode, res.body).toBe(200);
    const jane = await tdb(a).selectFrom('contacts').select('id').where('email', '=', 'jane@acme.example').executeTakeFirstOrThrow();
    await as(h, a)({ method: 'PATCH', url: `/v1/contacts/${jane.id}`, payload: { jobTitle: 'Head of Engineering' } });
    await new Promise((r) => setTimeout(r, 5));
    fake.edit('contacts', hsJane, { jobtitle: 'Technical Founder' });
    const globex = fake.find('companies', 'domain', 'www.Globex.example')!;
    fake.edit('companies', globex.id, { name: 'Globex (renamed in HubSpot)', address: '1 Main St' });
    const run = await syncNow(a);
    expect(run.counts).toMatchObject({ conflicts: 0, failed: 0 });
    expect(globex.properties).toMatchObject({ name: 'Globex', address: '1 Main St' });
    expect(await tdb(a).selectFrom('companies').select(['name', 'address']).where('domain', '=', 'globex.example').executeTakeFirstOrThrow()).toEqual({ name: 'Globex', address: '1 Main St' });
    expect((await tdb(a).selectFrom('contacts').select('jobTitle').where('id', '=', jane.id).executeTakeFirstOrThrow()).jobTitle).toBe('Technical Founder');
    const audit = await tdb(a).selectFrom('audit_log').select('action').where('action', 'like', 'integrations.hubspot.%').orderBy('seq').execute();
    expect(audit.map((r: any) => r.action)).toContain('integrations.hubspot.updated');
  });
});

describe('a record that cannot be written', () => {
  it('fails alone: the rest of its page is synced and the error is in the run status', async () => {
    const initech = fake.find('companies', 'domain', 'initech.example')!;
    const umbrella = fake.find('companies', 'domain', 'umbrella.example')!;
    // Another Plinth company already has this domain: the update breaks the unique index.
    fake.edit('companies', initech.id, { domain: 'acme.example' });
    fake.edit('companies', umbrella.id, { address: '9 Rain Street' });
    const run = await syncNow(a);
    expect(run.status).toBe('succeeded');
    expect(run.counts.failed).toBe(1);
    expect(run.errors[0]).toMatchObject({ object: 'company', id: initech.id, message: expect.stringMatching(/unique|duplicate/i) });
    expect((await tdb(a).selectFrom('companies').select('address').where('domain', '=', 'umbrella.example').executeTakeFirstOrThrow()).address).toBe('9 Rain Street');
    expect(await tdb(a).selectFrom('companies').select('id').where('domain', '=', 'initech.example').executeTakeFirst()).toBeDefined();
    fake.edit('companies', initech.id, { domain: 'initech.example' });
    expect((await syncNow(a)).counts.failed).toBe(0);
  });
});

describe('webhooks: POST /v1/integrations/hubspot/webhooks/:tenantSlug', () => {
  const post = (slug: string, events: unknown, opts: { secret?: string; timestamp?: number; signature?: string } = {}) => {
    const body = JSON.stringify(events);
    const url = `/v1/integrations/hubspot/webhooks/${slug}`;
    const timestamp = String(opts.timestamp ?? Date.now());
    const signature = opts.signature ?? signV3(opts.secret ?? SECRET, 'POST', `http://localhost:80${url}`, body, timestamp);
    return h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp }, payload: body });
  };

  it('accepts a signed batch, processes each event id once, and fetches the changed object', async () => {
    const hsId = fake.find('companies', 'domain', 'initech.example')!.id;
    fake.edit('companies', hsId, { address: '42 Office Park' });
    const events = [{ eventId: 9001, subscriptionId: 77, portalId: 4242, appId: 5, occurredAt: Date.now(), subscriptionType: 'company.propertyChange', attemptNumber: 0, objectId: Number(hsId), propertyName: 'address', propertyValue: '42 Office Park', changeSource: 'CRM' }];
    const before = (await status(a)).lastRun!.id;
    const res = await post(a.slug, events);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ received: 1, processed: 1 });
    const run = await waitForRun(a, before);
    expect(run).toMatchObject({ trigger: 'webhook', status: 'succeeded' });
    expect(fake.log.some((c) => c.path === '/crm/v3/objects/companies/batch/read' && c.body.inputs[0].id === hsId)).toBe(true);
    expect((await tdb(a).selectFrom('companies').select('address').where('domain', '=', 'initech.example').executeTakeFirstOrThrow()).address).toBe('42 Office Park');

    // HubSpot retries the same delivery: accepted, nothing processed again.
    const replay = await post(a.slug, [{ ...events[0], attemptNumber: 1 }]);
    expect(replay.json()).toEqual({ received: 1, processed: 0 });
    expect((await tdb(a).selectFrom('hubspot_webhook_events').selectAll().execute())).toHaveLength(1);
  });

  it('rejects a wrong, missing or stale signature, an unknown tenant and a tenant without a client secret', async () => {
    const events = [{ eventId: 9100, subscriptionType: 'contact.creation', objectId: 1, portalId: 4242, occurredAt: Date.now() }];
    expectProblem(await post(a.slug, events, { secret: 'another-secret' }), 401, 'invalid_signature');
    expectProblem(await post(a.slug, events, { signature: 'x' }), 401, 'invalid_signature');
    expectProblem(await post(a.slug, events, { timestamp: Date.now() - 6 * 60 * 1000 }), 401, 'invalid_signature');
    expectProblem(await h.app.inject({ method: 'POST', url: `/v1/integrations/hubspot/webhooks/${a.slug}`, headers: { 'content-type': 'application/json' }, payload: '[]' }), 401, 'invalid_signature');
    expectProblem(await post('no-such-tenant', events), 404, 'tenant_not_found');
    expectProblem(await h.app.inject({ method: 'POST', url: `/v1/integrations/hubspot/webhooks/${a.slug}`, headers: { 'content-type': 'text/plain' }, payload: '[]' }), 415, 'unsupported_media_type');
    expectProblem(await post(b.slug, events), 404, 'not_found');
    expectProblem(await post(a.slug, [{ nothing: true }]), 400, 'validation_failed');
    // A well-signed event about something that is not a CRM object id is recorded, not fetched.
    expect((await post(a.slug, [{ eventId: 9101, subscriptionType: 'contact.propertyChange', objectId: 'abc' }])).json()).toEqual({ received: 1, processed: 1 });
    expect(await tdb(a).selectFrom('hubspot_webhook_events').selectAll().where('eventId', '=', '9100').execute()).toHaveLength(0);
  });
});

describe('token refused during a sync, disconnect, secrets in logs', () => {
  it('marks the connection auth_failed when HubSpot refuses the token', async () => {
    fake.setToken('pat-rotated-elsewhere');
    const run = await syncNow(a);
    expect(run.status).toBe('failed');
    expect(run.errors[0]!.message).toMatch(/401/);
    expect((await status(a)).status).toBe('auth_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/integrations/hubspot/sync', payload: {} }), 409, 'conflict');
    fake.setToken(TOKEN);
    // Connecting again with a valid token clears it.
    expect((await connect(a)).json().status).toBe('connected');
  });

  it('disconnects: token, links and open conflicts go, records stay; audited', async () => {
    const res = await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/integrations/hubspot' });
    expect(res.statusCode).toBe(204);
    expect((await status(a)).connected).toBe(false);
    expect(await tdb(a).selectFrom('hubspot_links').selectAll().execute()).toHaveLength(0);
    expect((await tdb(a).selectFrom('companies').selectAll().execute()).length).toBeGreaterThan(0);
    expect(await tdb(a).selectFrom('audit_log').selectAll().where('action', '=', 'integrations.hubspot.disconnected').execute()).toHaveLength(1);
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/integrations/hubspot' }), 404, 'not_found');
  });

  it('never wrote the token or the client secret to the logs', () => {
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(SECRET);
  });
});
