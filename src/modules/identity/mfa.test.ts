// TOTP MFA: enrolment, login challenge, replay refusal, recovery codes,
// disable. Time steps are "advanced" by moving last_used_step back in the
// database, never by sleeping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { createTenant, expectProblem, PASSWORD, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'ma'), createTenant(h, 'mb')]);
});
afterAll(() => h?.close());

const authed = (t: TestTenant, token: string) => (method: 'GET' | 'POST', url: string, payload?: object) =>
  h.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'x-tenant': t.slug }, ...(payload ? { payload } : {}) });
const codeFor = (secret: string, offsetSteps = 0) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + offsetSteps * 30_000 });
/** As if the next time steps had come: earlier steps stay refused relative to each other. */
const nextStep = (accountId: string) => sql`update mfa_totp set last_used_step = last_used_step - 5 where account_id = ${accountId}`.execute(h.db);
const login = (t: TestTenant, email: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug, ...headers }, payload: { email, password: PASSWORD } });
const verify = (payload: object, headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url: '/v1/auth/mfa/verify', headers, payload });

/** A fresh account of tenant `t` (role member) with MFA enabled. */
async function enrolled(t: TestTenant, role: 'member' | 'viewer' = 'member') {
  const call = authed(t, t.tokens[role]);
  const enroll = await call('POST', '/v1/auth/mfa/totp');
  expect(enroll.statusCode, enroll.body).toBe(200);
  const { secret } = enroll.json() as { secret: string };
  const confirm = await call('POST', '/v1/auth/mfa/totp/confirm', { code: codeFor(secret) });
  expect(confirm.statusCode, confirm.body).toBe(200);
  return { secret, recoveryCodes: (confirm.json() as { recoveryCodes: string[] }).recoveryCodes, call, accountId: t.accounts[role].id, email: t.accounts[role].email };
}

