import { sql, type Kysely } from 'kysely';

// Full-text search indexes (the expressions match the list queries'
// SEARCH_DOCUMENTs) and saved views. Runs with `withSchema(<tenant schema>)`.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('companies_search_idx').on('companies').using('gin').expression(sql`to_tsvector('simple', name || ' ' || coalesce(domain, ''))`).execute();
  await db.schema.createIndex('deals_search_idx').on('deals').using('gin').expression(sql`to_tsvector('simple', name)`).execute();
  await db.schema
    .createIndex('contacts_search_idx')
    .on('contacts')
    .using('gin')
    .expression(sql`to_tsvector('simple', first_name || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, ''))`)
    .execute();

  await db.schema
    .createTable('saved_views')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull())
    .addColumn('object', 'text', (c) => c.notNull().check(sql`object in ('company', 'deal')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('filters', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('sort', 'text')
    .addColumn('search', 'text')
    .addColumn('columns', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addForeignKeyConstraint('saved_views_account_fk', ['account_id'], 'public.accounts', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('saved_views_account_idx').on('saved_views').columns(['account_id', 'object']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('saved_views').execute();
  for (const i of ['companies_search_idx', 'deals_search_idx', 'contacts_search_idx']) await db.schema.dropIndex(i).execute();
}
