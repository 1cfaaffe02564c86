import { sql, type Kysely } from 'kysely';

// Custom field values live in a JSONB column keyed by field id (see
// bench/crm/RESULTS.md for the measurement behind choosing JSONB over
// per-tenant columns). Runs with `withSchema(<tenant schema>)`.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('custom_fields')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('object', 'text', (c) => c.notNull().check(sql`object in ('company', 'deal')`))
    .addColumn('key', 'text', (c) => c.notNull().check(sql`key ~ '^[a-z][a-z0-9_]{0,62}$'`))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('text', 'number', 'date', 'boolean', 'select', 'multi_select', 'currency', 'relation')`))
    .addColumn('options', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('currency', 'char(3)')
    .addColumn('target', 'text', (c) => c.check(sql`target in ('company', 'contact', 'deal')`))
    .addColumn('required', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('updated_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .addCheckConstraint('custom_fields_currency', sql`(type = 'currency') = (currency is not null)`)
    .addCheckConstraint('custom_fields_target', sql`(type = 'relation') = (target is not null)`)
    .execute();
  await db.schema.createIndex('custom_fields_key_live_unique').on('custom_fields').unique().columns(['object', 'key']).where(sql.ref('deleted_at'), 'is', null).execute();

  for (const table of ['companies', 'deals']) {
    await db.schema.alterTable(table).addColumn('custom', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`)).execute();
    // Equality, in and multi-select contains filters use containment (@>).
    await db.schema.createIndex(`${table}_custom_gin`).on(table).using('gin').expression(sql`custom jsonb_path_ops`).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['companies', 'deals']) await db.schema.alterTable(table).dropColumn('custom').execute();
  await db.schema.dropTable('custom_fields').execute();
}
