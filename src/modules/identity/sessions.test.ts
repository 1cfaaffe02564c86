// Refresh tokens, sessions, logout, JWKS and key rotation, against the real
// database. Time is simulated by moving timestamps in the database, never by
// sleeping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { as, createTenant, expectProblem, PASSWORD, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let strict: Harness; // REFRESH_REUSE_GRACE_SECONDS=0
let a: TestTenant;
let b: TestTenant;
const logLines: string[] = [];

beforeAll(async () => {
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));
  h = await startApp({ config: { LOG_LEVEL: 'warn' }, logStream });
  strict = await startApp({ config: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
  [a, b] = await Promise.all([createTenant(h, 'sa'), createTenant(h, 'sb')]);
});
afterAll(async () => {
  await h?.close();
  await strict?.close();
});

interface Pair {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  expiresIn: number;
}

async function loginPair(t: TestTenant, role: 'owner' | 'member' | 'viewer' = 'member', headers: Record<string, string> = {}, app: Harness = h): Promise<Pair> {
  const res = await app.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug, ...headers }, payload: { email: t.accounts[role].email, password: PASSWORD } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const refresh = (token: string, headers: Record<string, string> = {}, app: Harness = h) =>
  app.app.inject({ method: 'POST', url: '/v1/auth/refresh', headers, payload: { refreshToken: token } });

const bearer = (t: TestTenant, accessToken: string) => ({ authorization: `Bearer ${accessToken}`, 'x-tenant': t.slug });

const sessionRow = (id: string) => h.db.selectFrom('sessions' as never).selectAll().where('id' as never, '=', id as never).executeTakeFirstOrThrow() as Promise<{ revokedAt: Date | null; revokedReason: string | null; userAgent: string | null; ip: string | null }>;
const tokensOf = async (sessionId: string) =>
  (await sql<{ tokenHash: Buffer; usedAt: Date | null; parentId: string | null }>`select token_hash, used_at, parent_id from refresh_tokens where session_id = ${sessionId} order by created_at`.execute(h.db)).rows;
/** Moves the last use of a token back in time (beyond the grace window). */
const ageUse = (sessionId: string) => sql`update refresh_tokens set used_at = used_at - interval '1 hour' where session_id = ${sessionId} and used_at is not null`.execute(h.db);

describe('login', () => {
  it('returns a refresh token (256 bits, stored only as a hash) with the access token', async () => {
    const pair = await loginPair(a, 'member', { 'user-agent': 'vitest-browser/1.0' });
    expect(pair.refreshToken).toMatch(/^prt_[A-Za-z0-9_-]{43}$/);
    expect(decodeJwt(pair.accessToken)).toMatchObject({ sub: a.accounts.member.id, tid: a.tenant.id, sid: pair.sessionId });
    const rows = await tokensOf(pair.sessionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash.equals(createHash('sha256').update(pair.refreshToken).digest())).toBe(true);
    const stored = JSON.stringify(await sql`select * from refresh_tokens r join sessions s on s.id = r.session_id where s.id = ${pair.sessionId}`.execute(h.db));
    expect(stored).not.toContain(pair.refreshToken.slice(4));
    expect(await sessionRow(pair.sessionId)).toMatchObject({ userAgent: 'vitest-browser/1.0', revokedAt: null });
  });
});

