// Email: outbox + job in the business transaction, delivered by the worker to
// a real SMTP server (smtp-server) and parsed (mailparser); tenant branding
// and template overrides; .eml files without SMTP; branding/template routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { simpleParser, type ParsedMail } from 'mailparser';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { startSmtpSink, until } from '../../../test/mailbox.ts';

let received: ParsedMail[] = [];
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let smtpPort: number;
let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  smtp = await startSmtpSink({
    onRcptTo(address, _session, callback) {
      // A mailbox that makes the server refuse: the job must retry.
      if (address.address.startsWith('refuse@')) return callback(new Error('550 mailbox unavailable'));
      callback();
    },
  });
  received = smtp.received;
  smtpPort = smtp.port;
  h = await startApp({ config: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, JOBS_IN_API: 'true', JOBS_TASKS: 'email.*', JOBS_POLL_INTERVAL_MS: '200', EMAIL_FROM: 'mail@plinth.test' } });
  [a, b] = await Promise.all([createTenant(h, 'ea'), createTenant(h, 'eb')]);
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const mailTo = (address: string) => until(() => received.find((m) => m.to && !Array.isArray(m.to) && m.to.value[0]?.address === address));
const outbox = async (t: TestTenant) =>
  (await sql<{ id: string; status: string; attempts: number; lastError: string | null; data: unknown }>`select id, status, attempts, last_error, data from ${sql.id(t.tenant.schemaName, 'email_outbox')}`.execute(h.db)).rows;

const send = (t: TestTenant, to: string, name = 'Ada') =>
  h.db.transaction().execute((trx) => h.app.platform.mail.sendTemplate(trx, { tenant: t.tenant }, { template: 'identity.verify-email', to, data: { name, link: 'https://app.example/verify?token=abc&x=1' } }));

describe('sending', () => {
  it('delivers a committed message with the tenant branding, HTML and text parts', async () => {
    const put = await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'Acme Rockets', logoUrl: null, primaryColor: '#ff5500', footer: 'Acme Rockets, 1 Launch Rd' } });
    expect(put.statusCode, put.body).toBe(200);
    const { id } = await send(a, 'ada@rockets.example', 'Ada <b>');
    const mail = await mailTo('ada@rockets.example');
    expect(mail.subject).toBe('Confirm your email address for Acme Rockets');
    expect(mail.from?.value[0]).toEqual({ name: 'Acme Rockets', address: 'mail@plinth.test' });
    expect(mail.html).toContain('#ff5500');
    expect(mail.html).toContain('Acme Rockets, 1 Launch Rd');
    expect(mail.html).toContain('Hello Ada &lt;b&gt;'); // HTML escapes data
    expect(mail.html).toContain('href="https://app.example/verify?token&#x3D;abc&amp;x&#x3D;1"');
    expect(mail.text).toContain('Hello Ada <b>,'); // text does not
    expect(mail.text).toContain('https://app.example/verify?token=abc&x=1');
    expect(mail.text).toContain('--\nAcme Rockets');
    const row = await until(async () => (await outbox(a)).find((r) => r.id === id && r.status === 'sent'));
    expect(row.data).toBeNull(); // links with tokens do not stay in the outbox
  });

  it("uses the tenant's template override, and only for that tenant", async () => {
    const put = await as(h, a, 'admin')({
      method: 'PUT',
      url: '/v1/email/templates/identity.verify-email',
      payload: { subject: 'Welcome aboard, {{name}}', html: '<p>Rocket mail for {{name}}: <a href="{{link}}">go</a></p>', text: 'Rocket mail for {{name}}: {{link}}' },
    });
    expect(put.statusCode, put.body).toBe(200);
    await send(a, 'bob@rockets.example', 'Bob');
    await send(b, 'bob@other.example', 'Bob');
    const mine = await mailTo('bob@rockets.example');
    expect(mine.subject).toBe('Welcome aboard, Bob');
    expect(mine.text).toContain('Rocket mail for Bob: https://app.example/verify?token=abc&x=1');
    const theirs = await mailTo('bob@other.example');
    expect(theirs.subject).toBe(`Confirm your email address for ${b.tenant.displayName}`);
    expect(theirs.html).toContain('#2563eb');
  });

  it('a rolled-back transaction writes no outbox row, no job and sends nothing', async () => {
    const before = (await outbox(a)).length;
    await expect(
      h.db.transaction().execute(async (trx) => {
        await h.app.platform.mail.sendTemplate(trx, { tenant: a.tenant }, { template: 'identity.verify-email', to: 'ghost@rockets.example', data: { name: 'G', link: 'https://x.example' } });
        throw new Error('signup failed');
      }),
    ).rejects.toThrow('signup failed');
    expect((await outbox(a)).length).toBe(before);
    const jobs = await sql<{ c: number }>`select count(*)::int as c from graphile_worker._private_jobs where payload->>'tenantId' = ${a.tenant.id} and locked_at is null and attempts = 0`.execute(h.db);
    expect(jobs.rows[0]!.c).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(received.some((m) => m.subject && m.text?.includes('ghost'))).toBe(false);
  });

  it('a refused message stays queued with its error and is retried by the job', async () => {
    const { id } = await send(a, 'refuse@rockets.example');
    const row = await until(async () => (await outbox(a)).find((r) => r.id === id && r.attempts === 1));
    expect(row.status).toBe('queued');
    expect(row.lastError).toMatch(/550|mailbox/);
    const job = await sql<{ attempts: number; lastError: string }>`select attempts, last_error from graphile_worker._private_jobs where key = ${`email:${id}`}`.execute(h.db);
    expect(job.rows[0]).toMatchObject({ attempts: 1 });
  });
});

