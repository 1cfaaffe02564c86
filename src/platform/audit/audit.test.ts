// The audit trail: rows written in the transaction of each change, hash
// chained per tenant, insert-only, listed with filters, verified.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, PASSWORD, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { scopeToTenant } from '../context.ts';
import { ROLES } from '../permissions.ts';
import { purgeAudit } from './retention.ts';
import { appendAudit } from './writer.ts';

/** createTenant logs in one account per system role: the first rows of every new tenant's chain. */
const LOGINS = ROLES.length;
/** The seq of the first row after those logins. */
const FIRST = LOGINS + 1;

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, 'aa'), createTenant(h, 'ab')]);
});
afterAll(() => h?.close());

interface Entry {
  seq: number;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changes: Record<string, { before: unknown; after: unknown }> | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  occurredAt: string;
  hash: string;
}

const list = async (t: TestTenant, query = '', role: 'owner' | 'admin' = 'owner') => {
  const res = await as(h, t, role)({ method: 'GET', url: `/v1/audit${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { data: Entry[]; nextCursor: string | null };
};
const verify = async (t: TestTenant) => {
  const res = await as(h, t)({ method: 'GET', url: '/v1/audit/verify' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { ok: boolean; checked: number; firstBrokenSeq?: number; reason?: string };
};
/** As a superuser bypassing triggers: what an attacker with database access could do. */
const tamper = (t: TestTenant, statement: (table: ReturnType<typeof sql.id>) => ReturnType<typeof sql>) =>
  h.db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await statement(sql.id(t.tenant.schemaName, 'audit_log')).execute(trx);
  });

describe('contacts write audit rows with diffs, in their transaction', () => {
  it('create, update, delete and restore each leave one row with actor, client, request id and changed fields', async () => {
    const created = await as(h, a, 'admin')({ method: 'POST', url: '/v1/contacts', headers: { 'user-agent': 'audit-test/1' }, payload: { firstName: 'Ada', email: 'ada@audit.example' } });
    expect(created.statusCode, created.body).toBe(201);
    const id = (created.json() as { id: string }).id;
    const patched = await as(h, a, 'admin')({ method: 'PATCH', url: `/v1/contacts/${id}`, payload: { lastName: 'Lovelace', firstName: 'Ada' } });
    expect(patched.statusCode).toBe(200);
    expect((await as(h, a, 'admin')({ method: 'DELETE', url: `/v1/contacts/${id}` })).statusCode).toBe(204);
    expect((await as(h, a, 'admin')({ method: 'POST', url: `/v1/contacts/${id}/restore` })).statusCode).toBe(200);

    const { data } = await list(a, `?targetType=contact&targetId=${id}`);
    expect(data.map((e) => e.action)).toEqual(['crm.contact.restored', 'crm.contact.deleted', 'crm.contact.updated', 'crm.contact.created']);
    const [restored, deleted, updated, createdRow] = data as [Entry, Entry, Entry, Entry];
    expect(createdRow).toMatchObject({ actorId: a.accounts.admin.id, ip: '127.0.0.1', userAgent: 'audit-test/1', requestId: created.headers['x-request-id'] });
    expect(createdRow.changes).toMatchObject({ firstName: { before: null, after: 'Ada' }, email: { before: null, after: 'ada@audit.example' } });
    // Only what changed: the unchanged first name is not in the diff.
    expect(updated.changes).toEqual({ lastName: { before: null, after: 'Lovelace' } });
    expect(Object.keys(deleted.changes!)).toEqual(['deletedAt']);
    expect(restored.changes!.deletedAt!.after).toBeNull();
  });

  it('a change that fails leaves no audit row (409 duplicate email)', async () => {
    await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'One', email: 'dup@audit.example' } });
    const before = (await list(a, '?action=crm.contact.created&limit=200')).data.length;
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Two', email: 'dup@audit.example' } }), 409, 'contact_email_taken');
    expect((await list(a, '?action=crm.contact.created&limit=200')).data.length).toBe(before);
  });
});

describe('security events', () => {
  it('failed and successful logins and refresh-token reuse are audited', async () => {
    const t = await createTenant(h, 'as');
    await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug }, payload: { email: 'Nobody@Nowhere.example', password: 'guess guess guess' } });
    const login = await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug }, payload: { email: t.accounts.member.email, password: PASSWORD } });
    const pair = login.json() as { refreshToken: string; sessionId: string };
    await h.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
    await sql`update refresh_tokens set used_at = used_at - interval '1 hour' where session_id = ${pair.sessionId} and used_at is not null`.execute(h.db);
    await h.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });

    const { data } = await list(t, '?action=auth.*&limit=200');
    const failed = data.find((e) => e.action === 'auth.login.failed');
    expect(failed).toMatchObject({ actorId: null, changes: { email: { after: 'nobody@nowhere.example' } } });
    expect(data.find((e) => e.action === 'auth.login.succeeded' && e.targetId === pair.sessionId)).toMatchObject({ actorId: t.accounts.member.id });
    expect(data.find((e) => e.action === 'auth.refresh_token.reused')).toMatchObject({ targetType: 'session', targetId: pair.sessionId });
    expect((await verify(t)).ok).toBe(true);
  });
});

describe('GET /v1/audit', () => {
  it('filters by actor, action prefix, target and time range, newest first, with a cursor', async () => {
    const t = await createTenant(h, 'af');
    for (const name of ['A', 'B', 'C']) await as(h, t, 'member')({ method: 'POST', url: '/v1/contacts', payload: { firstName: name } });
    await as(h, t, 'owner')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'D' } });
    const byMember = await list(t, `?actorId=${t.accounts.member.id}&action=crm.contact.created`);
    expect(byMember.data.map((e) => e.changes!.firstName!.after)).toEqual(['C', 'B', 'A']);
    expect((await list(t, '?action=crm.*')).data).toHaveLength(4);
    expect((await list(t, '?action=auth.login.succeeded')).data).toHaveLength(LOGINS); // createTenant's logins
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await list(t, `?from=${encodeURIComponent(future)}`)).data).toHaveLength(0);
    expect((await list(t, `?to=${encodeURIComponent(future)}&action=crm.*`)).data).toHaveLength(4);

    const page1 = await list(t, '?limit=3');
    expect(page1.data).toHaveLength(3);
    const page2 = await list(t, `?limit=3&cursor=${page1.nextCursor}`);
    const seqs = [...page1.data, ...page2.data].map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('400 for bad filters, 401 without a token, 403 for a member, and never another tenant’s rows', async () => {
    for (const q of ['?limit=0', '?cursor=abc', '?actorId=nope', '?from=yesterday', '?unknown=1', `?from=${encodeURIComponent(new Date().toISOString())}&to=${encodeURIComponent(new Date(0).toISOString())}`]) {
      expectProblem(await as(h, a)({ method: 'GET', url: `/v1/audit${q}` }), 400, 'validation_failed');
    }
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/audit', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/audit' }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/audit/verify' }), 403, 'permission_denied');
    const cb = await as(h, b)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'OnlyInB' } });
    const bId = (cb.json() as { id: string }).id;
    expect((await list(a, `?targetId=${bId}`)).data).toEqual([]);
    expect((await list(b, `?targetId=${bId}`)).data).toHaveLength(1);
    expect((await list(a, `?actorId=${b.accounts.owner.id}`)).data).toEqual([]);
  });
});

describe('tamper evidence', () => {
  it('the application cannot update, delete or truncate audit rows', async () => {
    const table = sql.id(a.tenant.schemaName, 'audit_log');
    await expect(sql`update ${table} set action = 'x' where seq = 1`.execute(h.db)).rejects.toThrow(/insert-only/);
    await expect(sql`delete from ${table} where seq = 1`.execute(h.db)).rejects.toThrow(/insert-only/);
    await expect(sql`truncate ${table}`.execute(h.db)).rejects.toThrow(/insert-only/);
  });

  it('concurrent writers keep one unbroken chain', async () => {
    const t = await createTenant(h, 'ac');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName: `P${i}` } })));
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    expect(await verify(t)).toEqual({ ok: true, checked: LOGINS + 12 }); // logins + 12 creations
  });

  it('the hash PostgreSQL computes on append is the one verification recomputes, whatever the text', async () => {
    const t = await createTenant(h, 'au');
    const source = { actorId: null, requestId: 'req "quoted"', ip: '::1', userAgent: 'ü'.repeat(600) };
    const tricky = { quote: '"seq":1,"x":"', emoji: '💡 café', tab: 'a\tb\\n', nested: { b: [1, { z: null, a: 2.5 }], a: true }, big: 1e21 };
    const rows = [];
    for (const details of [tricky, {}, { x: null }]) rows.push(await appendAudit(h.db, t.tenant.schemaName, source, { action: 'test.tricky', details }));
    expect(rows.map((r) => r.seq)).toEqual([FIRST, FIRST + 1, FIRST + 2]);
    expect(rows[0]!.occurredAt.getTime()).toBeLessThanOrEqual(rows[2]!.occurredAt.getTime());
    expect(await verify(t)).toEqual({ ok: true, checked: LOGINS + 3 });
  });

  it('verify reports the first broken link: an edited row, a deleted row, a removed tail', async () => {
    const edited = await createTenant(h, 'ae');
    for (const n of ['x', 'y']) await as(h, edited)({ method: 'POST', url: '/v1/contacts', payload: { firstName: n } });
    expect((await verify(edited)).ok).toBe(true);
    await tamper(edited, (table) => sql`update ${table} set changes = jsonb_set(changes, '{firstName,after}', '"z"') where seq = ${FIRST}`);
    expect(await verify(edited)).toMatchObject({ ok: false, firstBrokenSeq: FIRST, reason: expect.stringMatching(/hash/) });

    const gap = await createTenant(h, 'ag');
    for (const n of ['x', 'y']) await as(h, gap)({ method: 'POST', url: '/v1/contacts', payload: { firstName: n } });
    await tamper(gap, (table) => sql`delete from ${table} where seq = 3`);
    expect(await verify(gap)).toMatchObject({ ok: false, firstBrokenSeq: 3, reason: expect.stringMatching(/missing/) });

    const tail = await createTenant(h, 'at');
    await as(h, tail)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'x' } });
    await tamper(tail, (table) => sql`delete from ${table} where seq = ${FIRST}`);
    expect(await verify(tail)).toMatchObject({ ok: false, firstBrokenSeq: FIRST });

    // Rewriting a row and its own hash is caught at the next row.
    const rehashed = await createTenant(h, 'ar');
    for (const n of ['x', 'y']) await as(h, rehashed)({ method: 'POST', url: '/v1/contacts', payload: { firstName: n } });
    await tamper(rehashed, (table) => sql`update ${table} set action = 'crm.contact.nothing', hash = sha256(hash) where seq = ${FIRST}`);
    expect(await verify(rehashed)).toMatchObject({ ok: false, firstBrokenSeq: FIRST });
  });

  it('verify: 401 without a token', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expect(randomUUID()).toBeTruthy();
  });
});

describe('GET /v1/audit/export.csv', () => {
  it('exports the filtered trail as CSV, newest first, defusing formula cells', async () => {
    const t = await createTenant(h, 'ax');
    await as(h, t)({ method: 'POST', url: '/v1/contacts', headers: { 'user-agent': '=HYPERLINK("http://evil")' }, payload: { firstName: 'Csv, "quoted"' } });
    const res = await as(h, t)({ method: 'GET', url: '/v1/audit/export.csv?action=crm.*' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain(`audit-${t.slug}.csv`);
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('seq,occurredAt,actorId,action,targetType,targetId,changes,ip,userAgent,requestId,hash');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('crm.contact.created');
    expect(lines[1]).toContain(`'=HYPERLINK(""http://evil"")`);
    expect(lines[1]).toContain('Csv, \\""quoted\\""');
    const all = await as(h, t)({ method: 'GET', url: '/v1/audit/export.csv' });
    expect(all.body.trim().split('\n')).toHaveLength(1 + LOGINS + 1); // logins + 1 creation
  });

  it('400 for bad filters, 401, 403 for a member', async () => {
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/audit/export.csv?from=yesterday' }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/audit/export.csv?from=${encodeURIComponent(new Date().toISOString())}&to=${encodeURIComponent(new Date(0).toISOString())}` }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'GET', url: '/v1/audit/export.csv?limit=5' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/audit/export.csv', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/audit/export.csv' }), 403, 'permission_denied');
  });
});

