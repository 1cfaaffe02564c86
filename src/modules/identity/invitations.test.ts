// Invitations: the mail as it arrives at a real SMTP server, accepting with
// its token (new account, or an existing one proving it is its own), the
// role ceiling, revocation, expiry, and the per-route set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, PASSWORD, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { startMailApp, tokenIn, type Mailbox } from '../../../test/mailbox.ts';

let h: Harness;
let mailbox: Mailbox;
let close: () => Promise<void>;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  ({ h, mailbox, close } = await startMailApp({ JOBS_TASKS: 'email.*' }));
  [a, b] = await Promise.all([createTenant(h, 'ia'), createTenant(h, 'ib')]);
  await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'Invite Co', logoUrl: null, primaryColor: '#117722', footer: null } });
});
afterAll(() => close?.());

let n = 0;
const fresh = () => `new${++n}-${Date.now()}@people.example`;
const invite = (t: TestTenant, email: string, role = 'member', by: 'owner' | 'admin' | 'member' = 'admin') => as(h, t, by)({ method: 'POST', url: '/v1/invitations', payload: { email, role } });
const accept = (payload: object, headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url: '/v1/invitations/accept', payload, headers });
const login = (t: TestTenant, email: string, password = PASSWORD) => h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug }, payload: { email, password } });
const auditOf = async (t: TestTenant, action: string) =>
  (await sql<{ actorId: string | null; targetId: string | null; changes: Record<string, { before: unknown; after: unknown }> | null }>`select actor_id, target_id, changes from ${sql.id(t.tenant.schemaName, 'audit_log')} where action = ${action} order by seq`.execute(h.db)).rows;