describe('POST /v1/auth/refresh', () => {
  it('trades a refresh token for a new pair that works; the old access token keeps its session id', async () => {
    const first = await loginPair(a);
    const res = await refresh(first.refreshToken);
    expect(res.statusCode, res.body).toBe(200);
    const next = res.json() as Pair;
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.sessionId).toBe(first.sessionId);
    expect(decodeJwt(next.accessToken)).toMatchObject({ sub: a.accounts.member.id, tid: a.tenant.id, sid: first.sessionId });
    expect((await h.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(a, next.accessToken) })).statusCode).toBe(200);
    expect((await refresh(next.refreshToken)).statusCode).toBe(200);
  });

  it('validates the body (400), refuses an unknown token (401)', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {} }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'x', extra: 1 } }), 400, 'validation_failed');
    expectProblem(await refresh('prt_' + 'A'.repeat(43)), 401, 'invalid_refresh_token');
    expectProblem(await refresh('garbage'), 401, 'invalid_refresh_token');
  });

  it("refuses a session of tenant A presented with X-Tenant: B (403), without burning the token's session", async () => {
    const pair = await loginPair(a);
    expectProblem(await refresh(pair.refreshToken, { 'x-tenant': b.slug }), 403, 'tenant_mismatch');
    expect((await sessionRow(pair.sessionId)).revokedAt).toBeNull();
  });

  it('refuses a member who has left the tenant (401)', async () => {
    const t = await createTenant(h, 'sl');
    const pair = await loginPair(t, 'viewer');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await refresh(pair.refreshToken), 401, 'invalid_refresh_token');
  });

  it('reuse after the grace window revokes the whole family (every descendant) and logs a security event', async () => {
    const p1 = await loginPair(a);
    const p2 = (await refresh(p1.refreshToken)).json() as Pair;
    const p3 = (await refresh(p2.refreshToken)).json() as Pair;
    await ageUse(p1.sessionId);
    expectProblem(await refresh(p1.refreshToken), 401, 'invalid_refresh_token');
    expect(await sessionRow(p1.sessionId)).toMatchObject({ revokedReason: 'refresh_token_reuse' });
    // The newest token of the family, never used, is dead too.
    expectProblem(await refresh(p3.refreshToken), 401, 'invalid_refresh_token');
    const event = logLines.map((l) => JSON.parse(l) as { securityEvent?: string; sessionId?: string }).find((l) => l.securityEvent === 'refresh_token_reuse' && l.sessionId === p1.sessionId);
    expect(event).toMatchObject({ accountId: a.accounts.member.id, tenantId: a.tenant.id });
  });

  it('within the grace window, a repeat gets the same successor back (lost response), and the family keeps one live token', async () => {
    const p1 = await loginPair(a);
    const p2 = (await refresh(p1.refreshToken)).json() as Pair;
    const again = await refresh(p1.refreshToken);
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as Pair).refreshToken).toBe(p2.refreshToken);
    expect(await tokensOf(p1.sessionId)).toHaveLength(2);
    expect((await refresh(p2.refreshToken)).statusCode).toBe(200);
    // Now that the successor is used, the first token is plain reuse, even inside the window.
    expectProblem(await refresh(p1.refreshToken), 401, 'invalid_refresh_token');
    expect(await sessionRow(p1.sessionId)).toMatchObject({ revokedReason: 'refresh_token_reuse' });
  });

  it('parallel refreshes of one token: exactly one successor is created; all callers get that one', async () => {
    const p1 = await loginPair(a);
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(p1.refreshToken)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    const successors = new Set(results.map((r) => (r.json() as Pair).refreshToken));
    expect(successors.size).toBe(1);
    const rows = await tokensOf(p1.sessionId);
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.usedAt === null)).toHaveLength(1);
  });

  it('parallel refreshes with no grace window: exactly one wins, the rest are reuse', async () => {
    const p1 = await loginPair(a, 'member', {}, strict);
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(p1.refreshToken, {}, strict)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(7);
    expect(await tokensOf(p1.sessionId)).toHaveLength(2);
  });

  it('an expired session is refused without being treated as reuse (idle timeout and absolute lifetime)', async () => {
    const idle = await loginPair(a);
    const idle2 = (await refresh(idle.refreshToken)).json() as Pair;
    await sql`update sessions set last_used_at = now() - make_interval(secs => ${h.config.SESSION_IDLE_TIMEOUT_SECONDS + 1}) where id = ${idle.sessionId}`.execute(h.db);
    await ageUse(idle.sessionId);
    // Unused token of an idle session, then an old used one: both "expired", neither revokes as reuse.
    expect(expectProblem(await refresh(idle2.refreshToken), 401, 'invalid_refresh_token').detail).toMatch(/expired/);
    expect(expectProblem(await refresh(idle.refreshToken), 401, 'invalid_refresh_token').detail).toMatch(/expired/);
    expect(await sessionRow(idle.sessionId)).toMatchObject({ revokedAt: null, revokedReason: null });

    const old = await loginPair(a);
    await sql`update sessions set expires_at = now() - interval '1 second' where id = ${old.sessionId}`.execute(h.db);
    expectProblem(await refresh(old.refreshToken), 401, 'invalid_refresh_token');
    expect(await sessionRow(old.sessionId)).toMatchObject({ revokedReason: null });
  });
});

