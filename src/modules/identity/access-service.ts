// Business rules for roles, memberships and the reporting hierarchy. Used by
// the HTTP routes (an actor holding some permissions) and by the CLI (an
// operator, unlimited). The rules:
//  - nobody grants a permission, or a wider scope, than they hold; changing or
//    removing a grant needs the same (you cannot take away what you could not give);
//  - a member whose role holds more than you is out of your reach (you cannot
//    demote or remove them), and you can only give roles whose grants you hold;
//    only owners make, change or remove owners;
//  - system roles cannot be deleted, the owner role cannot be changed, a role
//    in use cannot be deleted, the last owner cannot be demoted or removed;
//  - reporting lines stay inside the tenant and never form a cycle.
// Every change writes its audit row in the same transaction, and drops the
// cached permission sets on every instance once committed.
import { v7 as uuidv7 } from 'uuid';
import type { Kysely, Transaction } from 'kysely';
import type { PublicDatabase } from '../../platform/db/public-tables.ts';
import { scopeToTenant, type RequestContext, type TenantRef } from '../../platform/context.ts';
import { auditSourceOf, recordAudit, type AuditEntry, type AuditSource } from '../../platform/audit/writer.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { isUniqueViolation } from '../../platform/db/pg-errors.ts';
import { effectiveGrants, scopeCovers, storedGrants, type Grants, type PermissionRegistry } from '../../platform/permissions.ts';
import type { RecordScope } from '../../platform/record-scope.ts';
import type { TenantDirectory } from '../../platform/tenancy/directory.ts';
import * as repo from './access-repository.ts';

type Db = Kysely<PublicDatabase>;

/** Who makes a change: a tenant member (limited to what they hold) or an operator (`holds` unset: the CLI). */
export interface AccessActor {
  tenant: TenantRef;
  source: AuditSource;
  holds?: Grants;
  /** Signed in as an owner (not with an API key): only owners make, change or remove owners. */
  isOwner?: boolean;
  /** Wording in errors ("you" / "the API key"). */
  isApiKey?: boolean;
}

export const accessActorOf = (ctx: RequestContext): AccessActor => ({
  tenant: ctx.tenant,
  source: auditSourceOf(ctx),
  holds: new Map([...ctx.actor.permissions].map((key) => [key, ctx.actor.scopes?.get(key) ?? 'all'])),
  isApiKey: ctx.actor.apiKeyId !== undefined,
  isOwner: ctx.actor.role === 'owner' && ctx.actor.apiKeyId === undefined,
});

export interface GrantInput {
  key: string;
  scope?: RecordScope;
}

