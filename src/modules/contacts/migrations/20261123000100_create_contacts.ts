import { sql, type Kysely } from 'kysely';

// Runs with `withSchema(<tenant schema>)`: table names below are qualified
// with the tenant's schema by Kysely; `public.accounts` stays as written.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('contacts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('job_title', 'text')
    .addColumn('owner_id', 'uuid')
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('updated_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .addColumn('deleted_at', 'timestamptz')
    .addForeignKeyConstraint('contacts_owner_fk', ['owner_id'], 'public.accounts', ['id'], (fk) => fk.onDelete('set null'))
    .execute();
  // One live contact per email (case-insensitive); a deleted one does not block.
  await db.schema
    .createIndex('contacts_email_live_unique')
    .on('contacts')
    .unique()
    .expression(sql`(lower(email))`)
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema.createIndex('contacts_created_idx').on('contacts').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('contacts_updated_idx').on('contacts').columns(['updated_at', 'id']).execute();
  await db.schema.createIndex('contacts_last_name_idx').on('contacts').expression(sql`(coalesce(last_name, '')), id`).execute();
  await db.schema.createIndex('contacts_owner_idx').on('contacts').column('owner_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('contacts').execute();
}
