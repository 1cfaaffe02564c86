// Bench data, created through the platform's own functions: tenants through
// provisionTenant (real, migrated schemas), the owner through ensureMember,
// contacts by one INSERT ... SELECT per tenant (fast, same rows as the API writes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { assertSchemaName, schemaNameFor } from '../../src/platform/tenancy/schema-name.ts';
import { platformFor } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/platform/db/database.ts';
import type { Tenant } from '../../src/platform/db/public-tables.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { ensureMember } from '../../src/modules/identity/service.ts';
import { insertMembership } from '../../src/modules/identity/repository.ts';
import { modules } from '../../src/modules/index.ts';

/** An access token from a running server's POST /v1/auth/login. */
export async function loginOverHttp(baseUrl: string, slug: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant': slug }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

export const BENCH_EMAIL = 'owner@bench.example';
export const BENCH_PASSWORD = 'bench-owner-password';

/** Rate-limit budgets no load run reaches: the counting is measured, never a 429. */
export const BENCH_RATE_LIMITS = {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000000',
  RATE_LIMIT_ACCOUNT_PER_MINUTE: '1000000000',
  RATE_LIMIT_API_KEY_PER_MINUTE: '1000000000',
  RATE_LIMIT_TENANT_PER_MINUTE: '1000000000',
  AUTH_RATE_LIMIT_PER_MINUTE: '1000000000',
};

export const migrationsFor = (db: Db) => platformFor(loadConfig({ DEMO_SEED: 'false' }), db, modules).migrations;

/**
 * Seeded contacts are dated a day ahead so they stay the first page of the
 * default sort (-createdAt) while the write benchmarks add rows dated now.
 */
const seedContactsSql = (schemaName: string) => `
  insert into "${assertSchemaName(schemaName)}".contacts (id, first_name, last_name, email, phone, job_title, owner_id, created_by, updated_by, created_at, updated_at)
  select gen_random_uuid(), 'First' || i, 'Last' || i, 'contact' || i || '@bench.example', '+1 555 ' || lpad(i::text, 6, '0'), 'Title ' || (i % 50),
         $1::uuid, $1::uuid, $1::uuid,
         date_trunc('milliseconds', now()) + interval '1 day' - i * interval '1 second',
         date_trunc('milliseconds', now()) + interval '1 day' - i * interval '1 second'
  from generate_series(1, $2::int) i`;

/**
 * Seeded contacts are dated a day ahead so they stay the first page of the
 * default sort (-createdAt) while the write benchmarks add rows dated now.
 */
export async function seedContacts(db: Db, schemaName: string, ownerId: string, count: number) {
  await db.executeQuery(CompiledQuery.raw(seedContactsSql(schemaName), [ownerId, count]));
}

/** The tenant of the overhead benchmarks, its owner and `contacts` contacts. */
export async function createBenchTenant(db: Db, slug: string, contacts: number): Promise<{ tenant: Tenant; ownerId: string }> {
  let ownerId = '';
  const tenant = await provisionTenant(db, migrationsFor(db), { slug, displayName: `Bench ${slug}` }, async (trx, t) => {
    ownerId = (await ensureMember(trx, { tenantId: t.id, email: BENCH_EMAIL, displayName: 'Bench owner', password: BENCH_PASSWORD, role: 'owner' })).id;
  });
  await seedContacts(db, tenant.schemaName, ownerId, contacts);
  await sql`vacuum analyze ${sql.id(tenant.schemaName, 'contacts')}`.execute(db);
  return { tenant, ownerId };
}

/**
 * Grows the fleet to `total` tenants named `<prefix>-<n>`, each a real
 * migrated schema with `ownerId` as owner and `contacts` contacts. Runs
 * `concurrency` provisionings at a time.
 */
export async function growFleet(db: Db, opts: { prefix: string; total: number; ownerId: string; contacts: number; concurrency: number; progress?: (n: number) => void }): Promise<void> {
  const migrations = migrationsFor(db);
  const have = await db.selectFrom('tenants').select(db.fn.countAll<number>().as('n')).where('slug', 'like', `${opts.prefix}-%`).executeTakeFirstOrThrow();
  let next = Number(have.n);
  let done = 0;
  const worker = async () => {
    while (next < opts.total) {
      const n = next++;
      await provisionTenant(db, migrations, { slug: `${opts.prefix}-${n}`, displayName: `Fleet ${n}` }, async (trx, t) => {
        await insertMembership(trx, { tenantId: t.id, accountId: opts.ownerId, role: 'owner' });
        await seedContacts(trx as unknown as Db, t.schemaName, opts.ownerId, opts.contacts);
      });
      if (++done % 500 === 0) opts.progress?.(done);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
}

export async function fleetTenants(db: Db, prefix: string, limit: number) {
  return db.selectFrom('tenants').select(['id', 'slug']).where('slug', 'like', `${prefix}-%`).orderBy('createdAt').limit(limit).execute();
}

/**
 * The fast way to a big fleet: tenant `template` (made by provisionTenant)
 * is copied with bench/lib/clone-schema.sql, and each copy gets its own
 * registry row at the template's schema version, the membership and its
 * contacts, in one transaction per tenant. `clients` connections work in parallel.
 */
export async function cloneFleet(url: string, opts: { template: Tenant; prefix: string; from: number; to: number; ownerId: string; contacts: number; clients: number; progress?: (n: number) => void }) {
  const cloneSql = readFileSync(join(import.meta.dirname, 'clone-schema.sql'), 'utf8');
  let next = opts.from;
  let done = 0;
  const worker = async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'plinth-bench-harness' });
    await client.connect();
    try {
      await client.query(cloneSql);
      await client.query('set synchronous_commit = off');
      while (next < opts.to) {
        const n = next++;
        const id = uuidv7();
        const schema = schemaNameFor(id);
        await client.query('begin');
        await client.query('select pg_temp.bench_clone_schema($1, $2)', [opts.template.schemaName, schema]);
        await client.query("insert into public.tenants (id, slug, display_name, schema_name, status, schema_version) values ($1, $2, $3, $4, 'active', $5)", [
          id, `${opts.prefix}-${n}`, `Fleet ${n}`, schema, opts.template.schemaVersion,
        ]);
        await client.query("insert into public.memberships (tenant_id, account_id, role) values ($1, $2, 'owner')", [id, opts.ownerId]);
        await client.query(seedContactsSql(schema), [opts.ownerId, opts.contacts]);
        await client.query('commit');
        if (++done % 500 === 0) opts.progress?.(done);
      }
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, worker));
}

/** Names of every relation and constraint in a schema: equal for a clone and its template. */
export async function schemaShape(db: Db, schemaName: string): Promise<string> {
  const { rows } = await sql<{ shape: string }>`
    select coalesce((select string_agg(relkind::text || ':' || relname, ',' order by relname) from pg_class where relnamespace = ${schemaName}::regnamespace), '')
      || '|' || coalesce((select string_agg(contype::text || ':' || conname, ',' order by conname) from pg_constraint where connamespace = ${schemaName}::regnamespace), '') as shape`.execute(db);
  return rows[0]!.shape;
}
