// "Every mutating request and every security event writes an audit row in
// the same transaction." One list, `ROUTES`, names every non-GET route of the
// identity, platform-service and platform-admin modules with the request that
// exercises it and the audit action it must write, or (rarely) why it writes
// none. The first test compares the list with the routes the app actually
// serves (from its OpenAPI document), so a new route without an entry fails;
// the others run each entry and find its row by the request's id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import S3rver from '@20minutes/s3rver';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { as, createTenant, PASSWORD, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { startMailApp, tokenIn, until, type Mailbox } from '../../../test/mailbox.ts';
import { ensureMember } from '../../modules/identity/service.ts';
import { issueEmailToken } from '../../modules/identity/email-tokens.ts';
import { createPlatformAdmin } from '../../modules/platform-admin/admins.ts';
import { fileUpload } from '../../modules/files/test-support.ts';

/** Routes whose audit coverage belongs to other work (CRM modules; roles and members; integrations). */
const OTHER_AREAS = ['/v1/contacts', '/v1/companies', '/v1/deals', '/v1/pipelines', '/v1/activities', '/v1/custom-fields', '/v1/views', '/v1/merges', '/v1/imports', '/v1/reports', '/v1/roles', '/v1/members', '/v1/integrations', '/v1/hubspot'];

interface Env {
  h: Harness;
  t: TestTenant;
  mailbox: Mailbox;
  platformToken: string;
}
interface Outcome {
  res: LightMyRequestResponse;
  /** The trail the row goes to, when not the test tenant's. */
  schema?: string;
  /** The row is read from this export file (the tenant itself is gone). */
  exportFile?: string;
}
type Case = { module: string; action: string; run: (e: Env) => Promise<Outcome> } | { module: string; exempt: string };

const NEW_PASSWORD = 'another long passphrase';
const code = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret) }).generate();
const inject = (e: Env, opts: InjectOptions) => e.h.app.inject(opts);
const bearer = (e: Env, token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, 'x-tenant': e.t.slug, ...extra });

/** A new member of the test tenant, logged in (so a case may end its sessions or change its password). */
async function member(e: Env, role: 'member' | 'admin' = 'member') {
  const email = `m-${randomBytes(4).toString('hex')}@${e.t.slug}.example`;
  const account = await ensureMember(e.h.db, { tenantId: e.t.tenant.id, email, displayName: 'M', password: PASSWORD, role });
  const login = (await inject(e, { method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': e.t.slug }, payload: { email, password: PASSWORD } })).json() as { accessToken: string; refreshToken: string; sessionId: string };
  return { id: account.id, email, token: login.accessToken, sessionId: login.sessionId };
}
/** A member with TOTP on; the code's time step is then released for the case's own code. */
async function withMfa(e: Env) {
  const m = await member(e);
  const { secret } = (await inject(e, { method: 'POST', url: '/v1/auth/mfa/totp', headers: bearer(e, m.token) })).json() as { secret: string };
  await inject(e, { method: 'POST', url: '/v1/auth/mfa/totp/confirm', headers: bearer(e, m.token), payload: { code: code(secret) } });
  await sql`update mfa_totp set last_used_step = last_used_step - 5 where account_id = ${m.id}`.execute(e.h.db);
  return { ...m, secret };
}
/** A job of the tenant in the failure list (audit.purge: no worker of this app runs it). */
async function failedJob(e: Env) {
  const { id } = await e.h.app.platform.jobs.enqueue(e.h.db, e.t.tenant.id, 'audit.purge', {});
  await sql`update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'boom' where id = ${id}::bigint`.execute(e.h.db);
  return id;
}
const webhook = async (e: Env) =>
  (await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: ['webhooks.ping'] } })).json() as { id: string };
