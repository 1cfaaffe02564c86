// Test harness: the real app (buildApp) on the run's real database, tenants
// provisioned through the platform function, logins through the API.
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { inject } from 'vitest';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, platformFor, type App } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createDatabase, type Db } from '../src/platform/db/database.ts';
import type { Role, Tenant } from '../src/platform/db/public-tables.ts';
import { ROLES } from '../src/platform/permissions.ts';
import { provisionTenant } from '../src/platform/tenancy/provisioning.ts';
import { ensureMember } from '../src/modules/identity/service.ts';
import { modules as defaultModules } from '../src/modules/index.ts';
import type { PlinthModule } from '../src/platform/module.ts';

export const PASSWORD = 'correct horse battery staple';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    LOG_LEVEL: 'silent',
    DEMO_SEED: 'false',
    TENANT_CACHE_TTL_MS: '0',
    DB_POOL_MAX: '4',
    // Tests that need a worker start one (see src/platform/jobs/jobs.test.ts): a worker in every
    // test app would run other files' jobs with this file's settings.
    JOBS_IN_API: 'false',
    // Every test request comes from 127.0.0.1; the per-IP auth limit has its own test.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    // Likewise for the request budgets (src/platform/http/rate-limits.test.ts tests them).
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '1000000',
    RATE_LIMIT_API_KEY_PER_MINUTE: '1000000',
    RATE_LIMIT_TENANT_PER_MINUTE: '1000000',
    ...overrides,
  });
}

export interface Harness {
  app: App;
  db: Db;
  config: Config;
  close(): Promise<void>;
}

export async function startApp(opts: { config?: Record<string, string>; modules?: readonly PlinthModule[]; logStream?: NodeJS.WritableStream } = {}): Promise<Harness> {
  const config = testConfig(opts.config);
  const { db, pool } = createDatabase({ url: config.DATABASE_URL!, poolMax: config.DB_POOL_MAX, statementTimeoutMs: 10_000 });
  const app = await buildApp({ config, db, pool, modules: opts.modules, logStream: opts.logStream });
  await app.ready();
  return {
    app,
    db,
    config,
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

/** A log stream for startApp's `logStream` and the pino lines written to it, parsed. */
export function captureLogs(): { stream: PassThrough; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)));
  return { stream, lines };
}

export const uniqueSlug = (prefix = 't') => `${prefix}-${randomBytes(5).toString('hex')}`;

export interface TestTenant {
  tenant: Tenant;
  slug: string;
  /** Access tokens by role, from real logins. */
  tokens: Record<Role, string>;
  accounts: Record<Role, { id: string; email: string }>;
}

/** A tenant with one account per system role (owner, admin, manager, member, viewer), each logged in through the API. */
export async function createTenant(h: Harness, prefix = 't'): Promise<TestTenant> {
  const slug = uniqueSlug(prefix);
  const { migrations } = platformFor(h.config, h.db, defaultModules);
  const accounts = {} as TestTenant['accounts'];
  const tenant = await provisionTenant(h.db, migrations, { slug, displayName: `Tenant ${slug}` }, async (trx, t) => {
    for (const role of ROLES) {
      const email = `${role}@${slug}.example`;
      const account = await ensureMember(trx, { tenantId: t.id, email, displayName: `${role} of ${slug}`, password: PASSWORD, role });
      accounts[role] = { id: account.id, email };
    }
  });
  const tokens = {} as TestTenant['tokens'];
  for (const role of ROLES) tokens[role] = await login(h, slug, accounts[role].email);
  return { tenant, slug, tokens, accounts };
}

export async function login(h: Harness, slug: string, email: string, password = PASSWORD): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': slug }, payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { accessToken: string }).accessToken;
}

/** An inject call as a tenant member: token and X-Tenant set. */
export function as(h: Harness, t: TestTenant, role: Role = 'owner') {
  return (opts: InjectOptions): Promise<LightMyRequestResponse> =>
    h.app.inject({ ...opts, headers: { authorization: `Bearer ${t.tokens[role]}`, 'x-tenant': t.slug, ...(opts.headers ?? {}) } });
}

export function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  const body = res.json() as { code?: string; status?: number; requestId?: string; type?: string; title?: string };
  const ok = res.statusCode === status && body.code === code && body.status === status && typeof body.requestId === 'string' && res.headers['content-type']?.toString().startsWith('application/problem+json');
  if (!ok) throw new Error(`expected ${status} ${code} problem, got ${res.statusCode} ${res.headers['content-type']} ${res.body}`);
  return body as { code: string; status: number; requestId: string; detail?: string; errors?: Array<{ pointer: string; in?: string; detail: string }> };
}