describe('retention', () => {
  it('purges rows past the retention period, re-anchors the chain (verify still ok) and audits the purge', async () => {
    const t = await createTenant(h, 'ap');
    for (const n of ['x', 'y']) await as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName: n } });
    // Age the login rows and the first creation: 40 days old.
    await tamper(t, (table) => sql`update ${table} set occurred_at = occurred_at - interval '40 days' where seq <= ${FIRST}`);
    const db = scopeToTenant(h.db, t.tenant.schemaName);
    expect(await purgeAudit(db, 30)).toBe(FIRST);
    const left = (await list(t, '?limit=200')).data.map((e) => e.seq);
    expect(left).toEqual([FIRST + 2, FIRST + 1]);
    expect((await list(t, '?action=audit.purged')).data[0]!.changes).toMatchObject({ throughSeq: { after: FIRST }, rows: { after: FIRST } });
    expect(await verify(t)).toEqual({ ok: true, checked: 2 });
    expect(await purgeAudit(db, 30)).toBe(0);
    // Outside the purge, deleting is still refused.
    await expect(sql`delete from ${sql.id(t.tenant.schemaName, 'audit_log')} where seq = ${FIRST + 1}`.execute(h.db)).rejects.toThrow(/insert-only/);
    expect(h.app.platform.jobs.tasks.get('audit.purge')).toMatchObject({ scope: 'tenant', daily: true });
  });
});
