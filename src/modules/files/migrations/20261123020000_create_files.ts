import { sql, type Kysely } from 'kysely';

// File metadata; the bytes live in the storage driver under the tenant's prefix.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text')
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('thumbnail_key', 'text')
    // 'pending': a direct upload was granted and not completed yet (its size counts against the quota).
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('ready').check(sql`status in ('pending', 'ready')`))
    .addColumn('record_type', 'text')
    .addColumn('record_id', 'uuid')
    .addColumn('uploaded_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .execute();
  await db.schema.createIndex('files_record_idx').on('files').columns(['record_type', 'record_id']).execute();
  await db.schema.createIndex('files_created_idx').on('files').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('files').execute();
}
