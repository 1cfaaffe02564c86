import { sql, type Kysely } from 'kysely';

// Fleet operations: the per-tenant migration record (so `plinth migrate status`
// is one query on `public.tenants`), the pool of pre-provisioned spare schemas
// that sign-up claims, and the platform-admin flag on accounts.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('tenants')
    .addColumn('migration_error', 'text')
    .addColumn('migration_failed_at', 'timestamptz')
    .addColumn('migrated_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('tenants_schema_version_idx').on('tenants').column('schema_version').execute();

  // A spare's schema name is derived from the tenant id it will be claimed under.
  await db.schema
    .createTable('tenant_spares')
    .addColumn('tenant_id', 'uuid', (c) => c.primaryKey())
    .addColumn('schema_name', 'text', (c) => c.notNull().unique().check(sql`schema_name ~ '^t_[0-9a-f]{32}$'`))
    .addColumn('schema_version', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('tenant_spares_version_idx').on('tenant_spares').columns(['schema_version', 'created_at']).execute();

  await db.schema.alterTable('accounts').addColumn('is_platform_admin', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('is_platform_admin').execute();
  await db.schema.dropTable('tenant_spares').execute();
  await db.schema.dropIndex('tenants_schema_version_idx').execute();
  await db.schema.alterTable('tenants').dropColumn('migration_error').dropColumn('migration_failed_at').dropColumn('migrated_at').execute();
}
