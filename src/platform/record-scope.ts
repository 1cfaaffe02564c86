// Record scope: which records of a resource an actor may see or change under a
// permission. A role grants each permission with a scope: `own` (records the
// actor owns), `team` (the actor's and those of everyone who reports to them,
// transitively, through memberships.reports_to) or `all`. Repositories apply it
// inside their SQL, never by filtering rows after the fact:
//
//   db.selectFrom('deals').selectAll().where(ownerInScope(ctx, 'crm.deals.read', 'ownerId'))
//
// A record without an owner is visible only with scope `all`.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { RequestContext } from './context.ts';

export type RecordScope = 'own' | 'team' | 'all';
export const RECORD_SCOPES: readonly RecordScope[] = ['own', 'team', 'all'];

/** The scope the actor holds `permission` with (`all` unless the role narrows it). */
export function scopeOf(ctx: Pick<RequestContext, 'actor'>, permission: string): RecordScope {
  return ctx.actor.scopes?.get(permission) ?? 'all';
}

/** A condition from `ownerInScope`, for repositories to put in their WHERE. */
export type ScopeCondition = ReturnType<typeof ownerInScope>;
/** Every record: for reading back a record the caller just wrote (e.g. handed to another owner). */
export const UNSCOPED: ScopeCondition = () => sql<SqlBool>`true`;

/** A WHERE condition restricting `ownerColumn` to the owners the actor may see under `permission`. */
export function ownerInScope(ctx: Pick<RequestContext, 'actor' | 'tenant'>, permission: string, ownerColumn: string) {
  return (_eb: ExpressionBuilder<any, any>): Expression<SqlBool> => {
    const scope = scopeOf(ctx, permission);
    if (scope === 'all') return sql<SqlBool>`true`;
    const owner = sql.ref(ownerColumn);
    if (scope === 'own') return sql<SqlBool>`${owner} = ${ctx.actor.accountId}::uuid`;
    return sql<SqlBool>`${owner} in (${teamOf(ctx.tenant.id, ctx.actor.accountId)})`;
  };
}

/**
 * The account ids of `accountId` and everyone reporting to them, directly or
 * not, in one tenant (a recursive CTE over public.memberships.reports_to; the
 * index memberships_reports_to_idx serves each step). `union` rather than
 * `union all` also ends the walk should a cycle ever be stored.
 */
export function teamOf(tenantId: string, accountId: string) {
  return sql`with recursive team(id) as (
      select ${accountId}::uuid
      union
      select m.account_id from public.memberships m join team on m.reports_to = team.id where m.tenant_id = ${tenantId}::uuid
    ) select id from team`;
}

/**
 * Whether the actor may give a record to `ownerId` under `permission` (on
 * create, or when changing the owner): within their scope, so a member with
 * scope `own` cannot hand records to others and a manager only within their team.
 */
export async function ownerAllowed(db: Kysely<any>, ctx: Pick<RequestContext, 'actor' | 'tenant'>, permission: string, ownerId: string | null): Promise<boolean> {
  const scope = scopeOf(ctx, permission);
  if (scope === 'all') return true;
  if (ownerId === null) return false;
  if (ownerId === ctx.actor.accountId) return true;
  if (scope === 'own') return false;
  const { rows } = await sql<{ found: boolean }>`select ${ownerId}::uuid in (${teamOf(ctx.tenant.id, ctx.actor.accountId)}) as found`.execute(db);
  return rows[0]?.found === true;
}
