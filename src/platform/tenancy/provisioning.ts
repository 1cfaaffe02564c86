import { sql, type Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/database.ts';
import type { PublicDatabase, Tenant } from '../db/public-tables.ts';
import { AppError } from '../errors.ts';
import { isUniqueViolation } from '../db/pg-errors.ts';
import { assertSlug, schemaNameFor } from './schema-name.ts';
import { migrateTenantSchema, type TenantMigrationSet } from './tenant-migrations.ts';
import { claimSpare } from './spares.ts';

export interface ProvisionInput {
  slug: string;
  displayName: string;
}

/** Work done in the same transaction once the schema is current (owner, seed data). */
export type AfterProvision = (trx: Transaction<PublicDatabase>, tenant: Tenant) => Promise<void>;

/**
 * Creates a tenant: registry row, schema (a claimed spare from the pool, or
 * created and migrated now), and the caller's follow-up work, in one
 * transaction. Either all of it exists
 * afterwards or none of it does, and no reader sees a half-created tenant.
 */
export async function provisionTenant(db: Db, migrations: TenantMigrationSet, input: ProvisionInput, after?: AfterProvision): Promise<Tenant> {
  const slug = assertSlug(input.slug);
  const displayName = input.displayName.trim();
  if (!displayName) throw new AppError('validation_failed', 'A tenant needs a display name', { errors: [{ pointer: '/displayName', detail: 'must not be empty' }] });

  // Cheap early answer; the unique index below is what actually decides.
  const existing = await db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst();
  if (existing) throw new AppError('tenant_slug_taken', `The slug "${slug}" is taken`);

  try {
    return await db.transaction().execute(async (trx) => {
      // A ready spare schema when the pool has one (no DDL on this path), else the full path.
      const spare = await claimSpare(trx, migrations);
      const id = spare?.tenantId ?? uuidv7();
      const tenant = await trx
        .insertInto('tenants')
        .values({ id, slug, displayName, schemaName: spare?.schemaName ?? schemaNameFor(id), status: 'active', schemaVersion: spare ? migrations.latest : null })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (!spare) await migrateTenantSchema(trx, tenant.schemaName, migrations);
      const current = { ...tenant, schemaVersion: migrations.latest };
      if (after) await after(trx, current);
      return current;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'tenants_slug_key')) throw new AppError('tenant_slug_taken', `The slug "${slug}" is taken`, { cause: error });
    throw error;
  }
}

/** Brings an existing tenant's schema up to date (idempotent). */
export async function migrateTenant(db: Db, migrations: TenantMigrationSet, schemaName: string): Promise<string[]> {
  return db.transaction().execute((trx) => migrateTenantSchema(trx, schemaName, migrations));
}

export async function listTenantSchemasBehind(db: Db, migrations: TenantMigrationSet): Promise<Array<{ slug: string; schemaName: string; schemaVersion: string | null }>> {
  return db
    .selectFrom('tenants')
    .select(['slug', 'schemaName', 'schemaVersion'])
    .where(sql<boolean>`schema_version is distinct from ${migrations.latest}`)
    .execute();
}