describe('POST /v1/auth/logout and /logout-all', () => {
  it('logout ends the session of the access token: its refresh token stops working', async () => {
    const keep = await loginPair(a);
    const pair = await loginPair(a);
    const res = await h.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(a, pair.accessToken) });
    expect(res.statusCode, res.body).toBe(204);
    expect(await sessionRow(pair.sessionId)).toMatchObject({ revokedReason: 'logout' });
    expectProblem(await refresh(pair.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(keep.refreshToken)).statusCode).toBe(200);
  });

  it('logout-all ends every session of the account', async () => {
    const t = await createTenant(h, 'so');
    const s1 = await loginPair(t, 'viewer');
    const s2 = await loginPair(t, 'viewer');
    const other = await loginPair(t, 'member');
    const res = await h.app.inject({ method: 'POST', url: '/v1/auth/logout-all', headers: bearer(t, s1.accessToken) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ revoked: 3 }); // s1, s2 and createTenant's own login
    expectProblem(await refresh(s1.refreshToken), 401, 'invalid_refresh_token');
    expectProblem(await refresh(s2.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(other.refreshToken)).statusCode).toBe(200);
  });

  it('401 without a token; 403 for an account that is not a member; 403 for a token of another tenant', async () => {
    for (const url of ['/v1/auth/logout', '/v1/auth/logout-all']) {
      expectProblem(await h.app.inject({ method: 'POST', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      expectProblem(await h.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${a.tokens.owner}`, 'x-tenant': b.slug } }), 403, 'tenant_mismatch');
    }
    const t = await createTenant(h, 'sx');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.member.id).execute();
    expectProblem(await as(h, t, 'member')({ method: 'POST', url: '/v1/auth/logout' }), 403, 'permission_denied');
    expectProblem(await as(h, t, 'member')({ method: 'POST', url: '/v1/auth/logout-all' }), 403, 'permission_denied');
  });
});

describe('sessions API', () => {
  it('GET lists the live sessions in this tenant with device, IP and times, marking the current one', async () => {
    const t = await createTenant(h, 'ss');
    const s1 = await loginPair(t, 'viewer', { 'user-agent': 'phone/1' });
    const s2 = await loginPair(t, 'viewer', { 'user-agent': 'laptop/2' });
    const res = await h.app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: bearer(t, s2.accessToken) });
    expect(res.statusCode, res.body).toBe(200);
    const items = (res.json() as { items: Array<{ id: string; userAgent: string; ip: string; current: boolean; createdAt: string; lastUsedAt: string }> }).items;
    // createTenant's own login is a session too.
    expect(items.map((i) => i.id)).toEqual(expect.arrayContaining([s1.sessionId, s2.sessionId]));
    expect(items.find((i) => i.id === s2.sessionId)).toMatchObject({ userAgent: 'laptop/2', ip: '127.0.0.1', current: true });
    expect(items.find((i) => i.id === s1.sessionId)).toMatchObject({ userAgent: 'phone/1', current: false });
    expect(new Date(items[0]!.lastUsedAt).toISOString()).toBe(items[0]!.lastUsedAt);
  });

  it('DELETE ends one session; 400 for a bad id; 404 for a missing one or a session of another tenant or account', async () => {
    const s1 = await loginPair(a, 'viewer');
    const s2 = await loginPair(a, 'viewer');
    const mine = bearer(a, s2.accessToken);
    const res = await h.app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${s1.sessionId}`, headers: mine });
    expect(res.statusCode, res.body).toBe(204);
    expectProblem(await refresh(s1.refreshToken), 401, 'invalid_refresh_token');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${s1.sessionId}`, headers: mine }), 404, 'not_found');
    expectProblem(await h.app.inject({ method: 'DELETE', url: '/v1/auth/sessions/not-a-uuid', headers: mine }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${randomUUID()}`, headers: mine }), 404, 'not_found');
    const otherTenant = await loginPair(b, 'viewer');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${otherTenant.sessionId}`, headers: mine }), 404, 'not_found');
    const otherAccount = await loginPair(a, 'member');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${otherAccount.sessionId}`, headers: mine }), 404, 'not_found');
    expect((await refresh(otherAccount.refreshToken)).statusCode).toBe(200);
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${s2.sessionId}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
  });

  it('revoke-others keeps only the current session', async () => {
    const t = await createTenant(h, 'sr');
    const s1 = await loginPair(t, 'member');
    const s2 = await loginPair(t, 'member');
    const res = await h.app.inject({ method: 'POST', url: '/v1/auth/sessions/revoke-others', headers: bearer(t, s2.accessToken) });
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);
    expectProblem(await refresh(s1.refreshToken), 401, 'invalid_refresh_token');
    expect((await refresh(s2.refreshToken)).statusCode).toBe(200);
  });

  it('401 and 403 on the list', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: { authorization: `Bearer ${a.tokens.viewer}`, 'x-tenant': b.slug } }), 403, 'tenant_mismatch');
  });

  it('a disabled account cannot refresh, and its access tokens stop working', async () => {
    const t = await createTenant(h, 'sd');
    const pair = await loginPair(t, 'viewer');
    await h.db.updateTable('accounts').set({ status: 'disabled' }).where('id', '=', t.accounts.viewer.id).execute();
    expectProblem(await refresh(pair.refreshToken), 401, 'invalid_refresh_token');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(t, pair.accessToken) }), 403, 'permission_denied');
  });
});

