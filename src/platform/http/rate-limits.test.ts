// Request budgets: per IP (anonymous), per account, per API key, per tenant,
// the stricter per-IP budget of auth routes, the RateLimit-* headers and the
// 429 problem, and one budget shared by two instances through Redis.
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { ROLES } from '../permissions.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HIGH = '1000000';
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

async function start(config: Record<string, string>) {
  const h = await startApp({
    config: {
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: HIGH,
      RATE_LIMIT_ACCOUNT_PER_MINUTE: HIGH,
      RATE_LIMIT_API_KEY_PER_MINUTE: HIGH,
      RATE_LIMIT_TENANT_PER_MINUTE: HIGH,
      AUTH_RATE_LIMIT_PER_MINUTE: HIGH,
      ...config,
    },
  });
  harnesses.push(h);
  return h;
}

/** An address no other test (or concurrent run sharing the Redis) uses. */
const freshIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const me = (h: Harness, t: TestTenant, role: 'owner' | 'admin' | 'member' | 'viewer' = 'owner') => as(h, t, role)({ method: 'GET', url: '/v1/me' });

async function statuses(n: number, call: () => Promise<{ statusCode: number }>) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call()).statusCode);
  return out;
}

describe('per caller budgets', () => {
  it('each account and each API key has its own budget; 429 problem with Retry-After and RateLimit-* headers', async () => {
    const h = await start({ RATE_LIMIT_ACCOUNT_PER_MINUTE: '5', RATE_LIMIT_API_KEY_PER_MINUTE: '3' });
    const t = await createTenant(h, 'rl');
    // The owner's key is made first (a request of the owner's budget: 1 of 5).
    const created = await as(h, t, 'owner')({ method: 'POST', url: '/v1/api-keys', payload: { name: 'sync', permissions: ['crm.contacts.read'] } });
    expect(created.statusCode).toBe(201);
    const key = (created.json() as { key: string }).key;

    const first = await me(h, t);
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('5');
    expect(first.headers['ratelimit-remaining']).toBe('3');
    expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(await statuses(4, () => me(h, t))).toEqual([200, 200, 200, 429]);

    const refused = await me(h, t);
    const problem = expectProblem(refused, 429, 'rate_limited');
    expect(problem.detail).toMatch(/your account/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit-remaining']).toBe('0');

    // Another member of the same tenant is unaffected.
    expect((await me(h, t, 'member')).statusCode).toBe(200);
    // The owner's API key counts apart from the owner: its own budget of 3.
    const withKey = () => h.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${key}` } });
    const keyRes = await withKey();
    expect(keyRes.statusCode).toBe(200);
    expect(keyRes.headers['ratelimit-limit']).toBe('3');
    expect(await statuses(3, withKey)).toEqual([200, 200, 429]);
    expect(expectProblem(await withKey(), 429, 'rate_limited').detail).toMatch(/API key/);
    // Errors answered after the guard count too (a 404 here), and still get the headers.
    const other = await as(h, t, 'admin')({ method: 'GET', url: '/v1/contacts/01890000-0000-7000-8000-000000000000' });
    expect(other.statusCode).toBe(404);
    expect(other.headers['ratelimit-limit']).toBe('5');
    // Refusals are counted by budget in /metrics (no tenant or account label).
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^plinth_rate_limited_total\{budget="account"\} 2$/m);
    expect(metrics).toMatch(/^plinth_rate_limited_total\{budget="api_key"\} 2$/m);
  });

  it('anonymous callers are counted per IP', async () => {
    const h = await start({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3' });
    const [ip, other] = [freshIp(), freshIp()];
    const get = (remoteAddress: string) => h.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress });
    expect(await statuses(4, () => get(ip))).toEqual([200, 200, 200, 429]);
    expectProblem(await get(ip), 429, 'rate_limited');
    expect((await get(other)).statusCode).toBe(200);
    // An IPv6 client is its /64: rotating addresses inside it does not buy a new budget.
    const v6 = ['2001:db8:7:9::1', '2001:db8:7:9::2', '2001:db8:7:9:abcd::1', '2001:db8:7:9:ffff:1:2:3'];
    expect(await statuses(4, () => get(v6.shift()!))).toEqual([200, 200, 200, 429]);
    expect((await get('2001:db8:7:a::1')).statusCode).toBe(200);
    // A credential on a public route changes nothing: still anonymous.
    const withJunk = () => h.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: other, headers: { authorization: 'Bearer junk' } });
    expect(await statuses(3, withJunk)).toEqual([200, 200, 429]);
    // Failed credentials count against the address too: past the budget, its
    // credentials are refused before being checked (valid ones included) until the window ends.
    const third = freshIp();
    const bogus = () => h.app.inject({ method: 'GET', url: '/v1/me', remoteAddress: third, headers: { authorization: 'Bearer not-a-token' } });
    expect(await statuses(5, bogus)).toEqual([401, 401, 401, 401, 429]);
    expect(expectProblem(await bogus(), 429, 'rate_limited').detail).toMatch(/failed credentials/);
    // Probes are never counted.
    for (let i = 0; i < 5; i++) {
      const res = await h.app.inject({ method: 'GET', url: '/health/live', remoteAddress: ip });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('tenant budget', () => {
  it('all callers of a tenant share one budget; other tenants are unaffected', async () => {
    // createTenant logs in once per system role; six more requests fit, the seventh does not.
    const budget = ROLES.length + 6;
    const h = await start({ RATE_LIMIT_TENANT_PER_MINUTE: String(budget) });
    const t = await createTenant(h, 'rt');
    const u = await createTenant(h, 'ru');
    expect(await statuses(3, () => me(h, t, 'owner'))).toEqual([200, 200, 200]);
    expect(await statuses(3, () => me(h, t, 'admin'))).toEqual([200, 200, 200]);
    const refused = await me(h, t, 'member');
    expect(expectProblem(refused, 429, 'rate_limited').detail).toMatch(/tenant's request budget/);
    expect(refused.headers['ratelimit-limit']).toBe(String(budget));
    // Logins to the tenant count against it too.
    expect((await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug }, payload: { email: t.accounts.viewer.email, password: 'x' } })).statusCode).toBe(429);
    expect((await me(h, u, 'member')).statusCode).toBe(200);
  });
});

describe('auth routes', () => {
  it('share a stricter per-IP budget (login, refresh, MFA verify), beside the anonymous one', async () => {
    const h = await start({ AUTH_RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100' });
    const t = await createTenant(h, 'ra'); // its 4 logins come from 127.0.0.1
    const ip = freshIp();
    const login = () => h.app.inject({ method: 'POST', url: '/v1/auth/login', remoteAddress: ip, headers: { 'x-tenant': t.slug }, payload: { email: t.accounts.member.email, password: 'wrong password' } });
    const first = await login();
    expect(first.statusCode).toBe(401);
    expect(first.headers['ratelimit-limit']).toBe('5');
    expect(await statuses(4, login)).toEqual([401, 401, 401, 401]);
    const refused = await login();
    expect(expectProblem(refused, 429, 'rate_limited').detail).toMatch(/sign-in attempts/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The other auth routes share that budget...
    expect((await h.app.inject({ method: 'POST', url: '/v1/auth/refresh', remoteAddress: ip, payload: { refreshToken: 'nope' } })).statusCode).toBe(429);
    expect((await h.app.inject({ method: 'POST', url: '/v1/auth/mfa/verify', remoteAddress: ip, payload: { mfaToken: 'nope', code: '123456' } })).statusCode).toBe(429);
    // ...while ordinary anonymous requests from that address still pass, and other addresses may log in.
    expect((await h.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: ip })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: '/v1/auth/login', remoteAddress: freshIp(), headers: { 'x-tenant': t.slug }, payload: { email: t.accounts.member.email, password: 'wrong password' } })).statusCode).toBe(401);
  });
});

describe('with Redis', () => {
  it('two instances share one budget', async () => {
    const config = { REDIS_URL, RATE_LIMIT_ACCOUNT_PER_MINUTE: '4', REALTIME_ENABLED: 'false' };
    const [a, b] = [await start(config), await start(config)];
    const t = await createTenant(a, 'rr');
    expect(await statuses(2, () => me(a, t))).toEqual([200, 200]);
    const third = await me(b, t);
    expect(third.statusCode).toBe(200);
    expect(third.headers['ratelimit-remaining']).toBe('1');
    expect(await statuses(2, () => me(a, t))).toEqual([200, 429]);
    expectProblem(await me(b, t), 429, 'rate_limited');
    const ready = await b.app.inject({ method: 'GET', url: '/health/ready' });
    expect((ready.json() as { checks: Record<string, string> }).checks.redis).toBe('ok');
  });
});
