// Email verification and password reset. Tokens: see email-tokens.ts. Mails
// go through the mail port on the business transaction, with the tenant's
// branding, and each step writes its audit row in that same transaction.
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Config } from '../../config.ts';
import type { Platform } from '../../platform/module.ts';
import { scopeToTenant, type PublicContext, type RequestContext, type TenantRef } from '../../platform/context.ts';
import { auditSourceOf, recordAudit, type AuditEntry, type AuditSource } from '../../platform/audit/writer.ts';
import { hashPassword } from '../../platform/auth/passwords.ts';
import { passwordProblems } from '../../platform/auth/password-policy.ts';
import { createMfa } from '../../platform/auth/mfa.ts';
import { defineTenantTask } from '../../platform/jobs/tasks.ts';
import { tenantRef } from '../../platform/http/access-guard.ts';
import { AppError } from '../../platform/errors.ts';
import * as repo from './repository.ts';
import { consumeEmailToken, countEmailTokenFailure, findLiveEmailToken, issueEmailToken, issuedWithin, markEmailVerified } from './email-tokens.ts';
import { createSessionStore, sessionPolicyOf } from '../../platform/auth/sessions.ts';

/** Wrong MFA codes a reset token survives. */
const RESET_MFA_ATTEMPTS = 5;
/** A second reset mail for the same account within this window is not sent (mailbox flooding). */
const RESET_RESEND_SECONDS = 60;
export const PASSWORD_RESET_TASK = 'identity.password-reset';

