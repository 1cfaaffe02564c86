import { sql, type Kysely } from 'kysely';

// Duplicate detection (pg_trgm, created in `public` by the platform
// migration 20261123080000_pg_trgm) and the merge log that makes undo
// possible. Runs with `withSchema(<tenant schema>)`.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('companies_name_trgm_idx').on('companies').using('gin').expression(sql`lower(name) public.gin_trgm_ops`).execute();
  await db.schema.createIndex('contacts_name_trgm_idx').on('contacts').using('gin').expression(sql`lower(first_name || ' ' || coalesce(last_name, '')) public.gin_trgm_ops`).execute();
  await db.schema
    .createTable('record_merges')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('record_type', 'text', (c) => c.notNull().check(sql`record_type in ('company', 'contact')`))
    .addColumn('target_id', 'uuid', (c) => c.notNull())
    .addColumn('source_id', 'uuid', (c) => c.notNull())
    // The target as it was, and what moved from source to target, to undo exactly that.
    .addColumn('target_before', 'jsonb', (c) => c.notNull())
    .addColumn('moved', 'jsonb', (c) => c.notNull())
    .addColumn('merged_by', 'uuid', (c) => c.notNull())
    .addColumn('merged_at', 'timestamptz', (c) => c.notNull())
    .addColumn('undone_by', 'uuid')
    .addColumn('undone_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('record_merges_target_idx').on('record_merges').columns(['record_type', 'target_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('record_merges').execute();
  await db.schema.dropIndex('contacts_name_trgm_idx').execute();
  await db.schema.dropIndex('companies_name_trgm_idx').execute();
}
