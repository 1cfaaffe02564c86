import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';

// The tenant's roles. A system role's `permissions` holds the tenant's changes
// to the defaults of the in-code registry (null revokes); a custom role's the
// whole map permission key → scope (own | team | all).
export const SYSTEM_ROLE_ROWS = [
  { key: 'owner', name: 'Owner', description: 'Every permission; only owners make owners' },
  { key: 'admin', name: 'Administrator', description: 'Manages the tenant: members, roles, settings and all records' },
  { key: 'manager', name: 'Manager', description: "A member who sees and works on the records of the people reporting to them" },
  { key: 'member', name: 'Member', description: 'Works on records' },
  { key: 'viewer', name: 'Viewer', description: 'Reads records' },
] as const;

// Runs with `withSchema(<tenant schema>)`.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('roles')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique().check(sql`key ~ '^[a-z][a-z0-9-]{0,39}$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('system', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('permissions', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .execute();
  await db
    .insertInto('roles')
    .values(SYSTEM_ROLE_ROWS.map((r) => ({ id: uuidv7(), key: r.key, name: r.name, description: r.description, system: true })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('roles').execute();
}
