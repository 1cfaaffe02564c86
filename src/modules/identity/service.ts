import type { Kysely } from 'kysely';
import type { PublicDatabase } from '../../platform/db/public-tables.ts';
import type { PublicContext, RequestContext } from '../../platform/context.ts';
import type { TokenService } from '../../platform/auth/tokens.ts';
import type { SessionStore } from '../../platform/auth/sessions.ts';
import type { LoginThrottle } from '../../platform/auth/login-throttle.ts';
import type { Mfa } from '../../platform/auth/mfa.ts';
import { appendAudit, auditRequest, auditSourceOf, type AuditEntry, type AuditSource } from '../../platform/audit/writer.ts';
import { hashPassword, needsRehash, verifyPassword } from '../../platform/auth/passwords.ts';
import { passwordProblems } from '../../platform/auth/password-policy.ts';
import { AppError } from '../../platform/errors.ts';
import * as repo from './repository.ts';
import { listRoles } from './access-repository.ts';

export interface IdentityDeps {
  db: Kysely<PublicDatabase>;
  tokens: TokenService;
  sessions: SessionStore;
  throttle: LoginThrottle;
  mfa: Mfa;
  /** Writes a security event to the log (the audit row is written here). */
  securityLog: (event: string, data: Record<string, unknown>) => void;
  /** The schema of a tenant, to write its audit rows. */
  schemaOf: (tenantId: string) => Promise<string | undefined>;
  /** The MFA and session stores bound to a transaction: a change and its audit row commit together. */
  storesOn: (trx: Kysely<PublicDatabase>) => { mfa: Mfa; sessions: SessionStore };
}

/** Where a request comes from, recorded on its session. */
export interface ClientInfo {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export function createIdentityService({ db, tokens, sessions, throttle, mfa, securityLog, schemaOf, storesOn }: IdentityDeps) {
  const anonymous = (ctx: PublicContext, client: ClientInfo): AuditSource => ({ actorId: null, requestId: ctx.requestId, ip: client.ip ?? null, userAgent: client.userAgent ?? null });
  const auditIn = (ctx: { tenant: { schemaName: string } }, source: AuditSource, entry: AuditEntry) => appendAudit(db, ctx.tenant.schemaName, source, entry);

  /** Runs a change of the caller's sign-in (MFA, sessions) and its audit row in one transaction. */
  const changeOwn = <T>(ctx: RequestContext, fn: (t: { mfa: Mfa; sessions: SessionStore; audit: (entry: AuditEntry) => Promise<unknown> }) => Promise<T>) =>
    db.transaction().execute((trx) => fn({ ...storesOn(trx), audit: (entry) => auditRequest(trx, ctx, entry) }));

  /** Audits a wrong MFA code given by a signed-in member; returns the error to throw. */
  const failedCode = async (ctx: RequestContext, during: string) => {
    await auditIn(ctx, auditSourceOf(ctx), { action: 'auth.mfa.failed', targetType: 'account', targetId: ctx.actor.accountId, details: { during } });
    return badCode();
  };

  /** True when the tenant requires MFA for the member's role and the account has none. */
  const mustEnroll = async (accountId: string, tenantId: string) => {
    const required = await repo.mfaRequiredRoles(db, tenantId);
    if (required.length === 0) return false;
    const membership = await repo.findMembership(db, tenantId, accountId);
    return !!membership && required.includes(membership.role) && !(await mfa.enabled(accountId));
  };
  const pair = async (session: { accountId: string; tenantId: string; sessionId: string }, refreshToken: string) => ({
    ...(await tokens.issue({ ...session, ...((await mustEnroll(session.accountId, session.tenantId)) ? { restricted: 'mfa_enrollment' as const } : {}) })),
    refreshToken,
    sessionId: session.sessionId,
  });

