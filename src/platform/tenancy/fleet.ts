// Fleet-wide tenant schema upkeep: `plinth migrate status|up|down`, boot and
// `npm run migrate`. Which tenants need work is decided from
// `public.tenants.schema_version` in one query, so up-to-date tenants are
// never visited; each tenant is migrated in its own transaction with lock and
// statement timeouts, a bounded number at a time, and the outcome (error or
// success time) is recorded on its `public.tenants` row so a failed run
// resumes where it stopped and `migrate status` can name the failures.
import { sql, type Kysely } from 'kysely';
import type { Db } from '../db/database.ts';
import { fleetDb } from './fleet-tables.ts';
import { assertSchemaName } from './schema-name.ts';
import { LEDGER_TABLE, migrateTenantSchema, type TenantMigrationSet } from './tenant-migrations.ts';

export interface FleetResult {
  migrated: string[];
  failed: Array<{ slug: string; error: string }>;
}

export interface FleetStatus {
  latest: string | null;
  total: number;
  upToDate: number;
  behind: number;
  /** Tenants per recorded schema version (null: never migrated), newest first. */
  versions: Array<{ version: string | null; tenants: number; current: boolean }>;
  /** Tenants whose last migration run failed. */
  failed: Array<{ slug: string; schemaVersion: string | null; error: string; failedAt: Date | null }>;
}

/** The fleet summary, from `public.tenants` alone (never visits a tenant schema). */
export async function fleetStatus(db: Db, set: TenantMigrationSet, opts: { failedLimit?: number } = {}): Promise<FleetStatus> {
  const rows = await sql<{ version: string | null; tenants: number; failed: Array<{ slug: string; schemaVersion: string | null; error: string; failedAt: string | null }> | null }>`
    select schema_version as version, count(*)::int as tenants,
      (array_agg(json_build_object('slug', slug, 'schemaVersion', schema_version, 'error', migration_error, 'failedAt', migration_failed_at) order by slug)
        filter (where migration_error is not null))[1:${opts.failedLimit ?? 100}] as failed
    from public.tenants group by schema_version order by schema_version desc nulls last`.execute(db);
  const versions = rows.rows.map((r) => ({ version: r.version, tenants: r.tenants, current: r.version === set.latest }));
  const total = versions.reduce((n, v) => n + v.tenants, 0);
  const upToDate = versions.find((v) => v.current)?.tenants ?? 0;
  const failed = rows.rows.flatMap((r) => r.failed ?? []).map((f) => ({ ...f, failedAt: f.failedAt ? new Date(f.failedAt) : null }));
  return { latest: set.latest, total, upToDate, behind: total - upToDate, versions, failed };
}

export interface FleetRunOptions {
  /** Tenants migrated at the same time (each holds one connection). */
  concurrency?: number;
  /** Keep going after a tenant failed (default: stop starting new ones). */
  continueOnError?: boolean;
  /** Migrate only the first N tenants that are behind (oldest first), then stop. */
  canary?: number;
  /** Only these tenants (slugs). */
  slugs?: readonly string[];
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  onProgress?: (event: { done: number; total: number; slug: string; error?: string }) => void;
}

export interface FleetRun extends FleetResult {
  /** Tenants that were behind when the run started (after canary/slug filters). */
  planned: number;
  /** Tenants not started because the run stopped at the first failure. */
  skipped: number;
  /** Tenants already at the latest version (not visited). */
  upToDate: number;
  durationMs: number;
}

/**
 * Migrates every tenant that is behind. A tenant's run is one transaction:
 * it ends at the latest version or leaves the schema untouched.
 */
