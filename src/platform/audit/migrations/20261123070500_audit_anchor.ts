import { sql, type Kysely } from 'kysely';

// Where the chain starts after retention purged its oldest rows: the last
// purged row's sequence number and hash (verification starts there).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('audit_head')
    .addColumn('anchor_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('anchor_hash', 'bytea', (c) => c.notNull().defaultTo(sql`decode(repeat('00', 32), 'hex')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_head').dropColumn('anchor_seq').dropColumn('anchor_hash').execute();
}
