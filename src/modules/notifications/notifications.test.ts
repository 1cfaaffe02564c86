// Notifications: the inbox routes, and live delivery across two API
// instances (PostgreSQL fan-out, then Redis), only after commit, only to the
// member's own room.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { io as connect, type Socket } from 'socket.io-client';
import { as, captureLogs, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { createNotifications } from './service.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
type Note = { id: string; title: string; kind: string; readAt: string | null };

async function listening(config: Record<string, string> = {}) {
  // Its log lines, to read the LISTEN connection's name and its reconnection.
  const { stream, lines: logs } = captureLogs();
  const h = await startApp({ config: { LOG_LEVEL: 'info', ...config }, logStream: stream });
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  return { h, address, logs };
}
const waitFor = async (what: string, ok: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
function client(address: string, token: string): Promise<Socket> {
  const socket = connect(address, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', (err) => reject(err));
  });
}
const nextEvent = <T>(socket: Socket, event: string, ms = 5000) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (data: T) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
const collect = (socket: Socket, event: string) => {
  const got: unknown[] = [];
  socket.on(event, (d) => got.push(d));
  return got;
};

for (const mode of ['PostgreSQL', 'Redis'] as const) {
  describe(`two API instances, fan-out through ${mode}`, () => {
    const config: Record<string, string> = mode === 'Redis' ? { REDIS_URL } : {};
    let one: Awaited<ReturnType<typeof listening>>;
    let two: Awaited<ReturnType<typeof listening>>;
    let a: TestTenant;
    let b: TestTenant;
    const sockets: Socket[] = [];

    beforeAll(async () => {
      [one, two] = await Promise.all([listening(config), listening(config)]);
      [a, b] = await Promise.all([createTenant(one.h, 'na'), createTenant(one.h, 'nb')]);
    });
    afterAll(async () => {
      for (const s of sockets) s.disconnect();
      await Promise.all([one?.h.close(), two?.h.close()]);
    });
    const open = async (address: string, token: string) => {
      const s = await client(address, token);
      sockets.push(s);
      return s;
    };

    it('a notification created through one instance reaches the member connected to the other, after commit', async () => {
      const member = await open(two.address, a.tokens.member);
      const otherMember = await open(two.address, a.tokens.viewer);
      const otherTenant = await open(one.address, b.tokens.member);
      const strayA = collect(otherMember, 'notification.created');
      const strayB = collect(otherTenant, 'notification.created');
      // A client asking to join another tenant's room is ignored: there is no such event.
      otherTenant.emit('join', `t:${a.tenant.id}:a:${a.accounts.member.id}`);
      const arrived = nextEvent<Note>(member, 'notification.created');
      const res = await as(one.h, a, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId: a.accounts.member.id, kind: 'crm.deal.won', title: `Deal won (${mode})` } });
      expect(res.statusCode, res.body).toBe(201);
      const note = await arrived;
      expect(note).toMatchObject({ id: (res.json() as Note).id, title: `Deal won (${mode})`, kind: 'crm.deal.won', readAt: null });
      await new Promise((r) => setTimeout(r, 200));
      expect(strayA).toEqual([]);
      expect(strayB).toEqual([]);
    });

    it('a rolled-back write notifies nothing and stores nothing', async () => {
      const member = await open(two.address, a.tokens.member);
      const got = collect(member, 'notification.created');
      const service = createNotifications(one.h.app.platform);
      await expect(
        one.h.db.transaction().execute(async (trx) => {
          await service.notify(trx, { tenant: a.tenant }, { accountId: a.accounts.member.id, kind: 'x.rollback', title: 'never' });
          throw new Error('business write failed');
        }),
      ).rejects.toThrow('business write failed');
      await new Promise((r) => setTimeout(r, 400));
      expect(got).toEqual([]);
      const rows = await sql<{ c: number }>`select count(*)::int as c from ${sql.id(a.tenant.schemaName, 'notifications')} where kind = 'x.rollback'`.execute(one.h.db);
      expect(rows.rows[0]!.c).toBe(0);
    });

    it("marking read on one instance tells the member's sockets on both (broadcast, outside a transaction)", async () => {
      const [there, here] = await Promise.all([open(two.address, a.tokens.member), open(one.address, a.tokens.member)]);
      const created = nextEvent<Note>(there, 'notification.created');
      await as(one.h, a, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId: a.accounts.member.id, kind: 'k', title: 'read me' } });
      const note = await created;
      const read = [nextEvent<{ ids: string[] }>(there, 'notification.read'), nextEvent<{ ids: string[] }>(here, 'notification.read')];
      expect((await as(one.h, a, 'member')({ method: 'POST', url: `/v1/notifications/${note.id}/read` })).statusCode).toBe(200);
      expect(await Promise.all(read)).toEqual([{ ids: [note.id] }, { ids: [note.id] }]);
    });

    if (mode === 'PostgreSQL') {
      it('an instance whose LISTEN connection is killed logs it, listens again and delivers again', async () => {
        const started = two.logs.find((l) => l.msg === 'listening' && l.channel === 'plinth_realtime');
        const name = started?.applicationName as string;
        expect(name).toMatch(/^plinth-realtime-[0-9a-f]{8}$/);
        // Only this instance's listener: other test files share the database.
        const killed = await sql<{ pid: number }>`select pg_terminate_backend(pid) as pid from pg_stat_activity where application_name = ${name}`.execute(one.h.db);
        expect(killed.rows).toHaveLength(1);
        await waitFor('reconnection', () => two.logs.some((l) => l.msg === 'listening again' && l.applicationName === name));
        expect(two.logs.some((l) => l.msg === 'realtime: LISTEN connection lost, reconnecting; notifications sent meanwhile do not reach this instance' && l.level === 50)).toBe(true);
        const member = await open(two.address, a.tokens.member);
        const created = nextEvent<Note>(member, 'notification.created');
        await as(one.h, a, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId: a.accounts.member.id, kind: 'k', title: 'after the cut' } });
        expect((await created).title).toBe('after the cut');
        const read = nextEvent<{ all: boolean }>(member, 'notification.read');
        expect((await as(one.h, a, 'member')({ method: 'POST', url: '/v1/notifications/read-all' })).statusCode).toBe(200);
        expect(await read).toEqual({ all: true });
      });
    }

    it('readiness reports Redis when it carries the fan-out', async () => {
      const res = await two.h.app.inject({ method: 'GET', url: '/health/ready' });
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as { checks: Record<string, string> }).checks.redis).toBe(mode === 'Redis' ? 'ok' : undefined);
    });

    it('refuses a handshake without a valid token', async () => {
      await expect(client(two.address, 'not-a-token')).rejects.toThrow(/unauthorized/);
      const s = connect(two.address, { transports: ['websocket'], reconnection: false, forceNew: true });
      await expect(new Promise<void>((resolve, reject) => { s.on('connect', () => resolve()); s.on('connect_error', reject); })).rejects.toThrow(/unauthorized/);
      s.disconnect();
    });
  });
}