describe('enrolment', () => {
  it('gives a secret and an otpauth URI, is confirmed by a first code, returns ten recovery codes', async () => {
    const t = await createTenant(h, 'me');
    const call = authed(t, t.tokens.viewer);
    expect((await call('GET', '/v1/auth/mfa')).json()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    const res = await call('POST', '/v1/auth/mfa/totp');
    const { secret, otpauthUri } = res.json() as { secret: string; otpauthUri: string };
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(decodeURIComponent(otpauthUri)).toContain(t.accounts.viewer.email);
    // Not on until confirmed: login still gives tokens.
    expect((await login(t, t.accounts.viewer.email)).json()).toHaveProperty('accessToken');
    expectProblem(await call('POST', '/v1/auth/mfa/totp/confirm', { code: codeFor(secret, 5) }), 400, 'validation_failed');
    const ok = await call('POST', '/v1/auth/mfa/totp/confirm', { code: codeFor(secret) });
    expect(ok.statusCode, ok.body).toBe(200);
    const codes = (ok.json() as { recoveryCodes: string[] }).recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(codes[0]).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect((await call('GET', '/v1/auth/mfa')).json()).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    expectProblem(await call('POST', '/v1/auth/mfa/totp'), 409, 'mfa_already_enabled');
    const stored = (await sql<{ codeHash: Buffer }>`select code_hash from mfa_recovery_codes where account_id = ${t.accounts.viewer.id}`.execute(h.db)).rows;
    expect(stored.every((r) => r.codeHash.length === 32)).toBe(true);
  });

  it('400 for a malformed code, 401 without a token, 403 with a token of another tenant', async () => {
    const call = authed(a, a.tokens.admin);
    expectProblem(await call('POST', '/v1/auth/mfa/totp/confirm', { code: '12ab56' }), 400, 'validation_failed');
    expectProblem(await call('POST', '/v1/auth/mfa/totp/confirm', {}), 400, 'validation_failed');
    for (const [method, url] of [['GET', '/v1/auth/mfa'], ['POST', '/v1/auth/mfa/totp'], ['POST', '/v1/auth/mfa/disable']] as const) {
      expectProblem(await h.app.inject({ method, url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      expectProblem(await h.app.inject({ method, url, headers: { authorization: `Bearer ${a.tokens.admin}`, 'x-tenant': b.slug } }), 403, 'tenant_mismatch');
    }
  });
});

describe('login with MFA', () => {
  it('returns a challenge instead of tokens; a code completes it; the code and the challenge never work twice', async () => {
    const t = await createTenant(h, 'ml');
    const m = await enrolled(t);
    await nextStep(m.accountId);
    const first = await login(t, m.email);
    expect(first.statusCode).toBe(200);
    const challenge = first.json() as { mfaRequired: boolean; mfaToken: string; accessToken?: string };
    expect(challenge.mfaRequired).toBe(true);
    expect(challenge.accessToken).toBeUndefined();
    const code = codeFor(m.secret);
    const done = await verify({ mfaToken: challenge.mfaToken, code });
    expect(done.statusCode, done.body).toBe(200);
    const tokens = done.json() as { accessToken: string; refreshToken: string };
    expect((await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${tokens.accessToken}`, 'x-tenant': t.slug } })).statusCode).toBe(200);
    // The same challenge again: refused.
    expectProblem(await verify({ mfaToken: challenge.mfaToken, code: codeFor(m.secret, 1) }), 401, 'invalid_mfa_code');
    // The same code on a new challenge (replay): refused; so is an older step's code.
    const second = (await login(t, m.email)).json() as { mfaToken: string };
    expectProblem(await verify({ mfaToken: second.mfaToken, code }), 401, 'invalid_mfa_code');
    expectProblem(await verify({ mfaToken: second.mfaToken, code: codeFor(m.secret, -1) }), 401, 'invalid_mfa_code');
    // The next step's code still works on that challenge.
    expect((await verify({ mfaToken: second.mfaToken, code: codeFor(m.secret, 1) })).statusCode).toBe(200);
  });

  it('the same code sent twice at once is accepted once', async () => {
    const t = await createTenant(h, 'mp');
    const m = await enrolled(t);
    await nextStep(m.accountId);
    const c1 = (await login(t, m.email)).json() as { mfaToken: string };
    const c2 = (await login(t, m.email)).json() as { mfaToken: string };
    const code = codeFor(m.secret);
    const results = await Promise.all([verify({ mfaToken: c1.mfaToken, code }), verify({ mfaToken: c2.mfaToken, code })]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
  });

  it('a recovery code works once, in any case and without its dash', async () => {
    const t = await createTenant(h, 'mr');
    const m = await enrolled(t);
    const c1 = (await login(t, m.email)).json() as { mfaToken: string };
    expect((await verify({ mfaToken: c1.mfaToken, recoveryCode: m.recoveryCodes[0]!.replace('-', '').toUpperCase() })).statusCode).toBe(200);
    const c2 = (await login(t, m.email)).json() as { mfaToken: string };
    expectProblem(await verify({ mfaToken: c2.mfaToken, recoveryCode: m.recoveryCodes[0]! }), 401, 'invalid_mfa_code');
    expect((await m.call('GET', '/v1/auth/mfa')).json()).toEqual({ enabled: true, recoveryCodesLeft: 9 });
  });

  it('a challenge dies after five wrong codes, and when it expires', async () => {
    const t = await createTenant(h, 'mw');
    const m = await enrolled(t);
    await nextStep(m.accountId);
    const c = (await login(t, m.email)).json() as { mfaToken: string };
    for (let i = 0; i < 5; i++) expectProblem(await verify({ mfaToken: c.mfaToken, code: '000000' === codeFor(m.secret) ? '111111' : '000000' }), 401, 'invalid_mfa_code');
    expectProblem(await verify({ mfaToken: c.mfaToken, code: codeFor(m.secret) }), 401, 'invalid_mfa_code');
    const d = (await login(t, m.email)).json() as { mfaToken: string };
    await sql`update mfa_challenges set expires_at = now() - interval '1 second' where account_id = ${m.accountId} and used_at is null`.execute(h.db);
    expectProblem(await verify({ mfaToken: d.mfaToken, code: codeFor(m.secret) }), 401, 'invalid_mfa_code');
  });

  it('verify: 400 for a malformed body; a challenge of tenant A with X-Tenant: B is refused', async () => {
    expectProblem(await verify({ mfaToken: 'x' }), 400, 'validation_failed');
    expectProblem(await verify({ mfaToken: 'x', code: '123' }), 400, 'validation_failed');
    expectProblem(await verify({ mfaToken: 'pmc_unknown', code: '123456' }), 401, 'invalid_mfa_code');
    const t = await createTenant(h, 'mx');
    const m = await enrolled(t);
    await nextStep(m.accountId);
    const c = (await login(t, m.email)).json() as { mfaToken: string };
    expectProblem(await verify({ mfaToken: c.mfaToken, code: codeFor(m.secret) }, { 'x-tenant': b.slug }), 403, 'tenant_mismatch');
  });
});

describe('recovery codes and disabling', () => {
  it('regenerating needs a current code and voids the old codes', async () => {
    const t = await createTenant(h, 'mg');
    const m = await enrolled(t);
    expectProblem(await m.call('POST', '/v1/auth/mfa/recovery-codes', { code: codeFor(m.secret, -1) }), 400, 'validation_failed'); // a step before the one used at enrolment
    await nextStep(m.accountId);
    const res = await m.call('POST', '/v1/auth/mfa/recovery-codes', { code: codeFor(m.secret) });
    expect(res.statusCode, res.body).toBe(200);
    const fresh = (res.json() as { recoveryCodes: string[] }).recoveryCodes;
    const c = (await login(t, m.email)).json() as { mfaToken: string };
    expectProblem(await verify({ mfaToken: c.mfaToken, recoveryCode: m.recoveryCodes[1]! }), 401, 'invalid_mfa_code');
    const c2 = (await login(t, m.email)).json() as { mfaToken: string };
    expect((await verify({ mfaToken: c2.mfaToken, recoveryCode: fresh[0]! })).statusCode).toBe(200);
  });

  it('disable needs the password or a fresh code; afterwards login gives tokens again', async () => {
    const t = await createTenant(h, 'md');
    const m = await enrolled(t);
    expectProblem(await m.call('POST', '/v1/auth/mfa/disable', { password: 'not the password' }), 403, 'wrong_password');
    expectProblem(await m.call('POST', '/v1/auth/mfa/disable', { code: '12345' }), 400, 'validation_failed');
    const res = await m.call('POST', '/v1/auth/mfa/disable', { password: PASSWORD });
    expect(res.statusCode, res.body).toBe(204);
    expect((await login(t, m.email)).json()).toHaveProperty('accessToken');
    expectProblem(await m.call('POST', '/v1/auth/mfa/disable', { password: PASSWORD }), 404, 'not_found');
  });
});

describe('tenant policy: MFA required for roles', () => {
  it('GET/PUT the policy: admins only, validated, audited', async () => {
    const t = await createTenant(h, 'mq');
    const admin = authed(t, t.tokens.admin);
    expect((await admin('GET', '/v1/auth/policy')).json()).toEqual({ mfaRequiredRoles: [] });
    expectProblem(await admin('POST', '/v1/auth/policy', { mfaRequiredRoles: [] }), 404, 'route_not_found');
    const put = (token: string, payload: object) => h.app.inject({ method: 'PUT', url: '/v1/auth/policy', headers: { authorization: `Bearer ${token}`, 'x-tenant': t.slug }, payload });
    expectProblem(await put(t.tokens.admin, { mfaRequiredRoles: ['superuser'] }), 400, 'validation_failed');
    expectProblem(await put(t.tokens.member, { mfaRequiredRoles: ['member'] }), 403, 'permission_denied');
    expectProblem(await h.app.inject({ method: 'PUT', url: '/v1/auth/policy', headers: { 'x-tenant': t.slug }, payload: { mfaRequiredRoles: [] } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'PUT', url: '/v1/auth/policy', headers: { authorization: `Bearer ${t.tokens.admin}`, 'x-tenant': a.slug }, payload: { mfaRequiredRoles: [] } }), 403, 'tenant_mismatch');
    const ok = await put(t.tokens.admin, { mfaRequiredRoles: ['member', 'admin', 'member'] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ mfaRequiredRoles: ['admin', 'member'] });
    // Another tenant's policy is untouched.
    expect((await authed(a, a.tokens.admin)('GET', '/v1/auth/policy')).json()).toEqual({ mfaRequiredRoles: [] });
    const audit = (await admin('GET', '/v1/audit?action=auth.policy.updated')).json() as { data: Array<{ changes: object }> };
    expect(audit.data[0]!.changes).toEqual({ mfaRequiredRoles: { before: [], after: ['admin', 'member'] } });
  });

  it('a member of a required role without MFA gets a token that only reaches sign-in routes until they enroll and refresh', async () => {
    const t = await createTenant(h, 'mz');
    await h.app.inject({ method: 'PUT', url: '/v1/auth/policy', headers: { authorization: `Bearer ${t.tokens.owner}`, 'x-tenant': t.slug }, payload: { mfaRequiredRoles: ['member'] } });
    const res = await login(t, t.accounts.member.email);
    const pair = res.json() as { accessToken: string; refreshToken: string };
    const call = authed(t, pair.accessToken);
    expect(expectProblem(await call('GET', '/v1/contacts'), 403, 'mfa_enrollment_required').detail).toMatch(/enroll/);
    expect((await call('GET', '/v1/me')).statusCode).toBe(200);
    // Other roles are not affected.
    const viewer = (await login(t, t.accounts.viewer.email)).json() as { accessToken: string };
    expect((await authed(t, viewer.accessToken)('GET', '/v1/contacts')).statusCode).toBe(200);
    // Enroll with the restricted token, refresh: full access.
    const { secret } = (await call('POST', '/v1/auth/mfa/totp')).json() as { secret: string };
    expect((await call('POST', '/v1/auth/mfa/totp/confirm', { code: codeFor(secret) })).statusCode).toBe(200);
    const refreshed = (await h.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } })).json() as { accessToken: string };
    expect((await authed(t, refreshed.accessToken)('GET', '/v1/contacts')).statusCode).toBe(200);
    // From now on the login asks for the second factor.
    expect((await login(t, t.accounts.member.email)).json()).toHaveProperty('mfaRequired', true);
  });
});
