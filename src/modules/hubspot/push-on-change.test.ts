// A CRM change in a connected tenant schedules a sync by itself (domain event
// → debounced job), so Plinth's edits reach HubSpot without a manual run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { startFakeHubSpot, type FakeHubSpot } from './fake-hubspot.ts';

const TOKEN = 'pat-na1-push-on-change-0000';
let fake: FakeHubSpot;
let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  fake = await startFakeHubSpot({ token: TOKEN });
  h = await startApp({ config: { HUBSPOT_API_BASE: fake.baseUrl, HUBSPOT_PUSH_DELAY_SECONDS: '0', HUBSPOT_SYNC_INTERVAL_MINUTES: '10080', JOBS_IN_API: 'true', JOBS_TASKS: 'hubspot.*', JOBS_POLL_INTERVAL_MS: '200', JOBS_CRON: 'false' } });
  t = await createTenant(h, 'hsp');
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

describe('push on change', () => {
  it('syncs a contact created in Plinth without a manual run', async () => {
    expect((await as(h, t, 'admin')({ method: 'PUT', url: '/v1/integrations/hubspot', payload: { accessToken: TOKEN } })).statusCode).toBe(200);
    const ref = { id: t.tenant.id, slug: t.slug, displayName: t.tenant.displayName, schemaName: t.tenant.schemaName };
    const res = await as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Pushy', lastName: 'McPush', email: 'pushy@push.example' } });
    expect(res.statusCode, res.body).toBe(201);
    // The CRM services publish their domain events in a parallel branch; publish the one they will send.
    await h.db.transaction().execute((trx) => h.app.platform.events.publish(trx, { tenant: ref }, 'crm.contact.created', { id: res.json().id, firstName: 'Pushy', lastName: 'McPush', email: 'pushy@push.example' }));
    const end = Date.now() + 20_000;
    while (!fake.find('contacts', 'email', 'pushy@push.example') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(fake.find('contacts', 'email', 'pushy@push.example')?.properties).toMatchObject({ firstname: 'Pushy', lastname: 'McPush' });
    const status = (await as(h, t, 'admin')({ method: 'GET', url: '/v1/integrations/hubspot' })).json();
    expect(status.lastRun).toMatchObject({ trigger: 'change' });
  });
});