const platform = (e: Env, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  inject(e, { method, url, headers: { authorization: `Bearer ${e.platformToken}` }, ...(payload ? { payload } : {}) });
const schemaOf = async (e: Env, slug: string) => (await e.h.db.selectFrom('tenants').select('schemaName').where('slug', '=', slug).executeTakeFirstOrThrow()).schemaName;

const ROUTES: Record<string, Case> = {
  // identity: sign-in
  'POST /v1/auth/login': { module: 'identity', action: 'auth.login.succeeded', run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': e.t.slug }, payload: { email: e.t.accounts.viewer.email, password: PASSWORD } }) }) },
  'POST /v1/auth/refresh': {
    module: 'identity',
    exempt: 'Token rotation inside a session: the login that started the session is audited, and reuse of a refresh token (the security event) is audited as auth.refresh_token.reused.',
  },
  'POST /v1/auth/mfa/verify': {
    module: 'identity',
    action: 'auth.login.succeeded',
    run: async (e) => {
      const m = await withMfa(e);
      const challenge = (await inject(e, { method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': e.t.slug }, payload: { email: m.email, password: PASSWORD } })).json() as { mfaToken: string };
      return { res: await inject(e, { method: 'POST', url: '/v1/auth/mfa/verify', payload: { mfaToken: challenge.mfaToken, code: code(m.secret) } }) };
    },
  },
  'POST /v1/auth/logout': { module: 'identity', action: 'auth.logout', run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/logout', headers: bearer(e, (await member(e)).token) }) }) },
  'POST /v1/auth/logout-all': { module: 'identity', action: 'auth.logout_all', run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/logout-all', headers: bearer(e, (await member(e)).token) }) }) },
  'DELETE /v1/auth/sessions/{id}': {
    module: 'identity',
    action: 'auth.session.revoked',
    run: async (e) => {
      const m = await member(e);
      const other = (await inject(e, { method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': e.t.slug }, payload: { email: m.email, password: PASSWORD } })).json() as { sessionId: string };
      return { res: await inject(e, { method: 'DELETE', url: `/v1/auth/sessions/${other.sessionId}`, headers: bearer(e, m.token) }) };
    },
  },
  'POST /v1/auth/sessions/revoke-others': { module: 'identity', action: 'auth.session.revoked_others', run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/sessions/revoke-others', headers: bearer(e, (await member(e)).token) }) }) },
  'POST /v1/auth/password': {
    module: 'identity',
    action: 'auth.password.changed',
    run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/password', headers: bearer(e, (await member(e)).token), payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } }) }),
  },
  'POST /v1/auth/mfa/totp': { module: 'identity', action: 'auth.mfa.enrollment_started', run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/mfa/totp', headers: bearer(e, (await member(e)).token) }) }) },
  'POST /v1/auth/mfa/totp/confirm': {
    module: 'identity',
    action: 'auth.mfa.enabled',
    run: async (e) => {
      const m = await member(e);
      const { secret } = (await inject(e, { method: 'POST', url: '/v1/auth/mfa/totp', headers: bearer(e, m.token) })).json() as { secret: string };
      return { res: await inject(e, { method: 'POST', url: '/v1/auth/mfa/totp/confirm', headers: bearer(e, m.token), payload: { code: code(secret) } }) };
    },
  },
  'POST /v1/auth/mfa/recovery-codes': {
    module: 'identity',
    action: 'auth.mfa.recovery_codes_regenerated',
    run: async (e) => {
      const m = await withMfa(e);
      return { res: await inject(e, { method: 'POST', url: '/v1/auth/mfa/recovery-codes', headers: bearer(e, m.token), payload: { code: code(m.secret) } }) };
    },
  },
  'POST /v1/auth/mfa/disable': {
    module: 'identity',
    action: 'auth.mfa.disabled',
    run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/mfa/disable', headers: bearer(e, (await withMfa(e)).token), payload: { password: PASSWORD } }) }),
  },
  'PUT /v1/auth/policy': { module: 'identity', action: 'auth.policy.updated', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'PUT', url: '/v1/auth/policy', payload: { mfaRequiredRoles: [] } }) }) },
  // identity: API keys
  'POST /v1/api-keys': { module: 'identity', action: 'auth.api_key.created', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/api-keys', payload: { name: 'k', permissions: ['crm.contacts.read'] } }) }) },
  'DELETE /v1/api-keys/{id}': {
    module: 'identity',
    action: 'auth.api_key.revoked',
    run: async (e) => {
      const { id } = (await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/api-keys', payload: { name: 'k', permissions: ['crm.contacts.read'] } })).json() as { id: string };
      return { res: await as(e.h, e.t, 'admin')({ method: 'DELETE', url: `/v1/api-keys/${id}` }) };
    },
  },
  // identity: email flows
  'POST /v1/auth/email/verify-request': { module: 'identity', action: 'auth.email.verification_requested', run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/email/verify-request', headers: bearer(e, (await member(e)).token) }) }) },
  'POST /v1/auth/email/verify': {
    module: 'identity',
    action: 'auth.email.verified',
    run: async (e) => {
      const m = await member(e);
      const token = await issueEmailToken(e.h.db, { purpose: 'verify_email', accountId: m.id, tenantId: e.t.tenant.id, email: m.email, ttlSeconds: 600 });
      return { res: await inject(e, { method: 'POST', url: '/v1/auth/email/verify', payload: { token } }) };
    },
  },
  'POST /v1/auth/password/forgot': {
    module: 'identity',
    action: 'auth.password_reset.requested',
    run: async (e) => ({ res: await inject(e, { method: 'POST', url: '/v1/auth/password/forgot', headers: { 'x-tenant': e.t.slug }, payload: { email: (await member(e)).email } }) }),
  },
  'POST /v1/auth/password/reset': {
    module: 'identity',
    action: 'auth.password.reset',
    run: async (e) => {
      const m = await member(e);
      const token = await issueEmailToken(e.h.db, { purpose: 'password_reset', accountId: m.id, tenantId: e.t.tenant.id, email: m.email, ttlSeconds: 600 });
      return { res: await inject(e, { method: 'POST', url: '/v1/auth/password/reset', payload: { token, newPassword: NEW_PASSWORD } }) };
    },
  },
  // identity: invitations
  'POST /v1/invitations': { module: 'identity', action: 'identity.invitation.created', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/invitations', payload: { email: `i-${randomBytes(4).toString('hex')}@people.example`, role: 'member' } }) }) },
  'DELETE /v1/invitations/{id}': {
    module: 'identity',
    action: 'identity.invitation.revoked',
    run: async (e) => {
      const { id } = (await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/invitations', payload: { email: `i-${randomBytes(4).toString('hex')}@people.example`, role: 'viewer' } })).json() as { id: string };
      return { res: await as(e.h, e.t, 'admin')({ method: 'DELETE', url: `/v1/invitations/${id}` }) };
    },
  },
  'POST /v1/invitations/accept': {
    module: 'identity',
    action: 'identity.invitation.accepted',
    run: async (e) => {
      const email = `i-${randomBytes(4).toString('hex')}@people.example`;
      await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/invitations', payload: { email, role: 'member' } });
      const token = tokenIn(await e.mailbox.mailTo(email));
      return { res: await inject(e, { method: 'POST', url: '/v1/invitations/accept', payload: { token, password: NEW_PASSWORD } }) };
    },
  },
  // files
  'POST /v1/files': { module: 'files', action: 'files.file.uploaded', run: async (e) => ({ res: await as(e.h, e.t, 'member')({ method: 'POST', url: '/v1/files', ...fileUpload('a.txt', 'hello') }) }) },
  'DELETE /v1/files/{id}': {
    module: 'files',
    action: 'files.file.deleted',
    run: async (e) => {
      const { id } = (await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/files', ...fileUpload('b.txt', 'bye') })).json() as { id: string };
      return { res: await as(e.h, e.t, 'admin')({ method: 'DELETE', url: `/v1/files/${id}` }) };
    },
  },
  'POST /v1/files/uploads': { module: 'files', action: 'files.upload.granted', run: async (e) => ({ res: await as(e.h, e.t, 'member')({ method: 'POST', url: '/v1/files/uploads', payload: { name: 'c.txt', contentType: 'text/plain', size: 5 } }) }) },
  'POST /v1/files/{id}/complete': {
    module: 'files',
    action: 'files.file.uploaded',
    run: async (e) => {
      const grant = (await as(e.h, e.t, 'member')({ method: 'POST', url: '/v1/files/uploads', payload: { name: 'd.txt', contentType: 'text/plain', size: 5 } })).json() as { file: { id: string }; upload: { url: string; headers: Record<string, string> } };
      const put = await fetch(grant.upload.url, { method: 'PUT', headers: grant.upload.headers, body: 'hello' });
      expect(put.status).toBe(200);
      return { res: await as(e.h, e.t, 'member')({ method: 'POST', url: `/v1/files/${grant.file.id}/complete` }) };
    },
  },
  // notifications
  'POST /v1/notifications': { module: 'notifications', action: 'notifications.notification.sent', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/notifications', payload: { accountId: e.t.accounts.member.id, kind: 'crm.mention', title: 'Hi' } }) }) },
  'POST /v1/notifications/{id}/read': { module: 'notifications', exempt: "A member's own inbox state: no tenant data or access changes; not a compliance event." },
  'POST /v1/notifications/read-all': { module: 'notifications', exempt: "A member's own inbox state: no tenant data or access changes; not a compliance event." },
  'PUT /v1/notifications/preferences/{kind}': { module: 'notifications', exempt: "A member's own delivery preferences (in-app, email) for their inbox: personal, not a compliance event." },
  // webhooks
  'POST /v1/webhooks': { module: 'webhooks', action: 'webhooks.endpoint.created', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: ['webhooks.ping'] } }) }) },
  'PATCH /v1/webhooks/{id}': { module: 'webhooks', action: 'webhooks.endpoint.updated', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'PATCH', url: `/v1/webhooks/${(await webhook(e)).id}`, payload: { url: 'http://127.0.0.1:9/other' } }) }) },
  'DELETE /v1/webhooks/{id}': { module: 'webhooks', action: 'webhooks.endpoint.deleted', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'DELETE', url: `/v1/webhooks/${(await webhook(e)).id}` }) }) },
  'POST /v1/webhooks/{id}/enable': { module: 'webhooks', action: 'webhooks.endpoint.enabled', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: `/v1/webhooks/${(await webhook(e)).id}/enable` }) }) },
  'POST /v1/webhooks/{id}/ping': { module: 'webhooks', action: 'webhooks.endpoint.pinged', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: `/v1/webhooks/${(await webhook(e)).id}/ping` }) }) },
  'POST /v1/webhooks/{id}/rotate-secret': { module: 'webhooks', action: 'webhooks.endpoint.secret_rotated', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: `/v1/webhooks/${(await webhook(e)).id}/rotate-secret` }) }) },
  // jobs
  'POST /v1/jobs/failed/{id}/retry': { module: 'jobs', action: 'jobs.job.retried', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'POST', url: `/v1/jobs/failed/${await failedJob(e)}/retry` }) }) },
  'DELETE /v1/jobs/failed/{id}': { module: 'jobs', action: 'jobs.job.discarded', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'DELETE', url: `/v1/jobs/failed/${await failedJob(e)}` }) }) },
  // email
  'PUT /v1/email/branding': { module: 'email', action: 'email.branding.updated', run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'PUT', url: '/v1/email/branding', payload: { name: 'Audited', logoUrl: null, primaryColor: '#123456', footer: null } }) }) },
  'PUT /v1/email/templates/{name}': {
    module: 'email',
    action: 'email.template.overridden',
    run: async (e) => ({ res: await as(e.h, e.t, 'admin')({ method: 'PUT', url: '/v1/email/templates/identity.verify-email', payload: { subject: 'S {{name}}', html: '<p>{{link}}</p>', text: '{{link}}' } }) }),
  },
  'DELETE /v1/email/templates/{name}': {
    module: 'email',
    action: 'email.template.override_removed',
    run: async (e) => {
      await as(e.h, e.t, 'admin')({ method: 'PUT', url: '/v1/email/templates/identity.invitation', payload: { subject: 'S', html: '<p>{{link}}</p>', text: '{{link}}' } });
      return { res: await as(e.h, e.t, 'admin')({ method: 'DELETE', url: '/v1/email/templates/identity.invitation' }) };
    },
  },
  // platform admin: rows go to the trail of the tenant operated on
  'POST /v1/platform/login': { module: 'platform-admin', exempt: 'Platform admins belong to no tenant, so there is no tenant trail to write to; their operations on a tenant are audited in that tenant.' },
  'POST /v1/platform/tenants': {
    module: 'platform-admin',
    action: 'platform.tenant.created',
    run: async (e) => {
      const slug = `pc-${randomBytes(4).toString('hex')}`;
      const res = await platform(e, 'POST', '/v1/platform/tenants', { slug, displayName: 'Created', ownerEmail: `owner@${slug}.example` });
      return { res, schema: await schemaOf(e, slug) };
    },
  },
  'POST /v1/platform/tenants/{slug}/suspend': {
    module: 'platform-admin',
    action: 'platform.tenant.suspended',
    run: async (e) => {
      const t = await createTenant(e.h, 'ps');
      return { res: await platform(e, 'POST', `/v1/platform/tenants/${t.slug}/suspend`), schema: t.tenant.schemaName };
    },
  },
  'POST /v1/platform/tenants/{slug}/resume': {
    module: 'platform-admin',
    action: 'platform.tenant.resumed',
    run: async (e) => {
      const t = await createTenant(e.h, 'pr');
      await platform(e, 'POST', `/v1/platform/tenants/${t.slug}/suspend`);
      return { res: await platform(e, 'POST', `/v1/platform/tenants/${t.slug}/resume`), schema: t.tenant.schemaName };
    },
  },
  'PATCH /v1/platform/tenants/{slug}': {
    module: 'platform-admin',
    action: 'platform.tenant.renamed',
    run: async (e) => {
      const t = await createTenant(e.h, 'pn');
      return { res: await platform(e, 'PATCH', `/v1/platform/tenants/${t.slug}`, { displayName: 'Renamed' }), schema: t.tenant.schemaName };
    },
  },
  'DELETE /v1/platform/tenants/{slug}': {
    module: 'platform-admin',
    action: 'platform.tenant.deleted',
    run: async (e) => {
      const t = await createTenant(e.h, 'pd');
      const res = await platform(e, 'DELETE', `/v1/platform/tenants/${t.slug}`);
      return { res, exportFile: (res.json() as { exportFile: string }).exportFile };
    },
  },
};

