// Accounts and memberships live in `public`: an account can belong to many
// tenants. Plain Kysely functions over the platform database or a transaction.
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { PublicDatabase } from '../../platform/db/public-tables.ts';

type Db = Kysely<PublicDatabase>;

export const findAccountByEmail = (db: Db, email: string) =>
  db.selectFrom('accounts').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();

export const findAccountById = (db: Db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();

export const findMembership = (db: Db, tenantId: string, accountId: string) =>
  db.selectFrom('memberships').selectAll().where('tenantId', '=', tenantId).where('accountId', '=', accountId).executeTakeFirst();

export const insertAccount = (db: Db, input: { email: string; displayName: string; passwordHash: string }) =>
  db
    .insertInto('accounts')
    .values({ id: uuidv7(), email: input.email, displayName: input.displayName, passwordHash: input.passwordHash })
    .returningAll()
    .executeTakeFirstOrThrow();

export const insertMembership = (db: Db, input: { tenantId: string; accountId: string; role: string }) =>
  db.insertInto('memberships').values(input).onConflict((oc) => oc.columns(['tenantId', 'accountId']).doUpdateSet({ role: input.role })).execute();

export const accountIsMember = async (db: Db, tenantId: string, accountId: string) =>
  (await db.selectFrom('memberships').select('accountId').where('tenantId', '=', tenantId).where('accountId', '=', accountId).executeTakeFirst()) !== undefined;

export const updatePasswordHash = (db: Db, accountId: string, passwordHash: string) =>
  db.updateTable('accounts').set({ passwordHash, updatedAt: new Date() }).where('id', '=', accountId).execute();

export const mfaRequiredRoles = async (db: Db, tenantId: string): Promise<string[]> =>
  ((await sql<{ roles: string[] }>`select mfa_required_roles as roles from tenant_auth_policies where tenant_id = ${tenantId}`.execute(db)).rows[0]?.roles ?? []);

export const setMfaRequiredRoles = (db: Db, tenantId: string, roles: readonly string[]) =>
  sql`insert into tenant_auth_policies (tenant_id, mfa_required_roles, updated_at) values (${tenantId}, ${[...roles]}, now())
    on conflict (tenant_id) do update set mfa_required_roles = excluded.mfa_required_roles, updated_at = now()`.execute(db);
