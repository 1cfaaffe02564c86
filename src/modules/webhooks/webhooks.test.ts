// Webhooks: endpoints per tenant, deliveries written in the publishing
// transaction, signed POSTs received by a local HTTP server, a retry after
// the receiver's 500, the delivery log, auto-disable, private-URL refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { verifySignature } from './signature.ts';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}
const received: Received[] = [];
// path → status codes to answer in turn (then 200)
const script = new Map<string, number[]>();
let receiver: Server;
let base: string;
let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers as Record<string, string>, body });
      const plan = script.get(req.url!) ?? [];
      res.statusCode = plan.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  h = await startApp({ config: { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOKS_DISABLE_AFTER: '1', JOBS_IN_API: 'true', JOBS_TASKS: 'webhooks.*', JOBS_POLL_INTERVAL_MS: '200' } });
  [a, b] = await Promise.all([createTenant(h, 'wa'), createTenant(h, 'wb')]);
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => receiver.close(r));
});

const until = async <T>(check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};
type EndpointJson = { id: string; secret: string; url: string; events: string[]; enabled: boolean; failureStreak: number };
const register = async (t: TestTenant, path: string, events = ['crm.contact.created', 'webhooks.ping']): Promise<EndpointJson> => {
  const res = await as(h, t, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: `${base}${path}`, events } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};
const publish = (t: TestTenant, id: string) =>
  h.db.transaction().execute((trx) => h.app.platform.events.publish(trx, { tenant: t.tenant }, 'crm.contact.created', { id, firstName: 'Ada', lastName: null, email: null }));

describe('deliveries', () => {
  it('delivers a committed event, signed with the endpoint secret, only to subscribed endpoints of the tenant', async () => {
    const ep = await register(a, '/a1');
    await register(a, '/a-other', ['crm.contact.deleted']);
    await register(b, '/b1');
    const event = await publish(a, '0190b6b4-1c2d-7000-8000-0000000000a1');
    const got = await until(() => received.find((r) => r.path === '/a1' && r.headers['plinth-event-id'] === event.id));
    expect(verifySignature(ep.secret, got.headers['plinth-signature']!, got.body)).toBe(true);
    expect(verifySignature('whsec_wrong', got.headers['plinth-signature']!, got.body)).toBe(false);
    expect(verifySignature(ep.secret, got.headers['plinth-signature']!, got.body.replace('Ada', 'Eve'))).toBe(false);
    expect(JSON.parse(got.body)).toEqual({ id: event.id, type: 'crm.contact.created', tenantId: a.tenant.id, occurredAt: event.occurredAt, data: { id: '0190b6b4-1c2d-7000-8000-0000000000a1', firstName: 'Ada', lastName: null, email: null } });
    expect(got.headers['plinth-event-type']).toBe('crm.contact.created');
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.headers['plinth-event-id'] === event.id).map((r) => r.path)).toEqual(['/a1']);
  });

  it('a rolled-back transaction delivers nothing', async () => {
    const ep = await register(a, '/rb');
    await expect(
      h.db.transaction().execute(async (trx) => {
        await h.app.platform.events.publish(trx, { tenant: a.tenant }, 'crm.contact.created', { id: '0190b6b4-1c2d-7000-8000-0000000000b2', firstName: 'X', lastName: null, email: null });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((r) => r.path === '/rb')).toEqual([]);
    expect((await as(h, a, 'admin')({ method: 'GET', url: `/v1/webhooks/${ep.id}/deliveries` })).json()).toEqual({ data: [] });
  });

  it('retries after a 500 from the receiver and logs both attempts', async () => {
    script.set('/flaky', [500]);
    const ep = await register(a, '/flaky');
    const event = await publish(a, '0190b6b4-1c2d-7000-8000-0000000000c3');
    await until(() => received.filter((r) => r.path === '/flaky').length === 2 || undefined);
    const both = received.filter((r) => r.path === '/flaky');
    expect(both.map((r) => r.headers['plinth-event-id'])).toEqual([event.id, event.id]);
    for (const r of both) expect(verifySignature(ep.secret, r.headers['plinth-signature']!, r.body)).toBe(true);
    const log = await until(async () => {
      const d = ((await as(h, a, 'admin')({ method: 'GET', url: `/v1/webhooks/${ep.id}/deliveries` })).json() as { data: Array<{ status: string; attempts: number; responseStatus: number }> }).data;
      return d[0]?.status === 'succeeded' ? d : undefined;
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'succeeded', attempts: 2, responseStatus: 200 });
  });

  it('disables an endpoint whose delivery exhausts its retries (WEBHOOKS_DISABLE_AFTER=1)', async () => {
    script.set('/dead', [500, 500, 500]);
    const ep = await register(a, '/dead');
    await publish(a, '0190b6b4-1c2d-7000-8000-0000000000d4');
    const row = await until(async () => (await sql<{ id: string }>`select id from ${sql.id(a.tenant.schemaName, 'webhook_deliveries')} where endpoint_id = ${ep.id} and attempts = 1`.execute(h.db)).rows[0]);
    // Make the second attempt the last one, now, instead of waiting through eight backoffs.
    await sql`update graphile_worker._private_jobs set max_attempts = 2, run_at = now() where key = ${`webhook:${row.id}`}`.execute(h.db);
    const endpoint = await until(async () => {
      const list = ((await as(h, a, 'admin')({ method: 'GET', url: '/v1/webhooks' })).json() as { data: EndpointJson[] }).data;
      const e = list.find((x) => x.id === ep.id);
      return e && !e.enabled ? e : undefined;
    });
    expect(endpoint).toMatchObject({ enabled: false, failureStreak: 1 });
    // A system action, in the trail with no actor.
    const audit = await sql<{ actorId: string | null }>`select actor_id from ${sql.id(a.tenant.schemaName, 'audit_log')} where action = 'webhooks.endpoint.disabled' and target_id = ${ep.id}`.execute(h.db);
    expect(audit.rows).toEqual([{ actorId: null }]);
    const enabled = await as(h, a, 'admin')({ method: 'POST', url: `/v1/webhooks/${ep.id}/enable` });
    expect(enabled.json()).toMatchObject({ enabled: true, failureStreak: 0 });
  });

  it('ping sends a signed webhooks.ping', async () => {
    const ep = await register(a, '/ping');
    const res = await as(h, a, 'admin')({ method: 'POST', url: `/v1/webhooks/${ep.id}/ping` });
    expect(res.statusCode).toBe(202);
    const got = await until(() => received.find((r) => r.path === '/ping'));
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhooks.ping', data: { endpointId: ep.id } });
  });
});