let env: Env;
let close: () => Promise<void>;
let s3: { run(): Promise<{ port: number }>; close(): Promise<void> };

beforeAll(async () => {
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: await mkdtemp(join(tmpdir(), 'plinth-s3-')), configureBuckets: [{ name: 'audit-test' }] }) as unknown as typeof s3;
  const { port } = await s3.run();
  const started = await startMailApp({
    JOBS_TASKS: 'email.*,identity.*',
    WEBHOOKS_ALLOW_PRIVATE: 'true',
    PLINTH_DATA_DIR: await mkdtemp(join(tmpdir(), 'plinth-audit-')),
    FILES_DRIVER: 's3',
    S3_BUCKET: 'audit-test',
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    TENANT_SPARE_POOL_SIZE: '0',
  });
  close = started.close;
  const t = await createTenant(started.h, 'cv');
  const admin = `admin-${randomBytes(4).toString('hex')}@platform.example`;
  await createPlatformAdmin(started.h.db, { email: admin, password: PASSWORD });
  const platformToken = (await started.h.app.inject({ method: 'POST', url: '/v1/platform/login', payload: { email: admin, password: PASSWORD } })).json().accessToken as string;
  env = { h: started.h, t, mailbox: started.mailbox, platformToken };
});
afterAll(async () => {
  await close?.();
  await s3?.close();
});

