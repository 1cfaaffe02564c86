// Data access for roles (tenant schema table `roles`) and memberships
// (`public.memberships`): plain Kysely functions over the platform database or
// a transaction on it; tenant tables are reached through `scopeToTenant`.
import { sql, type ColumnType, type Kysely } from 'kysely';
import type { PublicDatabase } from '../../platform/db/public-tables.ts';
import type { RecordScope } from '../../platform/record-scope.ts';
import { scopeToTenant } from '../../platform/context.ts';
import { teamOf } from '../../platform/record-scope.ts';

type Db = Kysely<PublicDatabase>;

export interface RolesTable {
  id: string;
  key: string;
  name: string;
  description: string;
  system: ColumnType<boolean, boolean | undefined, never>;
  /** Custom role: key → scope. System role: the tenant's changes to the defaults (null revokes). */
  permissions: ColumnType<Record<string, RecordScope | null>, string, string>;
  createdAt: ColumnType<Date, Date | undefined, never>;
  updatedAt: ColumnType<Date, Date | undefined, Date>;
}
export type RoleRow = { id: string; key: string; name: string; description: string; system: boolean; permissions: Record<string, RecordScope | null>; createdAt: Date; updatedAt: Date };

const roles = (db: Db, schema: string) => scopeToTenant(db, schema).withTables<{ roles: RolesTable }>();

/** System roles first, most powerful first; then custom roles by creation. */
export const listRoles = (db: Db, schema: string): Promise<RoleRow[]> =>
  roles(db, schema)
    .selectFrom('roles')
    .selectAll()
    .orderBy(sql`array_position(array['owner', 'admin', 'manager', 'member', 'viewer'], key) nulls last`)
    .orderBy('createdAt')
    .orderBy('key')
    .execute();

export const findRole = (db: Db, schema: string, by: { id: string } | { key: string }, lock?: 'update' | 'share'): Promise<RoleRow | undefined> =>
  roles(db, schema)
    .selectFrom('roles')
    .selectAll()
    .$if('id' in by, (q) => q.where('id', '=', (by as { id: string }).id))
    .$if('key' in by, (q) => q.where('key', '=', (by as { key: string }).key))
    .$if(lock === 'update', (q) => q.forUpdate())
    .$if(lock === 'share', (q) => q.forShare())
    .executeTakeFirst();

export const insertRole = (db: Db, schema: string, row: { id: string; key: string; name: string; description: string; permissions: Record<string, RecordScope | null> }): Promise<RoleRow> =>
  roles(db, schema)
    .insertInto('roles')
    .values({ ...row, permissions: JSON.stringify(row.permissions) })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateRole = (db: Db, schema: string, id: string, patch: { name?: string; description?: string; permissions?: Record<string, RecordScope | null> }): Promise<RoleRow> =>
  roles(db, schema)
    .updateTable('roles')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.permissions !== undefined ? { permissions: JSON.stringify(patch.permissions) } : {}),
      updatedAt: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export const deleteRole = (db: Db, schema: string, id: string) => roles(db, schema).deleteFrom('roles').where('id', '=', id).execute();

/** Members per role key. */
export async function memberCounts(db: Db, tenantId: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('memberships').select(['role', sql<number>`count(*)::int`.as('n')]).where('tenantId', '=', tenantId).groupBy('role').execute();
  return new Map(rows.map((r) => [r.role, r.n]));
}

export const countMembersWithRole = async (db: Db, tenantId: string, role: string) =>
  (await db.selectFrom('memberships').select(sql<number>`count(*)::int`.as('n')).where('tenantId', '=', tenantId).where('role', '=', role).executeTakeFirstOrThrow()).n;

export interface MemberRow {
  accountId: string;
  email: string;
  displayName: string;
  status: 'active' | 'disabled';
  role: string;
  reportsTo: string | null;
  createdAt: Date;
}

const members = (db: Db, tenantId: string) =>
  db
    .selectFrom('memberships as m')
    .innerJoin('accounts as a', 'a.id', 'm.accountId')
    .select(['m.accountId', 'a.email', 'a.displayName', 'a.status', 'm.role', 'm.reportsTo', 'm.createdAt'])
    .where('m.tenantId', '=', tenantId);

export const listMembers = (db: Db, tenantId: string, opts: { limit: number; after?: string; role?: string; reportsTo?: string }): Promise<MemberRow[]> =>
  members(db, tenantId)
    .$if(opts.after !== undefined, (q) => q.where('m.accountId', '>', opts.after!))
    .$if(opts.role !== undefined, (q) => q.where('m.role', '=', opts.role!))
    .$if(opts.reportsTo !== undefined, (q) => q.where('m.reportsTo', '=', opts.reportsTo!))
    .orderBy('m.accountId')
    .limit(opts.limit)
    .execute();

export const findMember = (db: Db, tenantId: string, accountId: string, lock = false): Promise<MemberRow | undefined> =>
  members(db, tenantId)
    .where('m.accountId', '=', accountId)
    .$if(lock, (q) => q.forUpdate(['m']))
    .executeTakeFirst();

export const updateMembership = (db: Db, tenantId: string, accountId: string, patch: { role?: string; reportsTo?: string | null }) =>
  db.updateTable('memberships').set(patch).where('tenantId', '=', tenantId).where('accountId', '=', accountId).execute();

export const deleteMembership = (db: Db, tenantId: string, accountId: string) => db.deleteFrom('memberships').where('tenantId', '=', tenantId).where('accountId', '=', accountId).execute();

/** True when `candidate` is `accountId` or reports to them, directly or not. */
export async function isInTeamOf(db: Db, tenantId: string, accountId: string, candidate: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select ${candidate}::uuid in (${teamOf(tenantId, accountId)}) as found`.execute(db);
  return rows[0]?.found === true;
}

/** Serialises membership changes of one tenant (last-owner and cycle checks), until the transaction ends. */
export const lockMemberships = (db: Db, tenantId: string) => sql`select pg_advisory_xact_lock(hashtext(${`plinth:memberships:${tenantId}`}))`.execute(db);
