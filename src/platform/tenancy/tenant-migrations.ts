// Tenant migrations are ordinary Kysely `Migration` objects (up/down over a
// Kysely instance), contributed by modules. They are applied by this small
// runner rather than by Kysely's Migrator because the Migrator (a) opens its
// own transaction, so it cannot run inside the provisioning transaction, and
// (b) takes one database-wide advisory lock, so schemas could only be
// migrated one at a time. Here each schema has its own transaction-scoped
// lock and its own ledger table, and `public.tenants.schema_version` records
// the version so the fleet can be summarised without visiting each schema.
import { sql, type Kysely, type Migration, type Transaction } from 'kysely';
import { assertSchemaName } from './schema-name.ts';

export interface TenantMigrationSet {
  /** Sorted migration names; the last one is the version a current schema has. */
  readonly names: readonly string[];
  readonly migrations: Readonly<Record<string, Migration>>;
  readonly latest: string | null;
}

export function buildTenantMigrationSet(sources: ReadonlyArray<{ name: string; tenantMigrations?: Record<string, Migration> }>): TenantMigrationSet {
  const migrations: Record<string, Migration> = {};
  for (const source of sources) {
    for (const [name, migration] of Object.entries(source.tenantMigrations ?? {})) {
      if (!/^\d{14}_[a-z0-9_]+$/.test(name)) throw new Error(`Tenant migration "${name}" of module ${source.name} must be named <yyyymmddhhmmss>_<snake_name>`);
      if (migrations[name]) throw new Error(`Two tenant migrations are named "${name}"`);
      migrations[name] = migration;
    }
  }
  const names = Object.keys(migrations).sort();
  return { names, migrations, latest: names.at(-1) ?? null };
}

export const LEDGER_TABLE = 'plinth_migrations';

/**
 * Brings one tenant schema up to the latest migration, inside the caller's
 * transaction. Idempotent: applied migrations are skipped. Returns the names
 * applied now.
 */
export async function migrateTenantSchema(trx: Transaction<any>, schemaName: string, set: TenantMigrationSet): Promise<string[]> {
  const schema = assertSchemaName(schemaName);
  const raw = trx.withoutPlugins();
  // Serialises concurrent runs on the same schema only; released at commit.
  await sql`select pg_advisory_xact_lock(hashtext(${schema}))`.execute(raw);
  await sql`create schema if not exists ${sql.id(schema)}`.execute(raw);
  await sql`create table if not exists ${sql.id(schema, LEDGER_TABLE)} (
    name text primary key,
    applied_at timestamptz not null default now()
  )`.execute(raw);
  const { rows } = await sql<{ name: string }>`select name from ${sql.id(schema, LEDGER_TABLE)}`.execute(raw);
  const applied = new Set(rows.map((r) => r.name));
  const unknown = [...applied].filter((n) => !(n in set.migrations));
  if (unknown.length > 0) {
    throw new Error(`Schema ${schema} has migrations this code does not know (${unknown.join(', ')}): it is newer than the code`);
  }
  const scoped = raw.withSchema(schema) as Kysely<any>;
  const ran: string[] = [];
  for (const name of set.names) {
    if (applied.has(name)) continue;
    await set.migrations[name]!.up(scoped);
    await sql`insert into ${sql.id(schema, LEDGER_TABLE)} (name) values (${name})`.execute(raw);
    ran.push(name);
  }
  await sql`update public.tenants set schema_version = ${set.latest}, updated_at = now() where schema_name = ${schema}`.execute(raw);
  return ran;
}