describe('POST /v1/invitations and accepting', () => {
  it('mails a branded invitation; accepting creates the account, verified, with the role', async () => {
    const email = fresh();
    const res = await invite(a, email, 'member');
    expect(res.statusCode, res.body).toBe(201);
    const inv = res.json();
    expect(inv).toMatchObject({ email, role: 'member', status: 'pending', invitedBy: a.accounts.admin.id, acceptedAt: null });
    expect(inv).not.toHaveProperty('token');
    const mail = await mailbox.mailTo(email);
    expect(mail.subject).toBe(`admin of ${a.slug} invited you to ${a.tenant.displayName}`);
    expect(mail.from?.value[0]?.name).toBe('Invite Co');
    expect(mail.html).toContain('#117722');
    expect(mail.text).toContain('as member');
    const token = tokenIn(mail);
    expect(mail.text).toContain(`https://app.plinth.test/accept-invitation?token=${token}`);

    expectProblem(await accept({ token }), 400, 'validation_failed'); // a new account needs a password
    expectProblem(await accept({ token, password: 'password1234' }), 400, 'validation_failed');
    const ok = await accept({ token, password: 'a long enough passphrase', displayName: 'New Person' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ accountCreated: true, role: 'member', tenant: { slug: a.slug } });
    expectProblem(await accept({ token, password: 'a long enough passphrase' }), 400, 'invalid_email_token');

    const session = await login(a, email, 'a long enough passphrase');
    expect(session.statusCode).toBe(200);
    const me = await h.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${session.json().accessToken}`, 'x-tenant': a.slug } });
    expect(me.json()).toMatchObject({ role: 'member', account: { displayName: 'New Person', emailVerifiedAt: expect.any(String) } });

    const list = await as(h, a, 'admin')({ method: 'GET', url: '/v1/invitations?status=accepted' });
    expect(list.json().items.find((i: { id: string }) => i.id === inv.id)).toMatchObject({ status: 'accepted', acceptedBy: ok.json().accountId });
    expect(await auditOf(a, 'identity.invitation.created')).toContainEqual(expect.objectContaining({ actorId: a.accounts.admin.id, targetId: inv.id }));
    const [accepted] = (await auditOf(a, 'identity.invitation.accepted')).filter((r) => r.targetId === inv.id);
    expect(accepted).toMatchObject({ actorId: ok.json().accountId, changes: expect.objectContaining({ accountCreated: { before: null, after: true } }) });
  });

  it('an existing account must prove it is its own: its password or its access token', async () => {
    const other = b.accounts.viewer; // exists, member of b only
    await invite(a, other.email, 'viewer');
    const token = tokenIn(await mailbox.mailTo(other.email));
    expectProblem(await accept({ token }), 401, 'unauthenticated');
    expectProblem(await accept({ token, password: 'not the password' }), 401, 'invalid_credentials');
    expectProblem(await accept({ token }, { authorization: `Bearer ${b.tokens.member}` }), 403, 'permission_denied');
    expectProblem(await accept({ token }, { authorization: 'Bearer not-a-jwt' }), 401, 'invalid_token');
    const ok = await accept({ token }, { authorization: `Bearer ${b.tokens.viewer}` });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ accountId: other.id, accountCreated: false, role: 'viewer' });
    expect((await login(a, other.email)).statusCode).toBe(200);

    const second = b.accounts.member;
    await invite(a, second.email, 'member');
    const t2 = tokenIn(await mailbox.mailTo(second.email));
    expect((await accept({ token: t2, password: PASSWORD })).json()).toMatchObject({ accountId: second.id, accountCreated: false });
  });

  it('two acceptances of one token at once: exactly one wins', async () => {
    const email = fresh();
    await invite(a, email);
    const token = tokenIn(await mailbox.mailTo(email));
    const results = await Promise.all([1, 2].map(() => accept({ token, password: 'a long enough passphrase' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    const accounts = await sql<{ n: number }>`select count(*)::int as n from accounts where lower(email) = ${email.toLowerCase()}`.execute(h.db);
    expect(accounts.rows[0]!.n).toBe(1);
  });

  it('a new invitation replaces the open one; an expired one is refused', async () => {
    const email = fresh();
    const first = (await invite(a, email)).json();
    const t1 = tokenIn(await mailbox.mailTo(email));
    await invite(a, email, 'viewer');
    const t2 = tokenIn(await mailbox.mailTo(email, (m) => tokenIn(m) !== t1));
    expectProblem(await accept({ token: t1, password: 'a long enough passphrase' }), 400, 'invalid_email_token');
    const list = (await as(h, a, 'admin')({ method: 'GET', url: '/v1/invitations' })).json().items as Array<{ id: string; status: string }>;
    expect(list.find((i) => i.id === first.id)?.status).toBe('revoked');
    await sql`update invitations set expires_at = now() - interval '1 second' where token_hash = sha256(${t2}::bytea)`.execute(h.db);
    expectProblem(await accept({ token: t2, password: 'a long enough passphrase' }), 400, 'invalid_email_token');
    expect((await as(h, a, 'admin')({ method: 'GET', url: '/v1/invitations?status=expired' })).json().items.map((i: { email: string }) => i.email)).toContain(email);
  });

  it('nobody invites above their own role; members lack the permission', async () => {
    expectProblem(await invite(a, fresh(), 'owner', 'admin'), 403, 'permission_denied');
    expect((await invite(a, fresh(), 'admin', 'admin')).statusCode).toBe(201);
    expect((await invite(a, fresh(), 'owner', 'owner')).statusCode).toBe(201);
    expectProblem(await invite(a, fresh(), 'viewer', 'member'), 403, 'permission_denied');
  });

  it('400 for a bad address or an unknown role; 401 without a token; 409 for a member', async () => {
    expectProblem(await invite(a, 'not-an-email'), 400, 'validation_failed');
    const role = expectProblem(await invite(a, fresh(), 'superuser'), 400, 'validation_failed');
    expect(role.errors?.[0]?.pointer).toBe('/role');
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/invitations', payload: { email: fresh() } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/invitations', headers: { 'x-tenant': a.slug }, payload: { email: fresh(), role: 'member' } }), 401, 'unauthenticated');
    expectProblem(await invite(a, a.accounts.viewer.email.toUpperCase()), 409, 'already_member');
    expectProblem(await accept({ token: 'bad' }), 400, 'validation_failed');
    expectProblem(await accept({ token: 'pin_neverissuedneverissued', password: 'x' }), 400, 'invalid_email_token');
  });
});

describe('GET /v1/invitations', () => {
  it("lists this tenant's invitations newest first with a cursor, never another tenant's", async () => {
    const t = await createTenant(h, 'il');
    for (let i = 0; i < 3; i++) await invite(t, fresh());
    await invite(b, fresh());
    const page1 = (await as(h, t, 'admin')({ method: 'GET', url: '/v1/invitations?limit=2' })).json();
    expect(page1.items).toHaveLength(2);
    const page2 = (await as(h, t, 'admin')({ method: 'GET', url: `/v1/invitations?limit=2&cursor=${page1.nextCursor}` })).json();
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const ids = [...page1.items, ...page2.items].map((i: { id: string }) => i.id);
    expect(ids).toEqual([...ids].sort().reverse());
  });

  it('400, 401, 403', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/invitations?status=maybe' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/invitations', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/invitations' }), 403, 'permission_denied');
  });
});

describe('DELETE /v1/invitations/:id', () => {
  it('revokes: the link stops working, the revocation is audited', async () => {
    const email = fresh();
    const inv = (await invite(a, email)).json();
    const token = tokenIn(await mailbox.mailTo(email));
    const del = await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/invitations/${inv.id}` });
    expect(del.statusCode).toBe(204);
    expectProblem(await accept({ token, password: 'a long enough passphrase' }), 400, 'invalid_email_token');
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/invitations/${inv.id}` }), 404, 'not_found');
    expect(await auditOf(a, 'identity.invitation.revoked')).toContainEqual(expect.objectContaining({ targetId: inv.id, actorId: a.accounts.admin.id }));
  });

  it("another tenant's invitation is a 404 and stays open; 400, 401, 403", async () => {
    const inv = (await invite(b, fresh())).json();
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/invitations/${inv.id}` }), 404, 'not_found');
    expect((await as(h, b, 'admin')({ method: 'GET', url: '/v1/invitations?status=pending' })).json().items.map((i: { id: string }) => i.id)).toContain(inv.id);
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/invitations/nope' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/invitations/${inv.id}`, headers: { 'x-tenant': b.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, b, 'member')({ method: 'DELETE', url: `/v1/invitations/${inv.id}` }), 403, 'permission_denied');
  });
});