describe('access tokens', () => {
  const me = (token: string, t: TestTenant = a) => h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}`, 'x-tenant': t.slug } });
  const currentKey = async () => {
    const row = (await sql<{ kid: string; privateJwk: JWK }>`select kid, private_jwk from signing_keys where retired_at is null order by created_at desc limit 1`.execute(h.db)).rows[0]!;
    return { kid: row.kid, key: await importJWK(row.privateJwk, 'EdDSA') };
  };
  const sign = (claims: Record<string, unknown>, kid: string, key: Parameters<SignJWT['sign']>[0], exp: string | number = '5m') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' }).setSubject(a.accounts.owner.id).setIssuer(h.config.JWT_ISSUER).setAudience('plinth-api').setIssuedAt().setExpirationTime(exp).sign(key);

  it('accepts a well-formed token signed with the current key (control)', async () => {
    const { kid, key } = await currentKey();
    expect((await me(await sign({ tid: a.tenant.id }, kid, key))).statusCode).toBe(200);
  });

  it('refuses tampered, alg:none, wrong-key and expired tokens (401)', async () => {
    const [head, body, sig] = a.tokens.owner.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: a.accounts.viewer.id })).toString('base64url')}.${sig}`;
    expectProblem(await me(tampered), 401, 'invalid_token');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: decodeProtectedHeader(a.tokens.owner).kid })).toString('base64url')}.${body}.`;
    expectProblem(await me(none), 401, 'invalid_token');
    const { kid, key } = await currentKey();
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    expectProblem(await me(await sign({ tid: a.tenant.id }, kid, other.privateKey)), 401, 'invalid_token');
    const expired = await sign({ tid: a.tenant.id }, kid, key, Math.floor(Date.now() / 1000) - 5);
    expect(expectProblem(await me(expired), 401, 'invalid_token').detail).toMatch(/expired/);
  });

  it('refuses a token for tenant A sent with X-Tenant: B (403)', async () => {
    expectProblem(await me(a.tokens.owner, b), 403, 'tenant_mismatch');
  });

  it('refuses a token signed by a key retired longer than a token lifetime ago', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = `old-${randomUUID()}`;
    await sql`insert into signing_keys (kid, alg, public_jwk, private_jwk, retired_at) values (${kid}, 'EdDSA', ${JSON.stringify(await exportJWK(publicKey))}, '{}', now() - interval '2 hours')`.execute(h.db);
    expect(expectProblem(await me(await sign({ tid: a.tenant.id }, kid, privateKey)), 401, 'invalid_token').detail).toMatch(/retired/);
    const jwks = (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(kid);
  });
});

describe('GET /.well-known/jwks.json and key rotation', () => {
  it('publishes the current public key, without private parts', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    const { keys } = res.json() as { keys: Array<Record<string, string>> };
    expect(keys.map((k) => k.kid)).toContain(decodeProtectedHeader(a.tokens.owner).kid);
    for (const k of keys) {
      expect(k).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(k.d).toBeUndefined();
    }
  });

  it('after rotation new tokens carry the new kid; tokens of the old key still verify; both keys are published', async () => {
    const oldToken = (await loginPair(a)).accessToken;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const newKid = await h.app.platform.tokens.rotate();
    expect(newKid).not.toBe(oldKid);
    const fresh = await loginPair(a);
    expect(decodeProtectedHeader(fresh.accessToken).kid).toBe(newKid);
    expect((await h.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(a, oldToken) })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(a, fresh.accessToken) })).statusCode).toBe(200);
    const kids = ((await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
  });
});
