import { sql, type Kysely } from 'kysely';

// Runs with `withSchema(<tenant schema>)`. One hash chain per tenant: the
// single `audit_head` row holds the last sequence number and hash; writers
// lock it (UPDATE) for the length of their transaction, so appends are
// serialised per tenant and never per platform.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('id', 'uuid', (c) => c.notNull().unique())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_id', 'uuid')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('changes', 'jsonb')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('prev_hash', 'bytea', (c) => c.notNull())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_occurred_idx').on('audit_log').columns(['occurred_at', 'seq']).execute();
  await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_id', 'seq']).execute();
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_type', 'target_id', 'seq']).execute();
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'seq']).execute();
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'boolean', (c) => c.primaryKey().defaultTo(true).check(sql`id`))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .execute();
  await db.insertInto('audit_head').values({ id: true, seq: 0, hash: Buffer.alloc(32) }).execute();

  // Raw SQL is not schema-qualified by withSchema: read the schema from the row just written.
  const { schema } = await db
    .selectFrom('audit_head')
    .select(sql<string>`(select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = tableoid)`.as('schema'))
    .executeTakeFirstOrThrow();
  const log = sql.id(schema, 'audit_log');
  await sql`create trigger audit_log_insert_only before update or delete on ${log} for each row execute function public.plinth_audit_insert_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on ${log} for each statement execute function public.plinth_audit_insert_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_head').execute();
  await db.schema.dropTable('audit_log').execute();
}
