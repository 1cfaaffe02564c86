import { sql, type Kysely } from 'kysely';

// Per-tenant sign-in policy: the roles whose members must use MFA.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tenant_auth_policies')
    .addColumn('tenant_id', 'uuid', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
    .addColumn('mfa_required_roles', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('tenant_auth_policies').execute();
}