export interface ClientSource {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

/** A link to the front end's page for a token. */
export function emailLink(config: Config, page: 'verify-email' | 'reset-password' | 'accept-invitation', token: string) {
  const base = (config.EMAIL_LINK_BASE_URL ?? config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/$/, '');
  return `${base}/${page}?token=${encodeURIComponent(token)}`;
}

const inTenant = (trx: Kysely<any>, tenant: { schemaName: string }, source: AuditSource, entry: AuditEntry) => recordAudit(scopeToTenant(trx, tenant.schemaName), source, entry);

/** Queues a verification mail for an account on the caller's transaction (sign-up, on request). */
export async function sendVerificationMail(platform: Pick<Platform, 'config' | 'mail'>, trx: Kysely<any>, tenant: TenantRef, account: { id: string; email: string; displayName: string }) {
  const token = await issueEmailToken(trx, { purpose: 'verify_email', accountId: account.id, tenantId: tenant.id, email: account.email, ttlSeconds: platform.config.EMAIL_VERIFY_TTL_SECONDS });
  await platform.mail.sendTemplate(trx, { tenant }, { template: 'identity.verify-email', to: account.email, data: { name: account.displayName, link: emailLink(platform.config, 'verify-email', token) } });
}

const invalidLink = () => new AppError('invalid_email_token');

export function createEmailFlows(platform: Platform) {
  const { db, config, directory } = platform;
  const mfa = createMfa(db, { issuer: config.JWT_ISSUER });

  /** The account and tenant of a live token, or the same 400 for every way it is not valid. */
  const resolve = async (token: { accountId: string; tenantId: string; email: string }) => {
    const account = await repo.findAccountById(db, token.accountId);
    const tenant = await directory.byId(token.tenantId);
    if (!account || !tenant || account.status !== 'active' || account.email.toLowerCase() !== token.email.toLowerCase()) throw invalidLink();
    return { account, tenant: tenantRef(tenant) };
  };

  return {
    async requestVerification(ctx: RequestContext) {
      const account = await repo.findAccountById(db, ctx.actor.accountId);
      if (!account) throw new AppError('invalid_token', 'The account of this token no longer exists');
      if (account.emailVerifiedAt) throw new AppError('email_already_verified');
      await db.transaction().execute(async (trx) => {
        await sendVerificationMail(platform, trx, ctx.tenant, account);
        await inTenant(trx, ctx.tenant, auditSourceOf(ctx), { action: 'auth.email.verification_requested', targetType: 'account', targetId: account.id });
      });
      return { email: account.email, expiresIn: config.EMAIL_VERIFY_TTL_SECONDS };
    },

    async verifyEmail(token: string, source: ClientSource) {
      const row = await findLiveEmailToken(db, 'verify_email', token, 1);
      if (!row) throw invalidLink();
      const { account, tenant } = await resolve(row);
      await db.transaction().execute(async (trx) => {
        if (!(await consumeEmailToken(trx, row.id))) throw invalidLink();
        await markEmailVerified(trx, account.id);
        await inTenant(trx, tenant, { ...source, actorId: account.id }, { action: 'auth.email.verified', targetType: 'account', targetId: account.id, details: { email: account.email } });
      });
      const after = await repo.findAccountById(db, account.id);
      return { email: account.email, emailVerifiedAt: after!.emailVerifiedAt!.toISOString() };
    },

    /**
     * Accepts a reset request for any address with the same answer: the
     * request only queues a job (identical work for known and unknown
     * addresses); the job looks the account up and mails the link.
     */
    async requestPasswordReset(ctx: PublicContext, email: string, source: ClientSource) {
      await platform.jobs.enqueue(db, ctx.tenant.id, PASSWORD_RESET_TASK, { email: email.trim(), ...source });
    },

    /** The job's half: mail a link when the address belongs to an active member of the tenant. */
    async sendPasswordReset(tenant: TenantRef, input: { email: string } & ClientSource) {
      const email = input.email.toLowerCase();
      const source: AuditSource = { actorId: null, requestId: input.requestId, ip: input.ip, userAgent: input.userAgent };
      const account = await repo.findAccountByEmail(db, email);
      const member = account && account.status === 'active' && (await repo.accountIsMember(db, tenant.id, account.id)) ? account : undefined;
      await db.transaction().execute(async (trx) => {
        if (!member) return inTenant(trx, tenant, source, { action: 'auth.password_reset.requested', details: { email, known: false } });
        // Serialises concurrent requests for one account, so "one mail a minute" holds under parallel jobs.
        await sql`select id from accounts where id = ${member.id} for update`.execute(trx);
        if (await issuedWithin(trx, member.id, 'password_reset', RESET_RESEND_SECONDS)) {
          return inTenant(trx, tenant, source, { action: 'auth.password_reset.requested', targetType: 'account', targetId: member.id, details: { email, known: true, mailed: false } });
        }
        const token = await issueEmailToken(trx, { purpose: 'password_reset', accountId: member.id, tenantId: tenant.id, email: member.email, ttlSeconds: config.PASSWORD_RESET_TTL_SECONDS });
        await platform.mail.sendTemplate(trx, { tenant }, {
          template: 'identity.password-reset',
          to: member.email,
          data: { name: member.displayName, link: emailLink(config, 'reset-password', token), expiresInMinutes: Math.round(config.PASSWORD_RESET_TTL_SECONDS / 60) },
        });
        return inTenant(trx, tenant, source, { action: 'auth.password_reset.requested', targetType: 'account', targetId: member.id, details: { email, known: true, mailed: true } });
      });
    },

    /**
     * Sets a new password with a reset token. Never a way around MFA: an
     * account with TOTP must also give a current code or a recovery code
     * (wrong codes count against the token). Ends every session.
     */
    async resetPassword(input: { token: string; newPassword: string; code?: string | undefined; recoveryCode?: string | undefined }, source: ClientSource) {
      const row = await findLiveEmailToken(db, 'password_reset', input.token, RESET_MFA_ATTEMPTS);
      if (!row) throw invalidLink();
      const { account, tenant } = await resolve(row);
      const problems = passwordProblems(input.newPassword, account.email);
      if (problems.length > 0) {
        throw new AppError('validation_failed', `The new password ${problems.join(' and ')}`, { errors: problems.map((detail) => ({ pointer: '/newPassword', in: 'body' as const, detail })) });
      }
      const actor: AuditSource = { ...source, actorId: account.id };
      let factor: 'totp' | 'recovery_code' | null = null;
      if (await mfa.enabled(account.id)) {
        if (input.code === undefined && input.recoveryCode === undefined) throw new AppError('mfa_code_required');
        factor = input.code !== undefined ? 'totp' : 'recovery_code';
        const ok = input.code !== undefined ? await mfa.acceptCode(account.id, input.code) : await mfa.useRecoveryCode(account.id, input.recoveryCode!);
        if (!ok) {
          await db.transaction().execute(async (trx) => {
            await countEmailTokenFailure(trx, row.id);
            await inTenant(trx, tenant, actor, { action: 'auth.mfa.failed', targetType: 'account', targetId: account.id, details: { during: 'password_reset' } });
          });
          throw new AppError('invalid_mfa_code');
        }
      }
      const passwordHash = await hashPassword(input.newPassword);
      await db.transaction().execute(async (trx) => {
        if (!(await consumeEmailToken(trx, row.id))) throw invalidLink();
        await repo.updatePasswordHash(trx, account.id, passwordHash);
        // The link reached the mailbox: the address is proven too.
        await markEmailVerified(trx, account.id);
        const sessionsRevoked = await createSessionStore(trx, sessionPolicyOf(config)).revokeAll(account.id, 'password_reset');
        await inTenant(trx, tenant, actor, { action: 'auth.password.reset', targetType: 'account', targetId: account.id, details: { sessionsRevoked, mfa: factor } });
      });
    },
  };
}

export type EmailFlows = ReturnType<typeof createEmailFlows>;

export const passwordResetTask = defineTenantTask({
  name: PASSWORD_RESET_TASK,
  payload: Type.Object({
    email: Type.String({ maxLength: 320 }),
    requestId: Type.String(),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
  }),
  maxAttempts: 5,
  async run(data, ctx) {
    await createEmailFlows(ctx.platform).sendPasswordReset(ctx.tenant, data);
  },
});
