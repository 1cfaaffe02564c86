// Password policy, password change and rehash-on-login, against the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hash } from '@node-rs/argon2';
import { as, createTenant, expectProblem, login, PASSWORD, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { commonPasswordCount, passwordProblems } from '../../platform/auth/password-policy.ts';
import { needsRehash } from '../../platform/auth/passwords.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'pa'), createTenant(h, 'pb')]);
});
afterAll(() => h?.close());

const NEW = 'violet kettle under a quiet moon';

describe('password policy', () => {
  it('ships a list of more than 10,000 common passwords and refuses them case-insensitively', () => {
    expect(commonPasswordCount()).toBeGreaterThan(10_000);
    expect(passwordProblems('1qaz2wsx3edc', 'x@example.com')).toEqual(['is one of the most common passwords; choose another']);
    expect(passwordProblems('QWERTY123456', 'x@example.com')).toHaveLength(1);
  });

  it('counts characters, not bytes: 12 to 128', () => {
    expect(passwordProblems('ab'.repeat(5) + 'c', 'x@example.com')[0]).toMatch(/at least 12/);
    expect(passwordProblems('é'.repeat(12), 'x@example.com')).toEqual([]);
    expect(passwordProblems('🙂'.repeat(12), 'x@example.com')).toEqual([]);
    expect(passwordProblems('z'.repeat(128), 'x@example.com')).toEqual([]);
    expect(passwordProblems('z'.repeat(129), 'x@example.com')[0]).toMatch(/at most 128/);
  });

  it('refuses passwords close to the email', () => {
    const email = 'grace.hopper@navy.example';
    for (const pw of ['grace.hopper@navy.example', 'Grace.Hopper@navy.example1', 'grace.hopper1234', 'my grace.hopper pw', 'grace.hoppers!']) {
      expect(passwordProblems(pw, email), pw).toContain('is too close to your email address');
    }
    expect(passwordProblems('compiler nanoseconds cobol', email)).toEqual([]);
  });

  it('needsRehash is true for other argon2 parameters or other algorithms', async () => {
    expect(needsRehash(await hash('x', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }))).toBe(false);
    expect(needsRehash(await hash('x', { algorithm: 2, memoryCost: 8192, timeCost: 3, parallelism: 1 }))).toBe(true);
    expect(needsRehash(await hash('x', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 }))).toBe(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
  });
});

describe('POST /v1/auth/password', () => {
  const change = (t: TestTenant, token: string, payload: object) =>
    h.app.inject({ method: 'POST', url: '/v1/auth/password', headers: { authorization: `Bearer ${token}`, 'x-tenant': t.slug }, payload });
  const loginPair = async (t: TestTenant, email: string, password = PASSWORD) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug }, payload: { email, password } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { accessToken: string; refreshToken: string };
  };
  const refresh = (token: string) => h.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: token } });

  it('changes the password with the current one and ends the other sessions, keeping this one', async () => {
    const t = await createTenant(h, 'pc');
    const email = t.accounts.member.email;
    const other = await loginPair(t, email);
    const mine = await loginPair(t, email);
    const res = await change(t, mine.accessToken, { currentPassword: PASSWORD, newPassword: NEW });
    expect(res.statusCode, res.body).toBe(204);
    expectProblem(await refresh(other.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(mine.refreshToken)).statusCode).toBe(200);
    await expect(login(h, t.slug, email)).rejects.toThrow(/401/);
    expect(await login(h, t.slug, email, NEW)).toBeTruthy();
  });

  it('403 wrong_password when the current password is wrong; nothing changes', async () => {
    const p = expectProblem(await change(a, a.tokens.viewer, { currentPassword: 'not my password', newPassword: NEW }), 403, 'wrong_password');
    expect(p.code).toBe('wrong_password');
    expect(await login(h, a.slug, a.accounts.viewer.email)).toBeTruthy();
  });

  it('400 with a pointer for a weak new password (short, long, common, like the email, unchanged)', async () => {
    const email = a.accounts.member.email;
    for (const newPassword of ['short', 'x'.repeat(129), '1qaz2wsx3edc', `${email}1`, PASSWORD]) {
      const p = expectProblem(await change(a, a.tokens.member, { currentPassword: PASSWORD, newPassword }), 400, 'validation_failed');
      expect(p.errors?.[0]).toMatchObject({ pointer: '/newPassword', in: 'body' });
    }
    expect(await login(h, a.slug, email)).toBeTruthy();
  });

  it('400 for a malformed body', async () => {
    const p = expectProblem(await change(a, a.tokens.member, { newPassword: NEW, other: 1 }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/currentPassword', '/other']);
  });

  it('401 without a token; 403 with a token of another tenant', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/auth/password', headers: { 'x-tenant': a.slug }, payload: { currentPassword: PASSWORD, newPassword: NEW } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/auth/password', headers: { authorization: `Bearer ${a.tokens.member}`, 'x-tenant': b.slug }, payload: { currentPassword: PASSWORD, newPassword: NEW } }), 403, 'tenant_mismatch');
  });

  it('403 for an account that is no longer a member', async () => {
    const t = await createTenant(h, 'pm');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'POST', url: '/v1/auth/password', payload: { currentPassword: PASSWORD, newPassword: NEW } }), 403, 'permission_denied');
  });
});

describe('rehash on login', () => {
  it('a hash made with older parameters is replaced by one with the current parameters at the next login', async () => {
    const t = await createTenant(h, 'pr');
    const id = t.accounts.viewer.id;
    const old = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 3, parallelism: 1 });
    await h.db.updateTable('accounts').set({ passwordHash: old }).where('id', '=', id).execute();
    expect(await login(h, t.slug, t.accounts.viewer.email)).toBeTruthy();
    const { passwordHash } = await h.db.selectFrom('accounts').select('passwordHash').where('id', '=', id).executeTakeFirstOrThrow();
    expect(passwordHash).not.toBe(old);
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await login(h, t.slug, t.accounts.viewer.email)).toBeTruthy();
  });
});