describe('routes', () => {
  it('POST: 400 for bad URL, unknown event or a private address when not allowed; 401; 403', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'not a url', events: ['crm.contact.created'] } }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: `${base}/x`, events: ['nope.event'] } }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: `${base}/x`, events: [] } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { 'x-tenant': a.slug }, payload: {} }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/webhooks', payload: { url: `${base}/x`, events: ['crm.contact.created'] } }), 403, 'permission_denied');
    const strict = await startApp();
    try {
      const t = await createTenant(strict, 'ws');
      const p = expectProblem(await as(strict, t, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: ['crm.contact.created'] } }), 400, 'validation_failed');
      expect(p.errors?.[0]).toMatchObject({ pointer: '/url', detail: 'points at a private or loopback address' });
      expectProblem(await as(strict, t, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://10.1.2.3/hook', events: ['crm.contact.created'] } }), 400, 'validation_failed');
    } finally {
      await strict.close();
    }
  });

  it("GET list shows the tenant's endpoints without secrets; 401; 403", async () => {
    const list = (await as(h, b, 'admin')({ method: 'GET', url: '/v1/webhooks' })).json() as { data: Array<Record<string, unknown>> };
    expect(list.data.length).toBe(1);
    expect(list.data[0]).not.toHaveProperty('secret');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/webhooks', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/webhooks' }), 403, 'permission_denied');
  });

  it('DELETE, deliveries, enable and ping: 400, 401, 403, and 404 for another tenant', async () => {
    const ep = await register(a, '/routes');
    const calls = [
      { method: 'DELETE' as const, url: `/v1/webhooks/${ep.id}` },
      { method: 'GET' as const, url: `/v1/webhooks/${ep.id}/deliveries` },
      { method: 'POST' as const, url: `/v1/webhooks/${ep.id}/enable` },
      { method: 'POST' as const, url: `/v1/webhooks/${ep.id}/ping` },
    ];
    for (const call of calls) {
      expectProblem(await as(h, a, 'admin')({ ...call, url: call.url.replace(ep.id, 'bad') }), 400, 'validation_failed');
      expectProblem(await h.app.inject({ ...call, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      expectProblem(await as(h, a, 'member')(call), 403, 'permission_denied');
      expectProblem(await as(h, b, 'admin')(call), 404, 'not_found');
    }
    expect((await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/webhooks/${ep.id}` })).statusCode).toBe(204);
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: `/v1/webhooks/${ep.id}/deliveries` }), 404, 'not_found');
  });
});

describe('PATCH /v1/webhooks/:id and POST /v1/webhooks/:id/rotate-secret', () => {
  it('changes the URL and events; the rotated secret signs the next delivery, the old one no longer does', async () => {
    const ep = await register(a, '/before', ['webhooks.ping']);
    const patched = await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/webhooks/${ep.id}`, payload: { url: `${base}/after`, events: ['webhooks.ping', 'crm.contact.created'] } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ id: ep.id, url: `${base}/after`, events: ['webhooks.ping', 'crm.contact.created'] });
    expect(patched.json()).not.toHaveProperty('secret');
    const rotated = await as(h, a, 'admin')({ method: 'POST', url: `/v1/webhooks/${ep.id}/rotate-secret` });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { secret } = rotated.json() as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(ep.secret);
    await as(h, a, 'admin')({ method: 'POST', url: `/v1/webhooks/${ep.id}/ping` });
    const got = await until(() => received.find((r) => r.path === '/after'));
    expect(verifySignature(secret, got.headers['plinth-signature']!, got.body)).toBe(true);
    expect(verifySignature(ep.secret, got.headers['plinth-signature']!, got.body)).toBe(false);
    const actions = await sql<{ action: string; changes: Record<string, { before: unknown; after: unknown }> | null }>`select action, changes from ${sql.id(a.tenant.schemaName, 'audit_log')} where target_id = ${ep.id} order by seq`.execute(h.db);
    expect(actions.rows.map((r) => r.action)).toEqual(['webhooks.endpoint.created', 'webhooks.endpoint.updated', 'webhooks.endpoint.secret_rotated', 'webhooks.endpoint.pinged']);
    expect(actions.rows[1]!.changes).toMatchObject({ url: { before: `${base}/before`, after: `${base}/after` } });
    expect(JSON.stringify(actions.rows)).not.toContain(secret);
  });

  it('400 for an empty or bad body and a private URL when not allowed; 401; 403; 404 for another tenant', async () => {
    const ep = await register(a, '/patch-routes');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/webhooks/${ep.id}`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/webhooks/${ep.id}`, payload: { events: ['nope.event'] } }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/webhooks/${ep.id}`, payload: { url: 'not a url' } }), 400, 'validation_failed');
    const calls = [
      { method: 'PATCH' as const, url: `/v1/webhooks/${ep.id}`, payload: { events: ['webhooks.ping'] } },
      { method: 'POST' as const, url: `/v1/webhooks/${ep.id}/rotate-secret` },
    ];
    for (const call of calls) {
      expectProblem(await as(h, a, 'admin')({ ...call, url: call.url.replace(ep.id, 'bad') }), 400, 'validation_failed');
      expectProblem(await h.app.inject({ ...call, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      expectProblem(await as(h, a, 'member')(call), 403, 'permission_denied');
      expectProblem(await as(h, b, 'admin')(call), 404, 'not_found');
    }
    const strict = await startApp();
    try {
      const t = await createTenant(strict, 'wp');
      // Registered while allowed (public hosts do not resolve on a test machine).
      const id = '0190b6b4-1c2d-7000-8000-00000000beef';
      await sql`insert into ${sql.id(t.tenant.schemaName, 'webhook_endpoints')} (id, url, secret, events, created_by) values (${id}, 'https://8.8.8.8/x', 'whsec_x', ${['webhooks.ping']}, ${t.accounts.admin.id})`.execute(strict.db);
      const p = expectProblem(await as(strict, t, 'admin')({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { url: 'http://127.0.0.1:9/hook' } }), 400, 'validation_failed');
      expect(p.errors?.[0]?.pointer).toBe('/url');
    } finally {
      await strict.close();
    }
  });
});
