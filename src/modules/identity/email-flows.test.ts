// Email verification and password reset, end to end: the request, the mail as
// it arrives at a real SMTP server (parsed), the link's token, the outcome.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { as, createTenant, expectProblem, PASSWORD, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { startMailApp, tokenIn, until, type Mailbox } from '../../../test/mailbox.ts';
import { createPlatformAdmin } from '../platform-admin/admins.ts';

let h: Harness;
let mailbox: Mailbox;
let close: () => Promise<void>;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  ({ h, mailbox, close } = await startMailApp({ JOBS_TASKS: 'email.*,identity.*' }));
  [a, b] = await Promise.all([createTenant(h, 'fa'), createTenant(h, 'fb')]);
  await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'Acme Flows', logoUrl: null, primaryColor: '#aa3300', footer: null } });
});
afterAll(() => close?.());

const post = (url: string, payload: object, headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url, payload, headers });
const login = (t: TestTenant, email: string, password = PASSWORD) => post('/v1/auth/login', { email, password }, { 'x-tenant': t.slug });
const auditOf = async (t: TestTenant, action: string) =>
  (await sql<{ action: string; actorId: string | null; targetId: string | null; changes: Record<string, { after: unknown }> | null }>`select action, actor_id, target_id, changes from ${sql.id(t.tenant.schemaName, 'audit_log')} where action = ${action} order by seq`.execute(h.db)).rows;
const NEW_PASSWORD = 'a quite different passphrase';

describe('email verification', () => {
  it('mails a branded link on request; the token verifies once; /v1/me shows it', async () => {
    const me0 = await as(h, a, 'member')({ method: 'GET', url: '/v1/me' });
    expect(me0.json().account.emailVerifiedAt).toBeNull();
    const res = await as(h, a, 'member')({ method: 'POST', url: '/v1/auth/email/verify-request' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ email: a.accounts.member.email, expiresIn: 86400 });
    const mail = await mailbox.mailTo(a.accounts.member.email);
    expect(mail.subject).toBe('Confirm your email address for Acme Flows');
    expect(mail.html).toContain('#aa3300');
    expect(mail.text).toContain('https://app.plinth.test/verify-email?token=pev_');
    const token = tokenIn(mail);
    // Stored as a hash only.
    const stored = await sql<{ n: number }>`select count(*)::int as n from email_tokens where token_hash = sha256(${token}::bytea)`.execute(h.db);
    expect(stored.rows[0]!.n).toBe(1);

    const ok = await post('/v1/auth/email/verify', { token });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ email: a.accounts.member.email, emailVerifiedAt: expect.any(String) });
    expect((await as(h, a, 'member')({ method: 'GET', url: '/v1/me' })).json().account.emailVerifiedAt).toBe(ok.json().emailVerifiedAt);
    expectProblem(await post('/v1/auth/email/verify', { token }), 400, 'invalid_email_token');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/auth/email/verify-request' }), 409, 'email_already_verified');
    expect(await auditOf(a, 'auth.email.verification_requested')).toContainEqual(expect.objectContaining({ actorId: a.accounts.member.id }));
    expect(await auditOf(a, 'auth.email.verified')).toContainEqual(expect.objectContaining({ actorId: a.accounts.member.id, targetId: a.accounts.member.id }));
  });

  it('a new request voids the earlier link; an expired link is refused', async () => {
    const call = as(h, a, 'viewer');
    await call({ method: 'POST', url: '/v1/auth/email/verify-request' });
    const first = tokenIn(await mailbox.mailTo(a.accounts.viewer.email));
    await call({ method: 'POST', url: '/v1/auth/email/verify-request' });
    const second = tokenIn(await mailbox.mailTo(a.accounts.viewer.email, (m) => tokenIn(m) !== first));
    expectProblem(await post('/v1/auth/email/verify', { token: first }), 400, 'invalid_email_token');
    await sql`update email_tokens set expires_at = now() - interval '1 second' where token_hash = sha256(${second}::bytea)`.execute(h.db);
    expectProblem(await post('/v1/auth/email/verify', { token: second }), 400, 'invalid_email_token');
  });

  it('400 for a malformed token; 401 without a token; 403 for an API key or another tenant', async () => {
    expectProblem(await post('/v1/auth/email/verify', { token: 'nope' }), 400, 'validation_failed');
    expectProblem(await post('/v1/auth/email/verify', {}), 400, 'validation_failed');
    expectProblem(await post('/v1/auth/email/verify', { token: 'pev_unknownunknownunknown' }), 400, 'invalid_email_token');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/auth/email/verify-request', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    const key = await as(h, a, 'admin')({ method: 'POST', url: '/v1/api-keys', payload: { name: 'k', permissions: ['crm.contacts.read'] } });
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/auth/email/verify-request', headers: { authorization: `Bearer ${key.json().key}`, 'x-tenant': a.slug } }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url: '/v1/auth/email/verify-request', headers: { 'x-tenant': b.slug } }), 403, 'tenant_mismatch');
  });

  it('sign-up: a tenant created with a new owner mails the owner a verification link', async () => {
    const admin = `admin-${Date.now()}@platform.example`;
    await createPlatformAdmin(h.db, { email: admin, password: PASSWORD });
    const token = (await post('/v1/platform/login', { email: admin, password: PASSWORD })).json().accessToken as string;
    const slug = `fs-${Date.now().toString(36)}`;
    const owner = `owner@${slug}.example`;
    const created = await h.app.inject({ method: 'POST', url: '/v1/platform/tenants', headers: { authorization: `Bearer ${token}` }, payload: { slug, displayName: 'Signed Up Co', ownerEmail: owner } });
    expect(created.statusCode, created.body).toBe(201);
    const mail = await mailbox.mailTo(owner);
    expect(mail.subject).toBe('Confirm your email address for Signed Up Co');
    expect((await post('/v1/auth/email/verify', { token: tokenIn(mail) })).statusCode).toBe(200);
  });
});

