// Invitations to a tenant: created by a member allowed to invite (into a role
// no higher than their own), mailed with the tenant's branding, accepted
// through the emailed token by a new account (created then) or an existing
// one (which must prove it is theirs: its password or a signed-in token).
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Platform } from '../../platform/module.ts';
import { effectiveGrants, scopeCovers } from '../../platform/permissions.ts';
import { findRole } from './access-repository.ts';
import { accessActorOf } from './access-service.ts';
import { scopeToTenant, type RequestContext } from '../../platform/context.ts';
import { auditRequest, recordAudit } from '../../platform/audit/writer.ts';
import { hashPassword, verifyPassword } from '../../platform/auth/passwords.ts';
import { passwordProblems } from '../../platform/auth/password-policy.ts';
import { isApiKey } from '../../platform/auth/api-keys.ts';
import { tenantRef } from '../../platform/http/access-guard.ts';
import { AppError } from '../../platform/errors.ts';
import * as repo from './repository.ts';
import { flowDb, hashToken, markEmailVerified, newToken, type InvitationRow } from './email-tokens.ts';
import { emailLink, type ClientSource } from './email-flows.ts';

/**
 * The one check of the role an invitation grants: a role of this tenant (system
 * or custom), the owner role only from a signed-in owner, and none of its grants
 * beyond the inviter's own at their scope (so an API key can only invite into
 * what it holds) — the same rule as giving a member a role.
 */
export async function invitableRole(platform: Pick<Platform, 'permissions' | 'db'>, ctx: RequestContext, role: string): Promise<string> {
  const row = await findRole(platform.db, ctx.tenant.schemaName, { key: role });
  if (!row) throw new AppError('validation_failed', `"${role}" is not a role of this tenant`, { errors: [{ in: 'body', pointer: '/role', detail: 'not a role of this tenant (GET /v1/roles)' }] });
  const actor = accessActorOf(ctx);
  if (row.system && row.key === 'owner' && !actor.isOwner) throw new AppError('permission_denied', 'Only owners (signed in, not with an API key) invite owners');
  const lacking = [...effectiveGrants(platform.permissions, row)].filter(([key, scope]) => !scopeCovers(actor.holds?.get(key), scope));
  if (lacking.length > 0) throw new AppError('permission_denied', `You cannot invite into the role "${role}": it holds permissions you do not`);
  return row.key;
}

/** Whether a stored invitation's role still exists (roles may change between inviting and accepting). */
const roleStillExists = async (db: Platform['db'], schemaName: string, role: string) => (await findRole(db, schemaName, { key: role })) !== undefined;

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';
const statusOf = (r: InvitationRow): InvitationStatus => (r.acceptedAt ? 'accepted' : r.revokedAt ? 'revoked' : r.expiresAt <= new Date() ? 'expired' : 'pending');
const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const invitationJson = (r: InvitationRow) => ({
  id: r.id,
  email: r.email,
  role: r.role,
  status: statusOf(r),
  invitedBy: r.invitedBy,
  createdAt: r.createdAt.toISOString(),
  expiresAt: r.expiresAt.toISOString(),
  acceptedAt: iso(r.acceptedAt),
  acceptedBy: r.acceptedBy,
  revokedAt: iso(r.revokedAt),
});

/** Closes the open invitation of an address (a new one replaces it). */
const revokeOpen = (db: Kysely<any>, tenantId: string, email: string) =>
  flowDb(db)
    .updateTable('invitations')
    .set({ revokedAt: sql`now()` })
    .where('tenantId', '=', tenantId)
    .where(sql`lower(email)`, '=', email.toLowerCase())
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .returning('id')
    .execute();