describe('inbox routes', () => {
  let h: Harness;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    h = await startApp();
    [a, b] = await Promise.all([createTenant(h, 'ni'), createTenant(h, 'nj')]);
  });
  afterAll(() => h?.close());
  const send = async (t: TestTenant, accountId: string, title: string, kind = 'general') => {
    const res = await as(h, t, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId, kind, title } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Note | null;
  };

  it('POST: 400, 401, 403 for a member, 422 for an account of another tenant', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId: a.accounts.member.id, kind: 'Bad Kind', title: '' } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: { 'x-tenant': a.slug }, payload: {} }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/notifications', payload: { accountId: a.accounts.member.id, kind: 'k', title: 't' } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId: b.accounts.member.id, kind: 'k', title: 't' } }), 422, 'invalid_reference');
  });

  it('lists only your own notifications, newest first, with unread filter and count', async () => {
    const first = await send(a, a.accounts.viewer.id, 'one');
    await send(a, a.accounts.viewer.id, 'two');
    await send(a, a.accounts.member.id, 'not yours');
    await as(h, a, 'viewer')({ method: 'POST', url: `/v1/notifications/${first!.id}/read` });
    const all = (await as(h, a, 'viewer')({ method: 'GET', url: '/v1/notifications' })).json() as { data: Note[] };
    expect(all.data.map((n) => n.title)).toEqual(['two', 'one']);
    const unread = (await as(h, a, 'viewer')({ method: 'GET', url: '/v1/notifications?unread=true' })).json() as { data: Note[] };
    expect(unread.data.map((n) => n.title)).toEqual(['two']);
    expect((await as(h, a, 'viewer')({ method: 'GET', url: '/v1/notifications/unread-count' })).json()).toEqual({ unread: 1 });
    expect((await as(h, a, 'viewer')({ method: 'POST', url: '/v1/notifications/read-all' })).json()).toEqual({ updated: 1 });
    expect((await as(h, a, 'viewer')({ method: 'GET', url: '/v1/notifications/unread-count' })).json()).toEqual({ unread: 0 });
  });

  it('GET list / unread-count / read-all: 400, 401, and 403 without membership', async () => {
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/notifications?limit=0' }), 400, 'validation_failed');
    for (const [method, url] of [['GET', '/v1/notifications'], ['GET', '/v1/notifications/unread-count'], ['POST', '/v1/notifications/read-all']] as const) {
      expectProblem(await h.app.inject({ method, url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    }
    const t = await createTenant(h, 'nr');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: '/v1/notifications' }), 403, 'permission_denied');
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: '/v1/notifications/unread-count' }), 403, 'permission_denied');
  });

  it("mark read: 400, 401, someone else's or another tenant's notification is a 404", async () => {
    const note = await send(a, a.accounts.member.id, 'mine');
    const url = `/v1/notifications/${note!.id}/read`;
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/notifications/x/read' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url }), 404, 'not_found');
    expectProblem(await as(h, b, 'member')({ method: 'POST', url }), 404, 'not_found');
    expect(((await as(h, a, 'member')({ method: 'POST', url })).json() as Note).readAt).not.toBeNull();
  });

  it('preferences: email only sends mail and keeps the inbox empty; 400 and 401', async () => {
    const put = await as(h, a, 'member')({ method: 'PUT', url: '/v1/notifications/preferences/crm.digest', payload: { inApp: false, email: true } });
    expect(put.json()).toEqual({ kind: 'crm.digest', inApp: false, email: true });
    expect((await as(h, a, 'member')({ method: 'GET', url: '/v1/notifications/preferences' })).json()).toEqual({ data: [{ kind: 'crm.digest', inApp: false, email: true }] });
    expect(await send(a, a.accounts.member.id, 'digest', 'crm.digest')).toBeNull();
    const mails = await sql<{ toAddress: string; template: string }>`select to_address, template from ${sql.id(a.tenant.schemaName, 'email_outbox')}`.execute(h.db);
    expect(mails.rows).toContainEqual({ toAddress: a.accounts.member.email, template: 'notifications.notice' });
    expectProblem(await as(h, a, 'member')({ method: 'PUT', url: '/v1/notifications/preferences/crm.digest', payload: { inApp: 'yes' } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'PUT', url: '/v1/notifications/preferences/x', headers: { 'x-tenant': a.slug }, payload: { inApp: true, email: true } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/notifications/preferences', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    // Preferences are per member: the viewer still has none.
    expect((await as(h, a, 'viewer')({ method: 'GET', url: '/v1/notifications/preferences' })).json()).toEqual({ data: [] });
    expect((await as(h, b, 'member')({ method: 'GET', url: '/v1/notifications/preferences' })).json()).toEqual({ data: [] });
  });
});