export interface RoleView {
  id: string;
  key: string;
  name: string;
  description: string;
  system: boolean;
  permissions: Array<{ key: string; scope: RecordScope }>;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

/** A member as the API shows it: the repository row with its date as text. */
export type MemberView = Omit<repo.MemberRow, 'createdAt'> & { createdAt: string };

const ROLE_KEY_RE = /^[a-z][a-z0-9-]{0,39}$/;
const wider = (a: RecordScope | undefined, b: RecordScope | undefined): RecordScope => (scopeCovers(a ?? 'own', b ?? 'own') ? (a ?? 'own') : (b ?? 'own'));
const grantList = (grants: Grants) => [...grants].map(([key, scope]) => ({ key, scope })).sort((x, y) => x.key.localeCompare(y.key));
const memberView = (m: repo.MemberRow): MemberView => ({ ...m, createdAt: m.createdAt.toISOString() });

export function createAccessService(deps: { db: Db; permissions: PermissionRegistry; directory: Pick<TenantDirectory, 'invalidateRoles' | 'invalidateMembership'> }) {
  const { db, permissions: registry, directory } = deps;
  const grantsOf = (role: repo.RoleRow) => effectiveGrants(registry, role);
  const roleView = (row: repo.RoleRow, memberCount: number): RoleView => ({
    id: row.id,
    key: row.key,
    name: row.name,
    description: row.description,
    system: row.system,
    permissions: grantList(grantsOf(row)),
    memberCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  });
  const audit = (trx: Transaction<PublicDatabase>, actor: AccessActor, entry: AuditEntry) => recordAudit(scopeToTenant(trx, actor.tenant.schemaName), actor.source, entry);
  const inTransaction = <T>(fn: (trx: Transaction<PublicDatabase>) => Promise<T>) => db.transaction().execute(fn);

  /** Validates a list of grants: registered keys, each once, a narrower scope only on record permissions. */
  function parseGrants(list: readonly GrantInput[], pointer = '/permissions'): Map<string, RecordScope> {
    const errors: FieldError[] = [];
    const grants = new Map<string, RecordScope>();
    list.forEach((g, i) => {
      const def = registry.get(g.key);
      const scope = g.scope ?? 'all';
      if (!def) errors.push({ in: 'body', pointer: `${pointer}/${i}/key`, detail: `"${g.key}" is not a registered permission` });
      else if (grants.has(g.key)) errors.push({ in: 'body', pointer: `${pointer}/${i}/key`, detail: `"${g.key}" is listed twice` });
      else if (scope !== 'all' && !def.recordScope) errors.push({ in: 'body', pointer: `${pointer}/${i}/scope`, detail: `"${g.key}" does not cover owned records: its scope is always "all"` });
      else grants.set(g.key, scope);
    });
    if (errors.length > 0) throw new AppError('validation_failed', errors.map((e) => e.detail).join('; '), { errors });
    return grants;
  }

  /** Every grant that differs between `before` and `after` must be held by the actor, at the wider of the two scopes. */
  function assertMayChange(actor: AccessActor, before: Grants, after: Grants) {
    if (!actor.holds) return;
    const lacking: string[] = [];
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(key);
      const a = after.get(key);
      if (a === b) continue;
      const needed = wider(a, b);
      if (!scopeCovers(actor.holds.get(key), needed)) lacking.push(needed === 'all' ? key : `${key} (scope ${needed})`);
    }
    if (lacking.length > 0) {
      const who = actor.isApiKey ? 'this API key does not hold' : 'you do not hold';
      throw new AppError('permission_denied', `You cannot grant or revoke permissions ${who}: ${lacking.sort().join(', ')}`);
    }
  }

  /** The actor must hold every grant of `role` (to give it, or to change a member who has it). */
  function assertHoldsRole(actor: AccessActor, role: repo.RoleRow, why: string) {
    if (!actor.holds) return;
    // Owners hold everything an admin could hold too: the subset rule alone would let an admin make owners.
    if (role.system && role.key === 'owner' && !actor.isOwner) throw new AppError('permission_denied', `${why}: only owners (signed in, not with an API key) make, change or remove owners`);
    const lacking = [...grantsOf(role)].filter(([key, scope]) => !scopeCovers(actor.holds!.get(key), scope)).map(([key]) => key);
    if (lacking.length > 0) throw new AppError('permission_denied', `${why}: the role "${role.key}" holds permissions you do not (${lacking.sort().slice(0, 5).join(', ')}${lacking.length > 5 ? ', …' : ''})`);
  }

  const requireRole = async (trx: Db, actor: AccessActor, id: string, lock?: 'update' | 'share') => {
    const row = await repo.findRole(trx, actor.tenant.schemaName, { id }, lock);
    if (!row) throw new AppError('not_found', 'No such role');
    return row;
  };
  const requireMember = async (trx: Db, actor: AccessActor, accountId: string, lock = false) => {
    const m = await repo.findMember(trx, actor.tenant.id, accountId, lock);
    if (!m) throw new AppError('not_found', 'No such member');
    return m;
  };