export function createInvitations(platform: Platform) {
  const { db, config, directory, tokens } = platform;
  const fdb = flowDb(db);

  return {
    async create(ctx: RequestContext, input: { email: string; role: string }) {
      const role = await invitableRole(platform, ctx, input.role);
      const email = input.email.trim();
      const existing = await repo.findAccountByEmail(db, email);
      if (existing && (await repo.accountIsMember(db, ctx.tenant.id, existing.id))) throw new AppError('already_member', `${email} is already a member of this tenant`);
      const inviter = await repo.findAccountById(db, ctx.actor.accountId);
      const { token, hash } = newToken('invitation');
      return db.transaction().execute(async (trx) => {
        const replaced = await revokeOpen(trx, ctx.tenant.id, email);
        const row = await flowDb(trx)
          .insertInto('invitations')
          .values({ id: uuidv7(), tenantId: ctx.tenant.id, email, role, invitedBy: ctx.actor.accountId, tokenHash: hash, expiresAt: sql<Date>`now() + make_interval(secs => ${config.INVITATION_TTL_SECONDS})` })
          .returningAll()
          .executeTakeFirstOrThrow();
        await platform.mail.sendTemplate(trx, ctx, {
          template: 'identity.invitation',
          to: email,
          data: { inviterName: inviter?.displayName ?? 'A member', tenantName: ctx.tenant.displayName, role, link: emailLink(config, 'accept-invitation', token) },
        });
        await auditRequest(trx, ctx, {
          action: 'identity.invitation.created',
          targetType: 'invitation',
          targetId: row.id,
          after: { email, role, expiresAt: row.expiresAt },
          ...(replaced.length > 0 ? { details: { replaced: replaced.map((r) => r.id) } } : {}),
        });
        return invitationJson(row);
      });
    },

    async list(ctx: RequestContext, q: { status?: InvitationStatus | undefined; limit: number; cursor?: string | undefined }) {
      const now = sql<Date>`now()`;
      const rows = await fdb
        .selectFrom('invitations')
        .selectAll()
        .where('tenantId', '=', ctx.tenant.id)
        .$if(q.status === 'pending', (b) => b.where('acceptedAt', 'is', null).where('revokedAt', 'is', null).where('expiresAt', '>', now))
        .$if(q.status === 'accepted', (b) => b.where('acceptedAt', 'is not', null))
        .$if(q.status === 'revoked', (b) => b.where('revokedAt', 'is not', null))
        .$if(q.status === 'expired', (b) => b.where('acceptedAt', 'is', null).where('revokedAt', 'is', null).where('expiresAt', '<=', now))
        .$if(q.cursor !== undefined, (b) => b.where('id', '<', q.cursor!))
        .orderBy('id', 'desc')
        .limit(q.limit + 1)
        .execute();
      const page = rows.slice(0, q.limit);
      return { items: page.map(invitationJson), nextCursor: rows.length > q.limit ? page.at(-1)!.id : null };
    },

    async revoke(ctx: RequestContext, id: string) {
      await db.transaction().execute(async (trx) => {
        const row = await flowDb(trx)
          .updateTable('invitations')
          .set({ revokedAt: sql`now()` })
          .where('id', '=', id)
          .where('tenantId', '=', ctx.tenant.id)
          .where('acceptedAt', 'is', null)
          .where('revokedAt', 'is', null)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new AppError('not_found', 'No such open invitation');
        await auditRequest(trx, ctx, {
          action: 'identity.invitation.revoked',
          targetType: 'invitation',
          targetId: id,
          before: { email: row.email, role: row.role },
        });
      });
    },

    /**
     * Accepts with the emailed token. A new address gets an account (password
     * required, policy applied); an existing account proves it is its own
     * with its password or an access token of that account. Accepting marks
     * the address verified (the link reached it) and does not sign in: the
     * member logs in next, with MFA when they have it.
     */
    async accept(input: { token: string; password?: string | undefined; displayName?: string | undefined; bearer?: string | undefined }, source: ClientSource) {
      const inv = await fdb
        .selectFrom('invitations')
        .selectAll()
        .where('tokenHash', '=', hashToken(input.token))
        .where('acceptedAt', 'is', null)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', sql<Date>`now()`)
        .executeTakeFirst();
      if (!inv) throw new AppError('invalid_email_token');
      const tenantRow = await directory.byId(inv.tenantId);
      if (!tenantRow) throw new AppError('invalid_email_token');
      if (tenantRow.status === 'suspended') throw new AppError('tenant_suspended');
      if (!(await roleStillExists(db, tenantRow.schemaName, inv.role))) throw new AppError('invalid_email_token', `The role "${inv.role}" of this invitation no longer exists; ask for a new invitation`);
      const tenant = tenantRef(tenantRow);
      const existing = await repo.findAccountByEmail(db, inv.email);
      let newAccount: { displayName: string; passwordHash: string } | undefined;
      if (existing) {
        if (input.bearer) {
          if (isApiKey(input.bearer)) throw new AppError('invalid_token', 'Sign in as a person: API keys cannot accept invitations');
          const claims = await tokens.verify(input.bearer);
          if (claims.accountId !== existing.id) throw new AppError('permission_denied', 'You are signed in as another account than the invited address');
        } else if (input.password !== undefined) {
          if (!(await verifyPassword(existing.passwordHash, input.password))) throw new AppError('invalid_credentials');
        } else {
          throw new AppError('unauthenticated', 'This address already has an account: send its password, or sign in and send your access token');
        }
        if (existing.status !== 'active') throw new AppError('invalid_credentials', 'This account is disabled');
      } else {
        if (input.password === undefined) {
          throw new AppError('validation_failed', 'Choose a password for your new account', { errors: [{ in: 'body', pointer: '/password', detail: 'required for a new account' }] });
        }
        const problems = passwordProblems(input.password, inv.email);
        if (problems.length > 0) throw new AppError('validation_failed', `The password ${problems.join(' and ')}`, { errors: problems.map((detail) => ({ pointer: '/password', in: 'body' as const, detail })) });
        newAccount = { displayName: input.displayName?.trim() || inv.email.split('@')[0]!, passwordHash: await hashPassword(input.password) };
      }
      const result = await db.transaction().execute(async (trx) => {
        const won = await flowDb(trx)
          .updateTable('invitations')
          .set({ acceptedAt: sql`now()` })
          .where('id', '=', inv.id)
          .where('acceptedAt', 'is', null)
          .where('revokedAt', 'is', null)
          .executeTakeFirst();
        if (won.numUpdatedRows !== 1n) throw new AppError('invalid_email_token');
        const account = existing ?? (await repo.insertAccount(trx, { email: inv.email, ...newAccount! }));
        await flowDb(trx).updateTable('invitations').set({ acceptedBy: account.id }).where('id', '=', inv.id).execute();
        await markEmailVerified(trx, account.id);
        // Already a member (joined another way meanwhile): the role they have stays.
        const joined = await trx.insertInto('memberships').values({ tenantId: inv.tenantId, accountId: account.id, role: inv.role }).onConflict((oc) => oc.columns(['tenantId', 'accountId']).doNothing()).returning('accountId').executeTakeFirst();
        const membershipCreated = joined !== undefined;
        await recordAudit(scopeToTenant(trx, tenant.schemaName), { ...source, actorId: account.id }, {
          action: 'identity.invitation.accepted',
          targetType: 'invitation',
          targetId: inv.id,
          details: { accountId: account.id, email: inv.email, role: inv.role, accountCreated: !existing, membershipCreated },
        });
        return { accountId: account.id, accountCreated: !existing, role: inv.role };
      });
      directory.invalidateMembership(inv.tenantId, result.accountId);
      return { ...result, tenant: { slug: tenant.slug, displayName: tenant.displayName } };
    },
  };
}
