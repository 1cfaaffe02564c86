import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../src/cli/program.ts';
import { expectProblem, startApp, uniqueSlug, type Harness } from '../helpers.ts';
import { plinth } from './cli.ts';

let h: Harness;
beforeAll(async () => {
  h = await startApp();
});
afterAll(async () => {
  await h?.close();
});

const commandPaths = (cmd: Command, prefix: string[] = []): string[][] =>
  cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);

describe('plinth CLI', () => {
  it('answers --help on every command with exit 0', async () => {
    // The binary itself, once at the top and once deep down (a process per command took ~45 s on two cores).
    for (const args of [['--help'], ['tenants', 'create', '--help']]) {
      const run = await plinth(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/^Usage: plinth/);
    }
    // Every command's help in process, through the same program and its exit override.
    const paths = commandPaths(buildProgram());
    expect(paths.length).toBeGreaterThan(10);
    for (const path of [[], ...paths]) {
      const program = buildProgram();
      let out = '';
      const capture = (cmd: Command) => {
        cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
        cmd.commands.forEach(capture);
      };
      capture(program);
      const error = await program.parseAsync([...path, '--help'], { from: 'user' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, path.join(' ')).toBeInstanceOf(CommanderError);
      expect((error as CommanderError).exitCode, path.join(' ')).toBe(0);
      expect(out, path.join(' ')).toMatch(new RegExp(`^Usage: plinth ${path.join(' ')}`.trimEnd()));
    }
  });

  it('exits 2 on an unknown command or a missing option', async () => {
    const unknown = await plinth(['tenants', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const missing = await plinth(['tenants', 'create', uniqueSlug()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--name');
  });

  it('creates, lists, shows, suspends, resumes, renames, exports and deletes a tenant', { timeout: 120_000 }, async () => {
    const slug = uniqueSlug('cli');
    const created = await plinth(['tenants', 'create', slug, '--name', 'CLI Co', '--owner-email', `owner@${slug}.example`, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { tenant, owner } = created.json();
    expect(tenant).toMatchObject({ slug, displayName: 'CLI Co', status: 'active' });
    expect(owner.password).toMatch(/^[\w-]{20}$/);

    // The printed password logs in through the API.
    const login = await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': slug }, payload: { email: `owner@${slug}.example`, password: owner.password } });
    expect(login.statusCode).toBe(200);

    const taken = await plinth(['tenants', 'create', slug, '--name', 'Again', '--owner-email', `x@${slug}.example`, '--json']);
    expect(taken.code).toBe(1);
    expect(JSON.parse(taken.stderr).error.code).toBe('tenant_slug_taken');

    const list = await plinth(['tenants', 'list', '--json', '--limit', '1000']);
    const listed = list.json().tenants.find((t: { slug: string }) => t.slug === slug);
    expect(listed).toMatchObject({ status: 'active', schemaVersion: h.app.platform.migrations.latest });
    expect(listed.sizeBytes).toBeGreaterThan(0);

    const shown = (await plinth(['tenants', 'show', slug, '--json'])).json();
    expect(shown).toMatchObject({ slug, members: 1 });
    expect(shown.tables).toBeGreaterThan(1);

    expect((await plinth(['tenants', 'suspend', slug])).code).toBe(0);
    const refused = await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': slug }, payload: { email: `owner@${slug}.example`, password: owner.password } });
    expect(refused.statusCode).toBe(403);
    expect((await plinth(['tenants', 'resume', slug])).code).toBe(0);

    const renamed = slug.replace('cli-', 'ren-');
    const rename = await plinth(['tenants', 'rename', slug, '--slug', renamed, '--name', 'Renamed Co', '--json']);
    expect(rename.code, rename.stderr).toBe(0);
    expect(rename.json()).toMatchObject({ slug: renamed, displayName: 'Renamed Co', schemaName: tenant.schemaName });
    expect((await plinth(['tenants', 'show', slug])).code).toBe(1);

    const badSlug = await plinth(['tenants', 'rename', renamed, '--slug', 'Not A Slug']);
    expect(badSlug.code).toBe(2);

    const refusedDelete = await plinth(['tenants', 'delete', renamed]);
    expect(refusedDelete.code).toBe(2);
    expect(refusedDelete.stderr).toContain('--yes');

    const out = join(mkdtempSync(join(tmpdir(), 'plinth-export-')), 'export.json');
    const deleted = await plinth(['tenants', 'delete', renamed, '--yes', '--out', out, '--json']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.json().droppedTables).toBe(shown.tables);
    expect(existsSync(out)).toBe(true);
    const exported = JSON.parse(readFileSync(out, 'utf8'));
    expect(exported.tenant.slug).toBe(renamed);
    expect(exported.members).toHaveLength(1);
    expect(Object.keys(exported.tables).length).toBe(shown.tables - 1);

    const schemas = await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = ${tenant.schemaName}`.execute(h.db);
    expect(schemas.rows[0]!.n).toBe(0);
    expect(await h.db.selectFrom('tenants').select('id').where('id', '=', tenant.id).executeTakeFirst()).toBeUndefined();
  });

  it('reports errors as JSON with --json and a non-zero exit', async () => {
    const run = await plinth(['tenants', 'show', 'no-such-tenant-here', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'tenant_not_found', message: 'No tenant "no-such-tenant-here"' } });
  });

  it('creates a platform admin and lists permissions', async () => {
    const email = `${uniqueSlug('admin')}@platform.example`;
    const run = await plinth(['users', 'create-admin', email, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ email, created: true });
    expect(run.json().password).toMatch(/^[\w-]{20}$/);
    const again = await plinth(['users', 'create-admin', email, '--json']);
    expect(again.json()).toMatchObject({ created: false, password: null });

    const perms = await plinth(['permissions', 'list', '--json']);
    expect(perms.json()).toContainEqual(expect.objectContaining({ key: 'crm.contacts.read', roles: ['owner', 'admin', 'manager', 'member', 'viewer'] }));
  });
});

// With a long cache TTL, only the CLI's invalidations (Redis or NOTIFY, the
// same bus as the app's) can make a running API see its changes in time.
describe('plinth tenants: a running API with a 10-minute cache sees the changes at once', () => {
  let cached: Harness;
  beforeAll(async () => {
    cached = await startApp({ config: { TENANT_CACHE_TTL_MS: '600000', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) } });
  });
  afterAll(() => cached?.close());

  /** The status of the first answer that is not `from` (the invalidation arrives asynchronously), or `from` after 5 s. */
  const changed = async (request: () => Promise<{ statusCode: number }>, from: number) => {
    for (const deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 25))) {
      const { statusCode } = await request();
      if (statusCode !== from || Date.now() > deadline) return statusCode;
    }
  };

  it('create, suspend, resume, rename, delete', { timeout: 120_000 }, async () => {
    const slug = uniqueSlug('cached');
    const email = `owner@${slug}.example`;
    const login = (tenant: string) => cached.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': tenant }, payload: { email, password: 'cached-tenant-pw' } });
    expectProblem(await login(slug), 404, 'tenant_not_found'); // now cached as "no such tenant"
    expect((await plinth(['tenants', 'create', slug, '--name', 'Cached', '--owner-email', email, '--owner-password', 'cached-tenant-pw'])).code).toBe(0);
    expect(await changed(() => login(slug), 404)).toBe(200);

    const token = (await login(slug)).json<{ accessToken: string }>().accessToken;
    const list = (tenant: string) => cached.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${token}`, 'x-tenant': tenant } });
    expect((await list(slug)).statusCode).toBe(200);
    expect((await plinth(['tenants', 'suspend', slug])).code).toBe(0);
    expect(await changed(() => list(slug), 200)).toBe(403);
    expectProblem(await list(slug), 403, 'tenant_suspended');
    expect((await plinth(['tenants', 'resume', slug])).code).toBe(0);
    expect(await changed(() => list(slug), 403)).toBe(200);

    const renamed = slug.replace('cached-', 'moved-');
    expect((await plinth(['tenants', 'rename', slug, '--slug', renamed])).code).toBe(0);
    expect(await changed(() => list(slug), 200)).toBe(404);
    expect((await list(renamed)).statusCode).toBe(200);

    expect((await plinth(['tenants', 'delete', renamed, '--yes', '--no-export'])).code).toBe(0);
    expect(await changed(() => list(renamed), 200)).toBe(404);
  });

  it('a cached tenant row older than the schema is read again, not refused until the cache expires', async () => {
    const slug = uniqueSlug('stale');
    const email = `owner@${slug}.example`;
    expect((await plinth(['tenants', 'create', slug, '--name', 'Stale', '--owner-email', email, '--owner-password', 'stale-tenant-pw'])).code).toBe(0);
    const login = () => cached.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': slug }, payload: { email, password: 'stale-tenant-pw' } });
    expect((await login()).statusCode).toBe(200);
    const latest = cached.app.platform.migrations.latest;
    // Behind the code, and this instance learns it (as at a deploy that runs before `plinth migrate up`).
    await cached.db.updateTable('tenants').set({ schemaVersion: 'behind' }).where('slug', '=', slug).execute();
    const row = await cached.db.selectFrom('tenants').select(['id', 'slug']).where('slug', '=', slug).executeTakeFirstOrThrow();
    await cached.app.platform.directory.invalidateTenant(row);
    expectProblem(await login(), 503, 'tenant_schema_outdated');
    // Migrated by another process that announces nothing: the next request reads the row again.
    await cached.db.updateTable('tenants').set({ schemaVersion: latest }).where('slug', '=', slug).execute();
    expect((await login()).statusCode).toBe(200);
  });
});