export async function migrateFleet(db: Db, set: TenantMigrationSet, opts: FleetRunOptions = {}): Promise<FleetRun> {
  const started = performance.now();
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  let query = fleetDb(db)
    .selectFrom('tenants')
    .select(['slug', 'schemaName', sql<boolean>`schema_version is not distinct from ${set.latest}`.as('current')])
    .orderBy('createdAt')
    .orderBy('slug');
  if (opts.slugs) query = query.where('slug', 'in', opts.slugs.length ? [...opts.slugs] : ['']);
  const all = await query.execute();
  let behind = all.filter((t) => !t.current);
  if (opts.canary !== undefined) behind = behind.slice(0, Math.max(0, opts.canary));
  const result: FleetRun = { migrated: [], failed: [], planned: behind.length, skipped: 0, upToDate: all.length - all.filter((t) => !t.current).length, durationMs: 0 };

  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < behind.length) {
      const tenant = behind[next++]!;
      try {
        await db.transaction().execute(async (trx) => {
          await sql`select set_config('lock_timeout', ${`${opts.lockTimeoutMs ?? 5000}ms`}, true), set_config('statement_timeout', ${`${opts.statementTimeoutMs ?? 60_000}ms`}, true)`.execute(trx);
          await migrateTenantSchema(trx, tenant.schemaName, set);
          await fleetDb(trx).updateTable('tenants').set({ migrationError: null, migrationFailedAt: null, migratedAt: sql`now()` }).where('schemaName', '=', tenant.schemaName).execute();
        });
        result.migrated.push(tenant.slug);
        opts.onProgress?.({ done: result.migrated.length + result.failed.length, total: behind.length, slug: tenant.slug });
      } catch (error) {
        const message = (error as Error).message;
        result.failed.push({ slug: tenant.slug, error: message });
        await recordFailure(db, tenant.schemaName, message);
        opts.onProgress?.({ done: result.migrated.length + result.failed.length, total: behind.length, slug: tenant.slug, error: message });
        if (!opts.continueOnError) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, behind.length) }, worker));
  result.skipped = behind.length - result.migrated.length - result.failed.length;
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

async function recordFailure(db: Db, schemaName: string, message: string) {
  await fleetDb(db).updateTable('tenants').set({ migrationError: message.slice(0, 2000), migrationFailedAt: sql`now()` }).where('schemaName', '=', schemaName).execute();
}

/** Boot and `npm run migrate`: every tenant behind, one at a time, continuing past failures. */
export async function migrateTenantsBehind(db: Db, migrations: TenantMigrationSet): Promise<FleetResult> {
  const { migrated, failed } = await migrateFleet(db, migrations, { concurrency: 1, continueOnError: true });
  return { migrated, failed };
}

export interface FleetDownRun extends FleetResult {
  /** The migration reverted. */
  reverted: string | null;
  /** The version the reverted tenants are at now. */
  version: string | null;
}

/**
 * Reverts the latest tenant migration (its `down`) on every tenant at the
 * latest version, one transaction per tenant. The API then answers those
 * tenants with 503 until code without that migration is deployed.
 */
export async function migrateFleetDown(db: Db, set: TenantMigrationSet, opts: Omit<FleetRunOptions, 'canary'> = {}): Promise<FleetDownRun> {
  const name = set.latest;
  const previous = set.names.at(-2) ?? null;
  const run: FleetDownRun = { migrated: [], failed: [], reverted: name, version: previous };
  if (!name) return run;
  const migration = set.migrations[name]!;
  if (!migration.down) throw new Error(`Tenant migration ${name} has no down(): it cannot be reverted`);
  let query = fleetDb(db).selectFrom('tenants').select(['slug', 'schemaName']).where('schemaVersion', '=', name).orderBy('createdAt');
  if (opts.slugs) query = query.where('slug', 'in', opts.slugs.length ? [...opts.slugs] : ['']);
  const tenants = await query.execute();
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < tenants.length) {
      const tenant = tenants[next++]!;
      const schema = assertSchemaName(tenant.schemaName);
      try {
        await db.transaction().execute(async (trx) => {
          const raw = trx.withoutPlugins();
          await sql`select set_config('lock_timeout', ${`${opts.lockTimeoutMs ?? 5000}ms`}, true), set_config('statement_timeout', ${`${opts.statementTimeoutMs ?? 60_000}ms`}, true)`.execute(raw);
          await sql`select pg_advisory_xact_lock(hashtext(${schema}))`.execute(raw);
          await migration.down!(raw.withSchema(schema) as Kysely<any>);
          await sql`delete from ${sql.id(schema, LEDGER_TABLE)} where name = ${name}`.execute(raw);
          await sql`update public.tenants set schema_version = ${previous}, updated_at = now(), migrated_at = now(), migration_error = null, migration_failed_at = null where schema_name = ${schema}`.execute(raw);
        });
        run.migrated.push(tenant.slug);
        opts.onProgress?.({ done: run.migrated.length + run.failed.length, total: tenants.length, slug: tenant.slug });
      } catch (error) {
        const message = (error as Error).message;
        run.failed.push({ slug: tenant.slug, error: message });
        await recordFailure(db, schema, `down ${name}: ${message}`);
        opts.onProgress?.({ done: run.migrated.length + run.failed.length, total: tenants.length, slug: tenant.slug, error: message });
        if (!opts.continueOnError) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, opts.concurrency ?? 4), tenants.length) }, worker));
  return run;
}