  const service = {
    async listRoles(actor: AccessActor): Promise<RoleView[]> {
      const [rows, counts] = await Promise.all([repo.listRoles(db, actor.tenant.schemaName), repo.memberCounts(db, actor.tenant.id)]);
      return rows.map((r) => roleView(r, counts.get(r.key) ?? 0));
    },

    async getRole(actor: AccessActor, id: string): Promise<RoleView> {
      const row = await requireRole(db, actor, id);
      return roleView(row, await repo.countMembersWithRole(db, actor.tenant.id, row.key));
    },

    async findRoleByKey(actor: AccessActor, key: string): Promise<RoleView | undefined> {
      const row = await repo.findRole(db, actor.tenant.schemaName, { key });
      return row && roleView(row, await repo.countMembersWithRole(db, actor.tenant.id, row.key));
    },

    async createRole(actor: AccessActor, input: { key: string; name: string; description?: string; permissions: readonly GrantInput[] }): Promise<RoleView> {
      if (!ROLE_KEY_RE.test(input.key)) throw new AppError('validation_failed', 'A role key is 1-40 lowercase letters, digits and dashes, starting with a letter', { errors: [{ in: 'body', pointer: '/key', detail: 'must match ^[a-z][a-z0-9-]{0,39}$' }] });
      const grants = parseGrants(input.permissions);
      assertMayChange(actor, new Map(), grants);
      try {
        return await inTransaction(async (trx) => {
          const row = await repo.insertRole(trx, actor.tenant.schemaName, {
            id: uuidv7(),
            key: input.key,
            name: input.name.trim(),
            description: input.description?.trim() ?? '',
            permissions: storedGrants(registry, { key: input.key, system: false }, grants),
          });
          await audit(trx, actor, { action: 'identity.role.created', targetType: 'role', targetId: row.id, after: { key: row.key, name: row.name, description: row.description, permissions: Object.fromEntries(grants) } });
          return roleView(row, 0);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('role_key_taken', `A role with the key "${input.key}" already exists`, { errors: [{ in: 'body', pointer: '/key', detail: 'already used by another role' }], cause: error });
        throw error;
      }
    },

    /** `permissions` replaces the role's whole grant list; `grant`/`revoke` change one permission. */
    async updateRole(
      actor: AccessActor,
      id: string,
      patch: { name?: string; description?: string; permissions?: readonly GrantInput[]; grant?: GrantInput; revoke?: string },
    ): Promise<RoleView> {
      const view = await inTransaction(async (trx) => {
        const row = await requireRole(trx, actor, id, 'update');
        if (row.system && row.key === 'owner') throw new AppError('role_protected', 'The owner role holds every permission; it cannot be changed');
        const before = grantsOf(row);
        let after: Map<string, RecordScope> | undefined;
        if (patch.permissions !== undefined) after = parseGrants(patch.permissions);
        if (patch.grant) after = new Map([...before, ...parseGrants([patch.grant], '/grant')]);
        if (patch.revoke !== undefined) {
          if (!registry.has(patch.revoke)) throw new AppError('validation_failed', `"${patch.revoke}" is not a registered permission`, { errors: [{ in: 'body', pointer: '/revoke', detail: 'not a registered permission' }] });
          after = new Map(before);
          after.delete(patch.revoke);
        }
        if (after) assertMayChange(actor, before, after);
        const updated = await repo.updateRole(trx, actor.tenant.schemaName, row.id, {
          ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
          ...(patch.description !== undefined ? { description: patch.description.trim() } : {}),
          ...(after ? { permissions: storedGrants(registry, row, after) } : {}),
        });
        await audit(trx, actor, {
          action: 'identity.role.updated',
          targetType: 'role',
          targetId: row.id,
          before: { key: row.key, name: row.name, description: row.description, permissions: Object.fromEntries(before) },
          after: { key: row.key, name: updated.name, description: updated.description, permissions: Object.fromEntries(after ?? before) },
        });
        return roleView(updated, await repo.countMembersWithRole(trx, actor.tenant.id, row.key));
      });
      await directory.invalidateRoles(actor.tenant.id);
      return view;
    },

    async deleteRole(actor: AccessActor, id: string): Promise<void> {
      await inTransaction(async (trx) => {
        const row = await requireRole(trx, actor, id, 'update');
        if (row.system) throw new AppError('role_protected', `"${row.key}" is a system role; it cannot be deleted`);
        const inUse = await repo.countMembersWithRole(trx, actor.tenant.id, row.key);
        if (inUse > 0) throw new AppError('role_in_use', `${inUse} member(s) still have the role "${row.key}": give them another role first`);
        await repo.deleteRole(trx, actor.tenant.schemaName, row.id);
        await audit(trx, actor, { action: 'identity.role.deleted', targetType: 'role', targetId: row.id, before: { key: row.key, name: row.name, description: row.description, permissions: Object.fromEntries(grantsOf(row)) } });
      });
      await directory.invalidateRoles(actor.tenant.id);
    },

    async listMembers(actor: AccessActor, query: { limit: number; after?: string; role?: string; reportsTo?: string }): Promise<{ data: MemberView[]; nextCursor: string | null }> {
      const rows = await repo.listMembers(db, actor.tenant.id, { ...query, limit: query.limit + 1 });
      const data = rows.slice(0, query.limit).map(memberView);
      return { data, nextCursor: rows.length > query.limit ? data.at(-1)!.accountId : null };
    },

    async getMember(actor: AccessActor, accountId: string): Promise<MemberView> {
      return memberView(await requireMember(db, actor, accountId));
    },

    async updateMember(actor: AccessActor, accountId: string, patch: { role?: string; reportsTo?: string | null }): Promise<MemberView> {
      let roleChanged = false;
      const view = await inTransaction(async (trx) => {
        await repo.lockMemberships(trx, actor.tenant.id);
        const member = await requireMember(trx, actor, accountId, true);
        const current = await repo.findRole(trx, actor.tenant.schemaName, { key: member.role });
        if (current) assertHoldsRole(actor, current, 'You cannot change this member');
        const changes: { role?: string; reportsTo?: string | null } = {};
        if (patch.role !== undefined && patch.role !== member.role) {
          const next = await repo.findRole(trx, actor.tenant.schemaName, { key: patch.role }, 'share');
          if (!next) throw new AppError('invalid_reference', `This tenant has no role "${patch.role}"`, { errors: [{ in: 'body', pointer: '/role', detail: 'no such role in this tenant' }] });
          assertHoldsRole(actor, next, 'You cannot give this role');
          if (member.role === 'owner' && (await repo.countMembersWithRole(trx, actor.tenant.id, 'owner')) <= 1) {
            throw new AppError('last_owner', 'This is the last owner of the tenant: make another member owner first');
          }
          changes.role = next.key;
        }
        if (patch.reportsTo !== undefined && patch.reportsTo !== member.reportsTo) {
          if (patch.reportsTo !== null) {
            const manager = await repo.findMember(trx, actor.tenant.id, patch.reportsTo);
            if (!manager) throw new AppError('invalid_reference', 'reportsTo must be a member of this tenant', { errors: [{ in: 'body', pointer: '/reportsTo', detail: 'not a member of this tenant' }] });
            if (await repo.isInTeamOf(trx, actor.tenant.id, accountId, patch.reportsTo)) {
              throw new AppError('hierarchy_cycle', patch.reportsTo === accountId ? 'A member cannot report to themselves' : 'That member already reports (directly or not) to this one', {
                errors: [{ in: 'body', pointer: '/reportsTo', detail: 'would make a reporting cycle' }],
              });
            }
          }
          changes.reportsTo = patch.reportsTo;
        }
        if (Object.keys(changes).length === 0) return memberView(member);
        await repo.updateMembership(trx, actor.tenant.id, accountId, changes);
        const after = { role: changes.role ?? member.role, reportsTo: changes.reportsTo === undefined ? member.reportsTo : changes.reportsTo };
        await audit(trx, actor, { action: 'identity.member.updated', targetType: 'account', targetId: accountId, before: { role: member.role, reportsTo: member.reportsTo }, after });
        roleChanged = changes.role !== undefined;
        return memberView({ ...member, ...after });
      });
      if (roleChanged) await directory.invalidateMembership(actor.tenant.id, accountId);
      return view;
    },

    async removeMember(actor: AccessActor, accountId: string): Promise<void> {
      await inTransaction(async (trx) => {
        await repo.lockMemberships(trx, actor.tenant.id);
        const member = await requireMember(trx, actor, accountId, true);
        const current = await repo.findRole(trx, actor.tenant.schemaName, { key: member.role });
        if (current) assertHoldsRole(actor, current, 'You cannot remove this member');
        if (member.role === 'owner' && (await repo.countMembersWithRole(trx, actor.tenant.id, 'owner')) <= 1) {
          throw new AppError('last_owner', 'This is the last owner of the tenant; it cannot be removed');
        }
        await repo.deleteMembership(trx, actor.tenant.id, accountId);
        await audit(trx, actor, { action: 'identity.member.removed', targetType: 'account', targetId: accountId, before: { email: member.email, role: member.role, reportsTo: member.reportsTo } });
      });
      await directory.invalidateMembership(actor.tenant.id, accountId);
    },
  };
  return service;
}

export type AccessService = ReturnType<typeof createAccessService>;