describe('GET/PUT /v1/email/branding', () => {
  it('returns defaults, then what was set; null restores a default', async () => {
    const t = await createTenant(h, 'eg');
    const res = await as(h, t, 'admin')({ method: 'GET', url: '/v1/email/branding' });
    expect(res.json()).toEqual({ name: t.tenant.displayName, logoUrl: null, primaryColor: '#2563eb', footer: `You receive this email as a member of ${t.tenant.displayName}.` });
    const put = await as(h, t, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'N', logoUrl: 'https://cdn.example/logo.png', primaryColor: '#123456', footer: null } });
    expect(put.json()).toMatchObject({ name: 'N', logoUrl: 'https://cdn.example/logo.png', primaryColor: '#123456', footer: 'You receive this email as a member of N.' });
  });

  it('400 for a colour that is not hex, a non-https logo or a missing field', async () => {
    const p = expectProblem(await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'x', logoUrl: 'http://x.example/l.png', primaryColor: 'red;}', footer: null, extra: 1 } }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/extra', '/logoUrl', '/primaryColor']);
    expectProblem(await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'x' } }), 400, 'validation_failed');
  });

  it('401 without a token; 403 for a member', async () => {
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/email/branding', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await h.app.inject({ method: 'PUT', url: '/v1/email/branding', headers: { 'x-tenant': a.slug }, payload: {} }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/email/branding' }), 403, 'permission_denied');
    expectProblem(await as(h, a, 'member')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'x', logoUrl: null, primaryColor: null, footer: null } }), 403, 'permission_denied');
  });

  it("another tenant's branding is never read or changed", async () => {
    const t = await createTenant(h, 'eo');
    await as(h, t, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'Other', logoUrl: null, primaryColor: '#000000', footer: null } });
    expect((await as(h, a, 'admin')({ method: 'GET', url: '/v1/email/branding' })).json()).toMatchObject({ name: 'Acme Rockets', primaryColor: '#ff5500' });
  });
});

describe('email templates', () => {
  const url = '/v1/email/templates/identity.password-reset';
  const body = { subject: 'Reset {{brand.name}}', html: '<p>{{link}}</p>', text: '{{link}}' };

  it('GET shows the built-in, PUT overrides, DELETE restores', async () => {
    const t = await createTenant(h, 'et');
    expect((await as(h, t, 'admin')({ method: 'GET', url })).json()).toMatchObject({ name: 'identity.password-reset', overridden: false });
    expect((await as(h, t, 'admin')({ method: 'PUT', url, payload: body })).json()).toEqual({ name: 'identity.password-reset', overridden: true, ...body });
    expect((await as(h, t, 'admin')({ method: 'GET', url })).json()).toMatchObject({ overridden: true, subject: body.subject });
    expect((await as(h, t, 'admin')({ method: 'DELETE', url })).statusCode).toBe(204);
    expect((await as(h, t, 'admin')({ method: 'GET', url })).json()).toMatchObject({ overridden: false });
    expectProblem(await as(h, t, 'admin')({ method: 'DELETE', url }), 404, 'not_found');
  });

  it('400 for a template that does not parse, a bad name or a missing part; 404 for an unknown template', async () => {
    const p = expectProblem(await as(h, a, 'admin')({ method: 'PUT', url, payload: { ...body, html: '<p>{{#if x}}</p>' } }), 400, 'validation_failed');
    expect(p.errors?.[0]?.pointer).toBe('/html');
    expectProblem(await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/templates/NOPE', payload: body }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'PUT', url, payload: { subject: 'x' } }), 400, 'validation_failed');
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/email/templates/identity.nope' }), 404, 'not_found');
    expectProblem(await as(h, a, 'admin')({ method: 'PUT', url: '/v1/email/templates/identity.nope', payload: body }), 404, 'not_found');
  });

  it('401 and 403', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      expectProblem(await h.app.inject({ method, url, headers: { 'x-tenant': a.slug }, ...(method === 'PUT' ? { payload: body } : {}) }), 401, 'unauthenticated');
      expectProblem(await as(h, a, 'viewer')({ method, url, ...(method === 'PUT' ? { payload: body } : {}) }), 403, 'permission_denied');
    }
  });

  it("another tenant's override is a 404 and stays", async () => {
    const x = await createTenant(h, 'ex');
    const y = await createTenant(h, 'ey');
    await as(h, x, 'admin')({ method: 'PUT', url, payload: body });
    expectProblem(await as(h, y, 'admin')({ method: 'DELETE', url }), 404, 'not_found');
    expect((await as(h, y, 'admin')({ method: 'GET', url })).json()).toMatchObject({ overridden: false });
    expect((await as(h, x, 'admin')({ method: 'GET', url })).json()).toMatchObject({ overridden: true });
  });
});

describe('without SMTP', () => {
  it('writes an .eml file under the data folder and logs its path', async () => {
    await h.close(); // its worker would take this job and send it over SMTP
    const dir = await mkdtemp(join(tmpdir(), 'plinth-mail-'));
    const logs = new PassThrough();
    const lines: string[] = [];
    logs.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    h = await startApp({ config: { PLINTH_DATA_DIR: dir, JOBS_IN_API: 'true', JOBS_TASKS: 'email.*', JOBS_POLL_INTERVAL_MS: '200', LOG_LEVEL: 'info' }, logStream: logs });
    const { id } = await send(a, 'file@rockets.example');
    const path = join(dir, 'mail', `${id}.eml`);
    const line = await until(() => lines.find((l) => l.includes(path)));
    expect(JSON.parse(line)).toMatchObject({ outboxId: id, file: path });
    const mail = await simpleParser(await readFile(path));
    expect(mail.subject).toBe('Welcome aboard, Ada'); // tenant a's override still applies
    expect(mail.to && !Array.isArray(mail.to) && mail.to.text).toBe('file@rockets.example');
  });
});
