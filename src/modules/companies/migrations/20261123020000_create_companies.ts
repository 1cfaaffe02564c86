import { sql, type Kysely } from 'kysely';

// Runs with `withSchema(<tenant schema>)`: tables below are qualified with the
// tenant's schema; `public.accounts` stays as written.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('companies')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // Normalised by the service: lower case, no scheme, no www., no path.
    .addColumn('domain', 'text')
    .addColumn('industry', 'text')
    .addColumn('employees', 'integer', (c) => c.check(sql`employees >= 0`))
    .addColumn('address', 'text')
    .addColumn('owner_id', 'uuid')
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('updated_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .addColumn('deleted_at', 'timestamptz')
    .addForeignKeyConstraint('companies_owner_fk', ['owner_id'], 'public.accounts', ['id'], (fk) => fk.onDelete('set null'))
    .execute();
  // One live company per domain; a deleted one does not block.
  await db.schema.createIndex('companies_domain_live_unique').on('companies').unique().column('domain').where(sql.ref('deleted_at'), 'is', null).execute();
  await db.schema.createIndex('companies_created_idx').on('companies').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('companies_name_idx').on('companies').expression(sql`lower(name), id`).execute();
  await db.schema.createIndex('companies_owner_idx').on('companies').column('owner_id').execute();

  // Field changes of any CRM record, for the timeline (activities module reads them).
  await db.schema
    .createTable('record_changes')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('record_type', 'text', (c) => c.notNull().check(sql`record_type in ('company', 'contact', 'deal')`))
    .addColumn('record_id', 'uuid', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('created', 'updated', 'deleted', 'restored')`))
    .addColumn('changes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('changed_by', 'uuid')
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('record_changes_record_idx').on('record_changes').columns(['record_type', 'record_id', 'changed_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('record_changes').execute();
  await db.schema.dropTable('companies').execute();
}
