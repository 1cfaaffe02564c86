import { sql, type Kysely } from 'kysely';

// The development fallback of SECRETS_KEY (see platform/secrets.ts): a key
// generated once and kept here so every instance and restart shares it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('secret_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('secret_keys').execute();
}
