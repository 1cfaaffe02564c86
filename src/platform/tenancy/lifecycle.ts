// Tenant operations after sign-up, shared by the CLI and the platform-admin
// API: list, show, suspend/resume, rename, delete. Each one is a single write
// to `public.tenants`, which API processes cache (the tenant directory): the
// caller passes its `directory`, whose invalidation reaches every instance at
// once (without one, they see the change within TENANT_CACHE_TTL_MS).
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { TenantStatus } from '../db/public-tables.ts';
import { AppError } from '../errors.ts';
import { isUniqueViolation } from '../db/pg-errors.ts';
import type { TenantDirectory } from './directory.ts';
import { fleetDb, type FleetTenant } from './fleet-tables.ts';
import { assertSchemaName, assertSlug } from './schema-name.ts';

export interface TenantSummary {
  id: string;
  slug: string;
  displayName: string;
  status: TenantStatus;
  schemaName: string;
  schemaVersion: string | null;
  migrationError: string | null;
  createdAt: Date;
  /** Bytes of the tenant schema's tables, indexes and TOAST. */
  sizeBytes: number;
}

type Invalidate = Pick<TenantDirectory, 'invalidateTenant'> | undefined;

async function sizesOf(db: Db, schemas: string[]): Promise<Map<string, number>> {
  if (schemas.length === 0) return new Map();
  const { rows } = await sql<{ schema: string; bytes: number }>`
    select n.nspname as schema, coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
    from pg_namespace n left join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'm', 'p')
    where n.nspname = any(${schemas}) group by n.nspname`.execute(db);
  return new Map(rows.map((r) => [r.schema, Number(r.bytes)]));
}

const summary = (t: FleetTenant, sizes: Map<string, number>): TenantSummary => ({
  id: t.id,
  slug: t.slug,
  displayName: t.displayName,
  status: t.status,
  schemaName: t.schemaName,
  schemaVersion: t.schemaVersion,
  migrationError: t.migrationError,
  createdAt: t.createdAt,
  sizeBytes: sizes.get(t.schemaName) ?? 0,
});

export async function listTenants(db: Db, opts: { status?: TenantStatus; limit?: number; offset?: number; withSize?: boolean } = {}): Promise<{ total: number; tenants: TenantSummary[] }> {
  let q = fleetDb(db).selectFrom('tenants');
  if (opts.status) q = q.where('status', '=', opts.status);
  const { total } = await q.select(sql<number>`count(*)::int`.as('total')).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('slug').limit(opts.limit ?? 100).offset(opts.offset ?? 0).execute();
  const sizes = opts.withSize === false ? new Map<string, number>() : await sizesOf(db, rows.map((r) => r.schemaName));
  return { total, tenants: rows.map((r) => summary(r, sizes)) };
}

export async function getTenant(db: Db, slug: string): Promise<TenantSummary & { members: number; tables: number }> {
  const t = await fleetDb(db).selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!t) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
  const sizes = await sizesOf(db, [t.schemaName]);
  const { members } = await db.selectFrom('memberships').select(sql<number>`count(*)::int`.as('members')).where('tenantId', '=', t.id).executeTakeFirstOrThrow();
  const { rows } = await sql<{ tables: number }>`select count(*)::int as tables from pg_tables where schemaname = ${t.schemaName}`.execute(db);
  return { ...summary(t, sizes), members, tables: rows[0]?.tables ?? 0 };
}

export async function setTenantStatus(db: Db, slug: string, status: TenantStatus, directory?: Invalidate): Promise<TenantSummary> {
  const t = await fleetDb(db).updateTable('tenants').set({ status, updatedAt: new Date() }).where('slug', '=', slug).returningAll().executeTakeFirst();
  if (!t) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
  await directory?.invalidateTenant(t);
  return summary(t, await sizesOf(db, [t.schemaName]));
}

/** Changes the slug and/or the display name. The schema keeps its name (it is derived from the id). */
export async function renameTenant(db: Db, slug: string, change: { slug?: string; displayName?: string }, directory?: Invalidate): Promise<TenantSummary> {
  const newSlug = change.slug === undefined ? undefined : assertSlug(change.slug);
  const displayName = change.displayName?.trim();
  if (displayName === '') throw new AppError('validation_failed', 'A tenant needs a display name', { errors: [{ pointer: '/displayName', detail: 'must not be empty' }] });
  if (newSlug === undefined && displayName === undefined) throw new AppError('validation_failed', 'Give a new slug or a new display name');
  try {
    const t = await fleetDb(db)
      .updateTable('tenants')
      .set({ ...(newSlug ? { slug: newSlug } : {}), ...(displayName ? { displayName } : {}), updatedAt: new Date() })
      .where('slug', '=', slug)
      .returningAll()
      .executeTakeFirst();
    if (!t) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
    await directory?.invalidateTenant({ id: t.id, slug });
    await directory?.invalidateTenant(t);
    return summary(t, await sizesOf(db, [t.schemaName]));
  } catch (error) {
    if (isUniqueViolation(error, 'tenants_slug_key')) throw new AppError('tenant_slug_taken', `The slug "${newSlug}" is taken`, { cause: error });
    throw error;
  }
}

/** Tables dropped per transaction: each DROP takes an AccessExclusive lock held to commit, and the lock table is sized max_locks_per_transaction × connections. */
export const DROP_BATCH = 50;

/**
 * Deletes a tenant. It is suspended first (the API refuses it from then on),
 * its tables are dropped in batches of DROP_BATCH per transaction so a tenant
 * with thousands of tables cannot exhaust the shared lock table, then the
 * empty schema and the registry row (memberships, sessions cascade) go in one
 * last transaction. Re-running after an interruption finishes the job.
 */
export async function deleteTenant(db: Db, slug: string, opts: { directory?: Invalidate; onProgress?: (dropped: number, total: number) => void } = {}): Promise<{ slug: string; droppedTables: number }> {
  const t = await fleetDb(db).updateTable('tenants').set({ status: 'suspended', updatedAt: new Date() }).where('slug', '=', slug).returning(['id', 'slug', 'schemaName']).executeTakeFirst();
  if (!t) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
  await opts.directory?.invalidateTenant(t);
  const schema = assertSchemaName(t.schemaName);
  const { rows } = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = ${schema} order by tablename`.execute(db);
  let dropped = 0;
  for (let i = 0; i < rows.length; i += DROP_BATCH) {
    const batch = rows.slice(i, i + DROP_BATCH);
    // CASCADE: foreign keys between the tenant's own tables, whatever the batch order.
    await sql`drop table if exists ${sql.join(batch.map((r) => sql.id(schema, r.name)))} cascade`.execute(db);
    dropped += batch.length;
    opts.onProgress?.(dropped, rows.length);
  }
  await db.transaction().execute(async (trx) => {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(trx);
    await trx.deleteFrom('tenants').where('id', '=', t.id).execute();
  });
  await opts.directory?.invalidateTenant(t);
  return { slug, droppedTables: dropped };
}
