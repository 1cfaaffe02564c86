// The two-level cache across instances: two API instances on one database
// cache permission sets for 10 minutes, yet a role or membership changed
// through one applies on the other at once, with PostgreSQL NOTIFY (no Redis)
// and with Redis (pub/sub + shared L2). /metrics shows the hit ratio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, captureLogs, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { createCacheStore, INVALIDATION_CHANNEL } from './cache.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LONG_TTL = { TENANT_CACHE_TTL_MS: '600000' };

/** Retries `fn` until it returns true (up to 3 s); answers how long it took. */
async function within(fn: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 3000) {
    if (await fn()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('not seen within 3 s');
}

const metric = async (h: Harness, line: RegExp) => {
  const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').at(-1)) : undefined;
};

for (const mode of ['PostgreSQL', 'Redis'] as const) {
  describe(`two API instances, invalidation through ${mode}`, () => {
    let one: Harness;
    let two: Harness;
    let t: TestTenant;
    const config = mode === 'Redis' ? { ...LONG_TTL, REDIS_URL } : LONG_TTL;
    // Instance two's log lines: its LISTEN connection's name and reconnection.
    const { stream: logStream, lines: twoLogs } = captureLogs();

    beforeAll(async () => {
      [one, two] = await Promise.all([startApp({ config }), startApp({ config: { ...config, LOG_LEVEL: 'info' }, logStream })]);
      t = await createTenant(one, `c${mode[0]!.toLowerCase()}`);
    });
    afterAll(async () => {
      await one?.close();
      await two?.close();
    });

    it('a role changed through one instance applies on the other at once (the cache is real: a change behind its back is not seen)', async () => {
      const onTwo = as(two, t, 'viewer');
      const post = () => onTwo({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Ada' } });
      expectProblem(await post(), 403, 'permission_denied');
      const viewer = ((await as(one, t, 'admin')({ method: 'GET', url: '/v1/roles' })).json() as { items: Array<{ id: string; key: string; permissions: object[] }> }).items.find((r) => r.key === 'viewer')!;
      // Written straight to the database, announced to nobody: instance two keeps its cached set.
      await sql`update ${sql.id(t.tenant.schemaName, 'roles')} set permissions = '{"crm.contacts.write": "all"}' where key = 'viewer'`.execute(one.db);
      expectProblem(await post(), 403, 'permission_denied');
      // Through the API of instance one: instance two sees it at once.
      const res = await as(one, t, 'admin')({ method: 'PATCH', url: `/v1/roles/${viewer.id}`, payload: { permissions: [...viewer.permissions, { key: 'crm.contacts.write' }] } });
      expect(res.statusCode, res.body).toBe(200);
      const ms = await within(async () => (await post()).statusCode === 201);
      expect(ms).toBeLessThan(1000);
      console.log(`[cache] ${mode}: role change on instance one seen on instance two after ${ms.toFixed(0)} ms`);
    });

    it("a member's new role applies on the other instance at once", async () => {
      const onTwo = as(two, t, 'member');
      const roleOnTwo = async () => ((await onTwo({ method: 'GET', url: '/v1/me/permissions' })).json() as { role: string }).role;
      expect(await roleOnTwo()).toBe('member');
      const res = await as(one, t, 'admin')({ method: 'PATCH', url: `/v1/members/${t.accounts.member.id}`, payload: { role: 'viewer' } });
      expect(res.statusCode, res.body).toBe(200);
      const ms = await within(async () => (await roleOnTwo()) === 'viewer');
      expect(ms).toBeLessThan(1000);
      console.log(`[cache] ${mode}: membership change seen on the other instance after ${ms.toFixed(0)} ms`);
    });

    it('/metrics shows lookups and the hit ratio per cache', async () => {
      for (let i = 0; i < 5; i++) expect((await as(two, t, 'owner')({ method: 'GET', url: '/v1/me' })).statusCode).toBe(200);
      expect(await metric(two, /^plinth_cache_lookups_total\{cache="access",result="l1_hit"\}/)).toBeGreaterThanOrEqual(4);
      expect(await metric(two, /^plinth_cache_hit_ratio\{cache="access"\}/)).toBeGreaterThan(0);
      expect(await metric(two, /^plinth_cache_hit_ratio\{cache="directory"\}/)).toBeGreaterThan(0);
    });

    if (mode === 'PostgreSQL') {
      it('an instance whose LISTEN connection is killed empties its process cache on reconnecting (it may have missed invalidations), then hears them again', async () => {
        const name = twoLogs.find((l) => l.msg === 'listening' && l.channel === INVALIDATION_CHANNEL)?.applicationName as string;
        expect(name).toMatch(/^plinth-cache-[0-9a-f]{8}$/);
        const post = () => as(two, t, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Grace' } });
        expect((await post()).statusCode).toBe(201);
        // Behind the cache's back, as if the invalidation had been sent while instance two was not listening.
        await sql`update ${sql.id(t.tenant.schemaName, 'roles')} set permissions = '{}' where key = 'viewer'`.execute(one.db);
        expect((await post()).statusCode).toBe(201);
        // Only instance two's listener: other test files share the database.
        const killed = await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`.execute(one.db);
        expect(killed.rows).toHaveLength(1);
        await within(async () => twoLogs.some((l) => l.msg === 'listening again' && l.applicationName === name));
        expect(twoLogs.some((l) => l.msg === 'cache: LISTEN connection lost; reconnecting' && l.level === 50)).toBe(true);
        expectProblem(await post(), 403, 'permission_denied');
        // And invalidations reach it again.
        const viewer = ((await as(one, t, 'admin')({ method: 'GET', url: '/v1/roles' })).json() as { items: Array<{ id: string; key: string }> }).items.find((r) => r.key === 'viewer')!;
        const res = await as(one, t, 'admin')({ method: 'PATCH', url: `/v1/roles/${viewer.id}`, payload: { permissions: [{ key: 'crm.contacts.write' }] } });
        expect(res.statusCode, res.body).toBe(200);
        expect(await within(async () => (await post()).statusCode === 201)).toBeLessThan(1000);
      });
    }

    if (mode === 'Redis') {
      it('a third instance answers from Redis (L2) before its own process cache is warm', async () => {
        const three = await startApp({ config });
        try {
          expect((await as(one, t, 'owner')({ method: 'GET', url: '/v1/me' })).statusCode).toBe(200);
          expect((await as(three, t, 'owner')({ method: 'GET', url: '/v1/me' })).statusCode).toBe(200);
          expect(await metric(three, /^plinth_cache_lookups_total\{cache="access",result="l2_hit"\}/)).toBeGreaterThanOrEqual(1);
        } finally {
          await three.close();
        }
      });
    }
  });
}

describe('cache store', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(() => h?.close());

  it('with Redis unreachable, reads go to the loader and invalidation does not throw', async () => {
    const warnings: string[] = [];
    const store = createCacheStore({ ttlMs: 60_000, db: h.db, redisUrl: 'redis://127.0.0.1:1', warn: (msg) => warnings.push(msg) });
    const c = store.cache<number>('down', { max: 10 });
    let loads = 0;
    expect(await c.get('t1', 'k', async () => ++loads)).toBe(1);
    expect(await c.get('t1', 'k', async () => ++loads)).toBe(1);
    await c.invalidate('t1');
    expect(await c.get('t1', 'k', async () => ++loads)).toBe(2);
    expect(c.stats).toMatchObject({ l1Hits: 1, misses: 2 });
    expect(warnings.length).toBeGreaterThan(0);
    await store.close();
  });

  it('a load that started before an invalidation is not cached', async () => {
    const store = createCacheStore({ ttlMs: 60_000, db: h.db });
    const c = store.cache<string>('race', { max: 10 });
    let release!: () => void;
    const slow = c.get('t', 'k', () => new Promise<string>((r) => (release = () => r('old'))));
    await new Promise((r) => setTimeout(r, 5));
    await c.invalidate('t', 'k');
    release();
    expect(await slow).toBe('old');
    expect(await c.get('t', 'k', async () => 'new')).toBe('new');
    await store.close();
  });
});