it('lists every non-GET route of these modules: a new route needs an audit action or a stated exemption', async () => {
  const doc = (await env.h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
  const served = Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).filter((m) => ['post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
    .filter((key) => !OTHER_AREAS.some((prefix) => key.split(' ')[1]!.startsWith(prefix)));
  expect(served.length).toBeGreaterThan(40);
  expect(Object.keys(ROUTES).sort()).toEqual(served.sort());
});

const byModule = Map.groupBy(Object.entries(ROUTES), ([, c]) => c.module);
for (const [module, entries] of byModule) {
  describe(`${module}: each mutation writes its audit row, tied to its request`, () => {
    for (const [route, c] of entries) {
      if ('exempt' in c) continue;
      it(route, async () => {
        const { res, schema, exportFile } = await c.run(env);
        expect(res.statusCode, res.body).toBeLessThan(300);
        const requestId = res.headers['x-request-id'] as string;
        if (exportFile) {
          const exported = JSON.parse(await readFile(exportFile, 'utf8')) as { tables: { audit_log: Array<{ action: string; request_id: string }> } };
          expect(exported.tables.audit_log).toContainEqual(expect.objectContaining({ action: c.action, request_id: requestId }));
          return;
        }
        const table = sql.id(schema ?? env.t.tenant.schemaName, 'audit_log');
        // Jobs started by the request (the reset mail) write with the request's id too.
        const rows = await until(async () => {
          const found = (await sql<{ action: string }>`select action from ${table} where request_id = ${requestId}`.execute(env.h.db)).rows;
          return found.some((r) => r.action === c.action) ? found : undefined;
        }, 5000).catch(async () => (await sql<{ action: string }>`select action from ${table} where request_id = ${requestId}`.execute(env.h.db)).rows);
        expect(rows.map((r) => r.action)).toContain(c.action);
      });
    }
  });
}

it('every exemption says why', () => {
  for (const [route, c] of Object.entries(ROUTES)) if ('exempt' in c) expect(c.exempt.length, route).toBeGreaterThan(40);
});