describe('password reset', () => {
  const forgot = (t: TestTenant | string, email: string, headers: Record<string, string> = {}) =>
    post('/v1/auth/password/forgot', { email }, { 'x-tenant': typeof t === 'string' ? t : t.slug, ...headers });

  it('mails a branded link; the reset sets the password, ends every session, works once', async () => {
    const t = await createTenant(h, 'fr');
    await as(h, t, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'Reset Co', logoUrl: null, primaryColor: '#004488', footer: null } });
    const email = t.accounts.member.email;
    const session = (await login(t, email)).json() as { refreshToken: string };
    const res = await forgot(t, email.toUpperCase());
    expect(res.statusCode).toBe(202);
    const mail = await mailbox.mailTo(email);
    expect(mail.subject).toBe('Reset your Reset Co password');
    expect(mail.html).toContain('#004488');
    expect(mail.text).toContain('valid for 30 minutes');
    const token = tokenIn(mail);
    expect(token).toMatch(/^ppr_/);

    // The policy applies, and a refused password leaves the link usable.
    const weak = expectProblem(await post('/v1/auth/password/reset', { token, newPassword: 'password1234' }), 400, 'validation_failed');
    expect(weak.errors?.[0]?.pointer).toBe('/newPassword');
    const ok = await post('/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD });
    expect(ok.statusCode, ok.body).toBe(204);
    expectProblem(await post('/v1/auth/password/reset', { token, newPassword: `${NEW_PASSWORD}!` }), 400, 'invalid_email_token');
    expectProblem(await post('/v1/auth/refresh', { refreshToken: session.refreshToken }), 401, 'invalid_refresh_token');
    expectProblem(await login(t, email), 401, 'invalid_credentials');
    expect((await login(t, email, NEW_PASSWORD)).statusCode).toBe(200);
    const [requested] = await auditOf(t, 'auth.password_reset.requested');
    expect(requested!.changes).toMatchObject({ known: { after: true }, mailed: { after: true } });
    const [reset] = await auditOf(t, 'auth.password.reset');
    expect(reset).toMatchObject({ actorId: t.accounts.member.id, targetId: t.accounts.member.id });
    expect(reset!.changes!.sessionsRevoked!.after).toBeGreaterThanOrEqual(2); // createTenant's login and this test's
  });

  it('answers unknown and known addresses alike, in similar time, and mails only the member', async () => {
    const t = await createTenant(h, 'fu');
    const known = t.accounts.viewer.email;
    const unknown = `nobody@${t.slug}.example`;
    const outsider = b.accounts.member.email; // an account, but not a member of t
    const strip = (body: string) => ({ ...(JSON.parse(body) as object), requestId: undefined });
    const time = async (email: string) => {
      const t0 = performance.now();
      const res = await forgot(t, email);
      return { ms: performance.now() - t0, status: res.statusCode, body: strip(res.body), headers: Object.keys(res.headers).sort() };
    };
    const runs = { known: [] as Array<Awaited<ReturnType<typeof time>>>, unknown: [] as Array<Awaited<ReturnType<typeof time>>> };
    for (let i = 0; i < 5; i++) {
      runs.known.push(await time(known));
      runs.unknown.push(await time(i % 2 ? unknown : outsider));
    }
    const shape = (r: Awaited<ReturnType<typeof time>>) => ({ status: r.status, body: r.body, headers: r.headers });
    expect(runs.unknown.map(shape)).toEqual(runs.known.map(shape));
    expect(runs.known[0]!.status).toBe(202);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[2]!;
    const ratio = median(runs.unknown.map((r) => r.ms)) / median(runs.known.map((r) => r.ms));
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
    await mailbox.mailTo(known);
    await until(async () => (await auditOf(t, 'auth.password_reset.requested')).length === 10 || undefined);
    const rows = await auditOf(t, 'auth.password_reset.requested');
    expect(rows.filter((r) => r.changes!.known!.after === false)).toHaveLength(5);
    // Five requests for the member within a minute: one mail.
    expect(rows.filter((r) => r.changes!.mailed?.after === true)).toHaveLength(1);
    expect(mailbox.to(known)).toHaveLength(1);
    expect(mailbox.to(unknown)).toHaveLength(0);
    expect(mailbox.to(outsider).filter((m) => m.subject?.startsWith('Reset'))).toHaveLength(0);
  });

  it('never bypasses MFA: a TOTP or recovery code is required, wrong codes count', async () => {
    const t = await createTenant(h, 'fm');
    const call = as(h, t, 'member');
    const { secret } = (await call({ method: 'POST', url: '/v1/auth/mfa/totp' })).json() as { secret: string };
    const code = () => new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    const confirm = await call({ method: 'POST', url: '/v1/auth/mfa/totp/confirm', payload: { code: code() } });
    const { recoveryCodes } = confirm.json() as { recoveryCodes: string[] };
    await sql`update mfa_totp set last_used_step = last_used_step - 5 where account_id = ${t.accounts.member.id}`.execute(h.db);

    await forgot(t, t.accounts.member.email);
    const token = tokenIn(await mailbox.mailTo(t.accounts.member.email));
    expectProblem(await post('/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD }), 401, 'mfa_code_required');
    const wrong = code() === '000000' ? '111111' : '000000';
    expectProblem(await post('/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD, code: wrong }), 401, 'invalid_mfa_code');
    expectProblem(await post('/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD, recoveryCode: 'aaaaa-bbbbb' }), 401, 'invalid_mfa_code');
    expect((await auditOf(t, 'auth.mfa.failed')).length).toBe(2);
    const ok = await post('/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD, recoveryCode: recoveryCodes[0] });
    expect(ok.statusCode, ok.body).toBe(204);
    // Logging in still asks for the second factor.
    expect((await login(t, t.accounts.member.email, NEW_PASSWORD)).json()).toMatchObject({ mfaRequired: true });
    expect((await auditOf(t, 'auth.password.reset'))[0]!.changes).toMatchObject({ mfa: { after: 'recovery_code' } });

    // Five wrong codes void the link.
    await sql`delete from email_tokens where account_id = ${t.accounts.member.id}`.execute(h.db);
    await forgot(t, t.accounts.member.email);
    const second = tokenIn(await mailbox.mailTo(t.accounts.member.email, (m) => tokenIn(m) !== token));
    for (let i = 0; i < 5; i++) expectProblem(await post('/v1/auth/password/reset', { token: second, newPassword: NEW_PASSWORD, code: wrong }), 401, 'invalid_mfa_code');
    expectProblem(await post('/v1/auth/password/reset', { token: second, newPassword: NEW_PASSWORD, code: code() }), 400, 'invalid_email_token');
  });

  it('an expired link is refused', async () => {
    const t = await createTenant(h, 'fx');
    await forgot(t, t.accounts.admin.email);
    const token = tokenIn(await mailbox.mailTo(t.accounts.admin.email));
    await sql`update email_tokens set expires_at = now() - interval '1 second' where token_hash = sha256(${token}::bytea)`.execute(h.db);
    expectProblem(await post('/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD }), 400, 'invalid_email_token');
    expect((await login(t, t.accounts.admin.email)).statusCode).toBe(200);
  });

  it('400 for bad input, no tenant; 404 for an unknown tenant', async () => {
    expectProblem(await forgot(a, 'not-an-email'), 400, 'validation_failed');
    expectProblem(await post('/v1/auth/password/forgot', { email: 'x@y.example' }), 400, 'tenant_required');
    expectProblem(await forgot('no-such-tenant-here', 'x@y.example'), 404, 'tenant_not_found');
    expectProblem(await post('/v1/auth/password/reset', { token: 'ppr_x', newPassword: NEW_PASSWORD, extra: 1 }), 400, 'validation_failed');
    expectProblem(await post('/v1/auth/password/reset', { token: 'ppr_abcdefghijklmnop', newPassword: NEW_PASSWORD, code: '12' }), 400, 'validation_failed');
    expectProblem(await post('/v1/auth/password/reset', { token: 'ppr_abcdefghijklmnop', newPassword: NEW_PASSWORD }), 400, 'invalid_email_token');
  });

  it('limits requests per IP', async () => {
    const limited = await startApp({ config: { DATABASE_URL: h.config.DATABASE_URL!, AUTH_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const ask = () => limited.app.inject({ method: 'POST', url: '/v1/auth/password/forgot', headers: { 'x-tenant': a.slug }, payload: { email: 'x@y.example' }, remoteAddress: '203.0.113.77' });
      expect((await ask()).statusCode).toBe(202);
      expect((await ask()).statusCode).toBe(202);
      const refused = expectProblem(await ask(), 429, 'rate_limited');
      expect(refused.detail).toMatch(/retry/);
      const reset = () => limited.app.inject({ method: 'POST', url: '/v1/auth/password/reset', payload: { token: 'ppr_abcdefghijklmnop', newPassword: NEW_PASSWORD }, remoteAddress: '203.0.113.78' });
      await reset();
      await reset();
      expectProblem(await reset(), 429, 'rate_limited');
    } finally {
      await limited.close();
    }
  });
});
