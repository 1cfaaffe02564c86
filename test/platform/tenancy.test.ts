// Tenancy core: provisioning in one transaction, the registry, tenant
// resolution (header, subdomain, token), suspended and outdated tenants, and
// schema-qualified SQL (no search_path).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Migration } from 'kysely';
import { platformFor } from '../../src/app.ts';
import { modules } from '../../src/modules/index.ts';
import { AppError } from '../../src/platform/errors.ts';
import { scopeToTenant } from '../../src/platform/context.ts';
import { migrateTenant, provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { assertSchemaName, isValidSlug, schemaNameFor } from '../../src/platform/tenancy/schema-name.ts';
import { buildTenantMigrationSet, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { as, createTenant, expectProblem, login, startApp, uniqueSlug, type Harness } from '../helpers.ts';
import { ensureMember } from '../../src/modules/identity/service.ts';

let h: Harness;
let migrations: TenantMigrationSet;

beforeAll(async () => {
  h = await startApp();
  migrations = platformFor(h.config, h.db, modules).migrations;
});
afterAll(() => h?.close());

const tablesIn = async (name: string) =>
  (await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = ${name} order by 1`.execute(h.db)).rows.map((r) => r.tablename);

describe('provisioning', () => {
  it('creates the registry row, the schema and every tenant table, at the latest version', async () => {
    const slug = uniqueSlug('p');
    const tenant = await provisionTenant(h.db, migrations, { slug, displayName: 'Prov' });
    expect(tenant).toMatchObject({ slug, displayName: 'Prov', status: 'active', schemaVersion: migrations.latest });
    expect(tenant.schemaName).toBe(schemaNameFor(tenant.id));
    expect(await tablesIn(tenant.schemaName)).toEqual(expect.arrayContaining(['contacts', 'plinth_migrations']));
    // Nothing of the tenant's lands in public: every module table is in the tenant schema.
    const publicContacts = await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = 'public' and tablename = 'contacts'`.execute(h.db);
    expect(publicContacts.rows[0]!.n).toBe(0);
    const row = await h.db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow();
    expect(row.schemaVersion).toBe(migrations.latest);
    const ledger = await sql<{ name: string }>`select name from ${sql.id(tenant.schemaName, 'plinth_migrations')} order by name`.execute(h.db);
    expect(ledger.rows.map((r) => r.name)).toEqual([...migrations.names]);
  });

  it('refuses the same slug again with a conflict and leaves the first tenant intact', async () => {
    const t = await createTenant(h, 'dup');
    await as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Kept' } });
    const err = await provisionTenant(h.db, migrations, { slug: t.slug, displayName: 'Again' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('tenant_slug_taken');
    expect((err as AppError).status).toBe(409);
    const rows = await h.db.selectFrom('tenants').selectAll().where('slug', '=', t.slug).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(t.tenant.id);
    const list = await as(h, t)({ method: 'GET', url: '/v1/contacts' });
    expect((list.json() as { data: Array<{ firstName: string }> }).data.map((c) => c.firstName)).toEqual(['Kept']);
  });

  it('concurrent provisioning of one slug: exactly one wins, the other gets a conflict', async () => {
    const slug = uniqueSlug('race');
    const results = await Promise.allSettled([1, 2, 3].map(() => provisionTenant(h.db, migrations, { slug, displayName: 'Race' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) expect(((r as PromiseRejectedResult).reason as AppError).code).toBe('tenant_slug_taken');
    const n = (await sql<{ n: number }>`select count(*)::int as n from pg_namespace n join public.tenants t on t.schema_name = n.nspname where t.slug = ${slug}`.execute(h.db)).rows[0]!.n;
    expect(n).toBe(1);
  });

  it('a provisioning that fails half-way leaves no schema and no registry row', async () => {
    let schema = '';
    const failing: Migration = {
      async up(db) {
        await db.schema.createTable('half_done').addColumn('id', 'uuid').execute();
        schema = (await sql<{ s: string }>`select schemaname as s from pg_tables where tablename = 'half_done'`.execute(db)).rows[0]!.s;
        throw new Error('injected failure after DDL');
      },
    };
    const broken = buildTenantMigrationSet([...modules, { name: 'broken', tenantMigrations: { '29991231000000_fail_midway': failing } }]);
    const slug = uniqueSlug('half');
    await expect(provisionTenant(h.db, broken, { slug, displayName: 'Half' })).rejects.toThrow('injected failure');
    expect(await h.db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst()).toBeUndefined();
    // The schema the migration ran in (read inside the failed transaction) is gone with its tables.
    expect(schema).toMatch(/^t_/);
    const left = await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = ${schema}`.execute(h.db);
    expect(left.rows[0]!.n).toBe(0);
  });

  it('also rolls back when the follow-up work (owner creation) fails', async () => {
    const slug = uniqueSlug('own');
    await expect(
      provisionTenant(h.db, migrations, { slug, displayName: 'Owner fails' }, async () => {
        throw new Error('owner failed');
      }),
    ).rejects.toThrow('owner failed');
    expect(await h.db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst()).toBeUndefined();
  });

  it('rejects slugs that are not safe identifiers', async () => {
    for (const bad of ['Acme', 'a b', 'acme;drop', '-acme', 'acme-', 'ac--me', 'www', 'x'.repeat(41), '1acme', '']) {
      expect(isValidSlug(bad), bad).toBe(false);
      await expect(provisionTenant(h.db, migrations, { slug: bad, displayName: 'X' })).rejects.toMatchObject({ code: 'validation_failed' });
    }
    expect(isValidSlug('acme-2')).toBe(true);
  });

  it('derives schema names from the tenant id and refuses anything else', () => {
    expect(schemaNameFor('01a208d5-ddb7-71c7-a139-b0a6abddf569')).toBe('t_01a208d5ddb771c7a139b0a6abddf569');
    for (const bad of ['public', 't_acme', 't_01a208d5ddb771c7a139b0a6abddf569"; drop schema public; --', 'T_01A208D5DDB771C7A139B0A6ABDDF569']) {
      expect(() => assertSchemaName(bad)).toThrow('unsafe');
    }
  });

  it('migrating an up-to-date tenant applies nothing (idempotent)', async () => {
    const t = await createTenant(h, 'idem');
    expect(await migrateTenant(h.db, migrations, t.tenant.schemaName)).toEqual([]);
  });
});

describe('tenant resolution and state', () => {
  it('an outdated schema answers 503 with a clear message until migrated', async () => {
    const t = await createTenant(h, 'old');
    const extra: Migration = {
      async up(db) {
        await db.schema.alterTable('contacts').addColumn('nickname', 'text').execute();
      },
    };
    const newer = buildTenantMigrationSet([...modules, { name: 'later', tenantMigrations: { '29990101000000_add_nickname': extra } }]);
    const h2 = await startApp({ modules: [...modules, { name: 'later', tenantMigrations: { '29990101000000_add_nickname': extra }, routes: async () => {} }] });
    try {
      const res = await h2.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${t.tokens.owner}`, 'x-tenant': t.slug } });
      const p = expectProblem(res, 503, 'tenant_schema_outdated');
      expect(p.detail).toContain('29990101000000_add_nickname');
      expect(res.headers['retry-after']).toBe('30');
      expect(await migrateTenant(h2.db, newer, t.tenant.schemaName)).toEqual(['29990101000000_add_nickname']);
      const ok = await h2.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${t.tokens.owner}`, 'x-tenant': t.slug } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await h2.close();
    }
  });

  it('a suspended tenant answers 403 to valid tokens; resumed, it answers again', async () => {
    const t = await createTenant(h, 'susp');
    await h.db.updateTable('tenants').set({ status: 'suspended' }).where('id', '=', t.tenant.id).execute();
    expectProblem(await as(h, t)({ method: 'GET', url: '/v1/contacts' }), 403, 'tenant_suspended');
    await h.db.updateTable('tenants').set({ status: 'active' }).where('id', '=', t.tenant.id).execute();
    expect((await as(h, t)({ method: 'GET', url: '/v1/contacts' })).statusCode).toBe(200);
  });

  it('resolves the tenant from the subdomain; a header naming another tenant is refused', async () => {
    const h2 = await startApp({ config: { TENANT_BASE_DOMAIN: 'plinth.test' } });
    try {
      const t = await createTenant(h2, 'sub');
      const other = await createTenant(h2, 'sub');
      const token = await login(h2, t.slug, t.accounts.owner.email);
      const bySub = await h2.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { host: `${t.slug}.plinth.test` }, payload: { email: t.accounts.owner.email, password: 'correct horse battery staple' } });
      expect(bySub.statusCode, bySub.body).toBe(200);
      const me = await h2.app.inject({ method: 'GET', url: '/v1/me', headers: { host: `${t.slug}.plinth.test`, authorization: `Bearer ${token}` } });
      expect((me.json() as { tenant: { slug: string } }).tenant.slug).toBe(t.slug);
      expectProblem(await h2.app.inject({ method: 'GET', url: '/v1/me', headers: { host: `${other.slug}.plinth.test`, authorization: `Bearer ${token}` } }), 403, 'tenant_mismatch');
      expectProblem(await h2.app.inject({ method: 'GET', url: '/v1/me', headers: { host: `${t.slug}.plinth.test`, 'x-tenant': other.slug, authorization: `Bearer ${token}` } }), 403, 'tenant_mismatch');
    } finally {
      await h2.close();
    }
  });

  it('caches tenant lookups for TENANT_CACHE_TTL_MS, then sees changes', async () => {
    const h2 = await startApp({ config: { TENANT_CACHE_TTL_MS: '2000' } });
    try {
      const t = await createTenant(h2, 'ttl');
      expect((await as(h2, t)({ method: 'GET', url: '/v1/contacts' })).statusCode).toBe(200);
      await h2.db.updateTable('tenants').set({ status: 'suspended' }).where('id', '=', t.tenant.id).execute();
      expect((await as(h2, t)({ method: 'GET', url: '/v1/contacts' })).statusCode).toBe(200); // still cached
      await new Promise((r) => setTimeout(r, 2100));
      expectProblem(await as(h2, t)({ method: 'GET', url: '/v1/contacts' }), 403, 'tenant_suspended');
    } finally {
      await h2.close();
    }
  });
});

describe('schema-qualified SQL', () => {
  it('tenant queries name the schema in the SQL itself', () => {
    const schema = schemaNameFor('01a208d5-ddb7-71c7-a139-b0a6abddf569');
    const q = scopeToTenant(h.db, schema).withTables<{ contacts: { id: string } }>().selectFrom('contacts').select('id').where('id', '=', 'x').compile();
    expect(q.sql).toContain(`from "${schema}"."contacts"`);
  });

  it('no code under src/ sets search_path', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) {
          // Code only: comments may explain why we never do it.
          const code = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
          if (/set\s+(local\s+)?search_path|set_config\(\s*'search_path'/i.test(code)) offenders.push(path);
        }
      }
    };
    walk(new URL('../../src', import.meta.url).pathname);
    expect(offenders).toEqual([]);
  });

  it('a tenant owner added through ensureMember can log in to that tenant only', async () => {
    const t = await createTenant(h, 'em');
    const u = await createTenant(h, 'em');
    await ensureMember(h.db, { tenantId: t.tenant.id, email: `extra@${t.slug}.example`, displayName: 'Extra', password: 'another long password', role: 'member' });
    expect(await login(h, t.slug, `extra@${t.slug}.example`, 'another long password')).toBeTruthy();
    await expect(login(h, u.slug, `extra@${t.slug}.example`, 'another long password')).rejects.toThrow('401');
  });
});