  return {
    /**
     * Email + password login into the request's tenant. Unknown email, wrong
     * password, disabled account and "not a member of this tenant" all get
     * the same answer, after the same amount of hashing work, and count
     * against the same (email, IP) throttle.
     */
    async login(ctx: PublicContext, input: { email: string; password: string }, client: ClientInfo = {}) {
      const email = input.email.trim();
      const ip = client.ip ?? 'unknown';
      const locked = await throttle.lockedFor(email, ip);
      if (locked > 0) throw new AppError('rate_limited', `Too many failed logins for this email from your address; retry in ${locked} s`, { headers: { 'retry-after': String(locked) } });
      const account = await repo.findAccountByEmail(db, email);
      const passwordOk = await verifyPassword(account?.passwordHash, input.password);
      const membership = account && passwordOk ? await repo.findMembership(db, ctx.tenant.id, account.id) : undefined;
      if (!account || !passwordOk || account.status !== 'active' || !membership) {
        const { failures, lockSeconds } = await throttle.fail(email, ip);
        if (lockSeconds > 0) securityLog('login_throttled', { tenantId: ctx.tenant.id, ip, failures, lockSeconds });
        await auditIn(ctx, anonymous(ctx, client), { action: 'auth.login.failed', details: { email: email.toLowerCase(), failures, lockSeconds } });
        throw new AppError('invalid_credentials');
      }
      await throttle.succeed(email, ip);
      // The clear password is at hand only now: upgrade hashes made with older parameters.
      if (needsRehash(account.passwordHash)) await repo.updatePasswordHash(db, account.id, await hashPassword(input.password));
      if (await mfa.enabled(account.id)) {
        // The password was right; tokens only after the second factor (POST /v1/auth/mfa/verify).
        await auditIn(ctx, { ...anonymous(ctx, client), actorId: account.id }, { action: 'auth.login.mfa_required', targetType: 'account', targetId: account.id });
        return { mfaRequired: true as const, ...(await mfa.startChallenge({ accountId: account.id, tenantId: ctx.tenant.id, ...client })) };
      }
      const started = await sessions.start({ accountId: account.id, tenantId: ctx.tenant.id, ...client });
      await auditIn(ctx, { ...anonymous(ctx, client), actorId: account.id }, { action: 'auth.login.succeeded', targetType: 'session', targetId: started.sessionId });
      return pair({ accountId: account.id, tenantId: ctx.tenant.id, sessionId: started.sessionId }, started.refreshToken);
    },

    /** Second step of a login with MFA: a TOTP code or a recovery code against the challenge. */
    async verifyMfa(
      input: { mfaToken: string; code?: string | undefined; recoveryCode?: string | undefined },
      checkTenant: (tenantId: string, accountId: string) => Promise<{ schemaName: string }>,
      client: ClientInfo & { requestId: string },
    ) {
      const challenge = await mfa.challenge(input.mfaToken);
      if (!challenge) throw new AppError('invalid_mfa_code', 'The MFA challenge is unknown, used or expired; log in again');
      const ok = input.code !== undefined ? await mfa.acceptCode(challenge.accountId, input.code) : await mfa.useRecoveryCode(challenge.accountId, input.recoveryCode ?? '');
      const tenant = await checkTenant(challenge.tenantId, challenge.accountId);
      const source: AuditSource = { actorId: challenge.accountId, requestId: client.requestId, ip: client.ip ?? null, userAgent: client.userAgent ?? null };
      if (!ok) {
        await mfa.failChallenge(challenge.id);
        await auditIn({ tenant }, source, { action: 'auth.mfa.failed', targetType: 'account', targetId: challenge.accountId });
        throw new AppError('invalid_mfa_code');
      }
      if (!(await mfa.completeChallenge(challenge.id))) throw new AppError('invalid_mfa_code', 'The MFA challenge was already used; log in again');
      const started = await sessions.start({ accountId: challenge.accountId, tenantId: challenge.tenantId, ip: challenge.ip ?? undefined, userAgent: challenge.userAgent ?? undefined });
      await auditIn({ tenant }, source, {
        action: 'auth.login.succeeded',
        targetType: 'session',
        targetId: started.sessionId,
        details: { mfa: input.code !== undefined ? 'totp' : 'recovery_code' },
      });
      return pair({ accountId: challenge.accountId, tenantId: challenge.tenantId, sessionId: started.sessionId }, started.refreshToken);
    },

    async getPolicy(ctx: RequestContext) {
      return { mfaRequiredRoles: await repo.mfaRequiredRoles(db, ctx.tenant.id) };
    },

    async setPolicy(ctx: RequestContext, input: { mfaRequiredRoles: string[] }) {
      const mfaRequiredRoles = [...new Set(input.mfaRequiredRoles)].sort();
      // Keys of the tenant's roles (system or custom) only.
      const known = new Set((await listRoles(db, ctx.tenant.schemaName)).map((r) => r.key));
      const unknown = input.mfaRequiredRoles.map((key, i) => ({ key, i })).filter((r) => !known.has(r.key));
      if (unknown.length > 0) {
        throw new AppError('validation_failed', `This tenant has no role ${unknown.map((u) => `"${u.key}"`).join(', ')}`, {
          errors: unknown.map((u) => ({ in: 'body' as const, pointer: `/mfaRequiredRoles/${u.i}`, detail: 'no such role in this tenant' })),
        });
      }
      await db.transaction().execute(async (trx) => {
        const before = await repo.mfaRequiredRoles(trx, ctx.tenant.id);
        await repo.setMfaRequiredRoles(trx, ctx.tenant.id, mfaRequiredRoles);
        await auditRequest(trx, ctx, {
          action: 'auth.policy.updated',
          targetType: 'tenant',
          targetId: ctx.tenant.id,
          before: { mfaRequiredRoles: before },
          after: { mfaRequiredRoles },
        });
      });
      return { mfaRequiredRoles };
    },

    async mfaStatus(ctx: RequestContext) {
      const enabled = await mfa.enabled(ctx.actor.accountId);
      return { enabled, recoveryCodesLeft: enabled ? await mfa.remainingRecoveryCodes(ctx.actor.accountId) : 0 };
    },

    async enrollTotp(ctx: RequestContext) {
      const account = await repo.findAccountById(db, ctx.actor.accountId);
      const enrolled = await changeOwn(ctx, async (t) => {
        const started = account ? await t.mfa.enroll(account.id, account.email) : undefined;
        if (started) await t.audit({ action: 'auth.mfa.enrollment_started', targetType: 'account', targetId: ctx.actor.accountId });
        return started;
      });
      if (!enrolled) throw new AppError('mfa_already_enabled');
      return enrolled;
    },

    async confirmTotp(ctx: RequestContext, code: string) {
      const recoveryCodes = await changeOwn(ctx, async (t) => {
        const codes = await t.mfa.confirm(ctx.actor.accountId, code);
        if (codes) await t.audit({ action: 'auth.mfa.enabled', targetType: 'account', targetId: ctx.actor.accountId });
        return codes;
      });
      if (!recoveryCodes) throw await failedCode(ctx, 'enrollment');
      return { recoveryCodes };
    },

    async regenerateRecoveryCodes(ctx: RequestContext, code: string) {
      if (!(await mfa.acceptCode(ctx.actor.accountId, code))) throw await failedCode(ctx, 'recovery_codes');
      const recoveryCodes = await changeOwn(ctx, async (t) => {
        const codes = await t.mfa.regenerateRecoveryCodes(ctx.actor.accountId);
        await t.audit({ action: 'auth.mfa.recovery_codes_regenerated', targetType: 'account', targetId: ctx.actor.accountId });
        return codes;
      });
      return { recoveryCodes };
    },

    /** Turning MFA off needs a fresh code or the password. */
    async disableMfa(ctx: RequestContext, input: { code?: string | undefined; password?: string | undefined }) {
      if (!(await mfa.enabled(ctx.actor.accountId))) throw new AppError('not_found', 'MFA is not enabled');
      const account = await repo.findAccountById(db, ctx.actor.accountId);
      const ok = input.code !== undefined ? await mfa.acceptCode(ctx.actor.accountId, input.code) : await verifyPassword(account?.passwordHash, input.password ?? '');
      if (!ok) {
        if (input.code !== undefined) throw await failedCode(ctx, 'disable');
        await auditIn(ctx, auditSourceOf(ctx), { action: 'auth.password.failed', targetType: 'account', targetId: ctx.actor.accountId, details: { during: 'mfa_disable' } });
        throw new AppError('wrong_password');
      }
      await changeOwn(ctx, async (t) => {
        await t.mfa.disable(ctx.actor.accountId);
        await t.audit({ action: 'auth.mfa.disabled', targetType: 'account', targetId: ctx.actor.accountId });
      });
    },

    /**
     * Trades a refresh token for a new pair. `checkTenant` validates the
     * session's tenant (usable, and the one the request names) and that the
     * account is still an active member before anything is issued.
     */
    async refresh(refreshToken: string, checkTenant: (tenantId: string, accountId: string) => Promise<unknown>, client: ClientInfo & { requestId: string }) {
      const outcome = await sessions.refresh(refreshToken);
      if (outcome.kind === 'reuse') {
        securityLog('refresh_token_reuse', { ...outcome.session });
        const schema = await schemaOf(outcome.session.tenantId);
        if (schema) {
          await appendAudit(db, schema, { actorId: null, requestId: client.requestId, ip: client.ip ?? null, userAgent: client.userAgent ?? null }, {
            action: 'auth.refresh_token.reused',
            targetType: 'session',
            targetId: outcome.session.sessionId,
            details: { accountId: outcome.session.accountId, sessionRevoked: true },
          });
        }
        throw new AppError('invalid_refresh_token');
      }
      if (outcome.kind === 'invalid') throw new AppError('invalid_refresh_token', outcome.reason === 'expired' ? 'The session has expired; log in again' : undefined);
      await checkTenant(outcome.session.tenantId, outcome.session.accountId);
      return pair(outcome.session, outcome.refreshToken);
    },

    /** Changes the caller's password (the current one proves it is them) and ends their other sessions. */
    async changePassword(ctx: RequestContext, input: { currentPassword: string; newPassword: string }) {
      const account = await repo.findAccountById(db, ctx.actor.accountId);
      if (!account || !(await verifyPassword(account.passwordHash, input.currentPassword))) {
        await auditIn(ctx, auditSourceOf(ctx), { action: 'auth.password.failed', targetType: 'account', targetId: ctx.actor.accountId, details: { during: 'password_change' } });
        throw new AppError('wrong_password');
      }
      const problems = input.newPassword === input.currentPassword ? ['must differ from the current password'] : passwordProblems(input.newPassword, account.email);
      if (problems.length > 0) {
        throw new AppError('validation_failed', `The new password ${problems.join(' and ')}`, { errors: problems.map((detail) => ({ pointer: '/newPassword', in: 'body' as const, detail })) });
      }
      const passwordHash = await hashPassword(input.newPassword);
      await db.transaction().execute(async (trx) => {
        await repo.updatePasswordHash(trx, account.id, passwordHash);
        const revoked = await storesOn(trx).sessions.revokeAll(account.id, 'password_changed', ctx.actor.sessionId ? { except: ctx.actor.sessionId } : {});
        await auditRequest(trx, ctx, { action: 'auth.password.changed', targetType: 'account', targetId: account.id, details: { sessionsRevoked: revoked } });
      });
    },

    async logout(ctx: RequestContext) {
      await changeOwn(ctx, async (t) => {
        if (ctx.actor.sessionId) await t.sessions.revoke(ctx.actor.sessionId, 'logout');
        await t.audit({ action: 'auth.logout', targetType: 'session', ...(ctx.actor.sessionId ? { targetId: ctx.actor.sessionId } : {}) });
      });
    },

    /** Ends every session of the caller's account, in every tenant. */
    async logoutAll(ctx: RequestContext) {
      const revoked = await changeOwn(ctx, async (t) => {
        const n = await t.sessions.revokeAll(ctx.actor.accountId, 'logout_all');
        await t.audit({ action: 'auth.logout_all', targetType: 'account', targetId: ctx.actor.accountId, details: { revoked: n } });
        return n;
      });
      return { revoked };
    },

    async listSessions(ctx: RequestContext) {
      const rows = await sessions.list(ctx.actor.accountId, ctx.tenant.id);
      return {
        items: rows.map((r) => ({
          ...r,
          createdAt: r.createdAt.toISOString(),
          lastUsedAt: r.lastUsedAt.toISOString(),
          expiresAt: r.expiresAt.toISOString(),
          current: r.id === ctx.actor.sessionId,
        })),
      };
    },

    async revokeSession(ctx: RequestContext, sessionId: string) {
      await changeOwn(ctx, async (t) => {
        if (!(await t.sessions.revokeOwn(ctx.actor.accountId, ctx.tenant.id, sessionId, 'revoked_by_user'))) throw new AppError('not_found', 'No such session');
        await t.audit({ action: 'auth.session.revoked', targetType: 'session', targetId: sessionId });
      });
    },

    async revokeOtherSessions(ctx: RequestContext) {
      const revoked = await changeOwn(ctx, async (t) => {
        const n = await t.sessions.revokeAll(ctx.actor.accountId, 'revoked_by_user', { tenantId: ctx.tenant.id, ...(ctx.actor.sessionId ? { except: ctx.actor.sessionId } : {}) });
        await t.audit({ action: 'auth.session.revoked_others', targetType: 'account', targetId: ctx.actor.accountId, details: { revoked: n } });
        return n;
      });
      return { revoked };
    },

    async me(ctx: RequestContext) {
      const account = await repo.findAccountById(db, ctx.actor.accountId);
      if (!account) throw new AppError('invalid_token', 'The account of this token no longer exists');
      return {
        account: { id: account.id, email: account.email, displayName: account.displayName, emailVerifiedAt: account.emailVerifiedAt?.toISOString() ?? null },
        tenant: { id: ctx.tenant.id, slug: ctx.tenant.slug, displayName: ctx.tenant.displayName },
        role: ctx.actor.role,
        permissions: [...ctx.actor.permissions].sort(),
      };
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

const badCode = () => new AppError('validation_failed', 'The code is wrong or was already used', { errors: [{ pointer: '/code', in: 'body', detail: 'wrong or already used' }] });

/**
 * Creates (or finds) an account and makes it a member of a tenant with a
 * role. Used by provisioning (the owner), the demo seed and the tests; the
 * invitation flow of the identity issue will build on it.
 */
export async function ensureMember(
  db: Kysely<PublicDatabase>,
  input: { tenantId: string; email: string; displayName: string; password: string; role: string },
) {
  const existing = await repo.findAccountByEmail(db, input.email);
  const account = existing ?? (await repo.insertAccount(db, { email: input.email, displayName: input.displayName, passwordHash: await hashPassword(input.password) }));
  await repo.insertMembership(db, { tenantId: input.tenantId, accountId: account.id, role: input.role });
  return account;
}
