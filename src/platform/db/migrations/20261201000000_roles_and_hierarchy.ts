import { sql, type Kysely } from 'kysely';

// Per-tenant roles: a membership now names a role of the tenant's `roles`
// table (system or custom) instead of one of four fixed values, and may name
// the member it reports to (the hierarchy behind record scope `team`).
// Existing values (owner/admin/member/viewer) are the keys of the system
// roles every tenant schema gets, so no row changes. `permissions` is a copy
// of the in-code registry, refreshed at boot.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table memberships drop constraint if exists memberships_role_check`.execute(db);
  await sql`alter table memberships add constraint memberships_role_key check (role ~ '^[a-z][a-z0-9-]{0,39}$')`.execute(db);
  await sql`alter table memberships add column reports_to uuid`.execute(db);
  // Same tenant by construction; removing a member detaches their reports.
  await sql`alter table memberships add constraint memberships_reports_to_fkey foreign key (tenant_id, reports_to)
    references memberships (tenant_id, account_id) on delete set null (reports_to)`.execute(db);
  await sql`alter table memberships add constraint memberships_not_own_manager check (reports_to is distinct from account_id)`.execute(db);
  await db.schema.createIndex('memberships_reports_to_idx').on('memberships').columns(['tenant_id', 'reports_to']).where(sql.ref('reports_to'), 'is not', null).execute();

  await db.schema
    .createTable('permissions')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('record_scope', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('permissions').execute();
  await sql`alter table memberships drop column reports_to`.execute(db);
  await sql`alter table memberships drop constraint memberships_role_key`.execute(db);
  await sql`update memberships set role = 'member' where role not in ('owner', 'admin', 'member', 'viewer')`.execute(db);
  await sql`alter table memberships add constraint memberships_role_check check (role in ('owner', 'admin', 'member', 'viewer'))`.execute(db);
}
