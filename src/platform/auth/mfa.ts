// TOTP (RFC 6238 via otpauth: SHA-1, 6 digits, 30 s, ±1 step of drift),
// hashed single-use recovery codes, and the short-lived single-use challenge
// a password login returns when the account has MFA. A code is accepted only
// for a later time step than the last accepted one, in one conditional
// UPDATE, so a code (even a concurrent copy of it) is never accepted twice.
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/database.ts';

const PERIOD = 30;
const RECOVERY_CODES = 10;
const CHALLENGE_SECONDS = 300;
const CHALLENGE_ATTEMPTS = 5;

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const totpFor = (secret: string, label: string, issuer: string) => new TOTP({ issuer, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: PERIOD });
/** Recovery codes: 10 random base32 characters as xxxxx-xxxxx (50 bits), compared without dash or case. */
const newRecoveryCode = () => {
  const raw = new Secret({ size: 10 }).base32.slice(0, 10).toLowerCase();
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
};
const normaliseRecovery = (code: string) => code.replace(/[\s-]/g, '').toLowerCase();

export function createMfa(db: Db, opts: { issuer: string }) {
  const raw = db;

  const replaceRecoveryCodes = async (accountId: string) => {
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await sql`delete from mfa_recovery_codes where account_id = ${accountId}`.execute(raw);
    for (const code of codes) await sql`insert into mfa_recovery_codes (id, account_id, code_hash) values (${uuidv7()}, ${accountId}, ${sha256(normaliseRecovery(code))})`.execute(raw);
    return codes;
  };

  return {
    async enabled(accountId: string): Promise<boolean> {
      const { rows } = await sql`select 1 from mfa_totp where account_id = ${accountId} and confirmed_at is not null`.execute(raw);
      return rows.length > 0;
    },

    /** A new, unconfirmed secret (replaces an unconfirmed one); undefined when MFA is already on. */
    async enroll(accountId: string, email: string) {
      const secret = new Secret({ size: 20 }).base32;
      const { rows } = await sql`insert into mfa_totp (account_id, secret) values (${accountId}, ${secret})
        on conflict (account_id) do update set secret = excluded.secret, created_at = now(), last_used_step = null where mfa_totp.confirmed_at is null
        returning account_id`.execute(raw);
      if (rows.length === 0) return undefined;
      return { secret, otpauthUri: totpFor(secret, email, opts.issuer).toString() };
    },

    /**
     * Accepts a current code of the account's factor (confirmed or, with
     * `pending`, the one being enrolled) and burns its time step.
     */
    async acceptCode(accountId: string, code: string, pending = false): Promise<boolean> {
      const { rows } = await sql<{ secret: string }>`select secret from mfa_totp where account_id = ${accountId} and (confirmed_at is not null) = ${!pending}`.execute(raw);
      const row = rows[0];
      if (!row || !/^\d{6}$/.test(code)) return false;
      const delta = totpFor(row.secret, '', opts.issuer).validate({ token: code, window: 1 });
      if (delta === null) return false;
      const step = TOTP.counter({ period: PERIOD }) + delta;
      const won = await sql`update mfa_totp set last_used_step = ${step}
        where account_id = ${accountId} and (last_used_step is null or last_used_step < ${step}) returning account_id`.execute(raw);
      return won.rows.length === 1;
    },

    async confirm(accountId: string, code: string): Promise<string[] | undefined> {
      if (!(await this.acceptCode(accountId, code, true))) return undefined;
      await sql`update mfa_totp set confirmed_at = now() where account_id = ${accountId}`.execute(raw);
      return replaceRecoveryCodes(accountId);
    },

    regenerateRecoveryCodes: replaceRecoveryCodes,

    /** Uses up one recovery code. */
    async useRecoveryCode(accountId: string, code: string): Promise<boolean> {
      const { rows } = await sql`update mfa_recovery_codes set used_at = now()
        where id = (select id from mfa_recovery_codes where account_id = ${accountId} and code_hash = ${sha256(normaliseRecovery(code))} and used_at is null limit 1)
          and used_at is null returning id`.execute(raw);
      return rows.length === 1;
    },

    async remainingRecoveryCodes(accountId: string): Promise<number> {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from mfa_recovery_codes where account_id = ${accountId} and used_at is null`.execute(raw);
      return rows[0]!.n;
    },

    async disable(accountId: string) {
      await sql`delete from mfa_totp where account_id = ${accountId}`.execute(raw);
      await sql`delete from mfa_recovery_codes where account_id = ${accountId}`.execute(raw);
    },

    async startChallenge(input: { accountId: string; tenantId: string; ip?: string | undefined; userAgent?: string | undefined }) {
      const token = `pmc_${randomBytes(32).toString('base64url')}`;
      await sql`insert into mfa_challenges (id, token_hash, account_id, tenant_id, ip, user_agent, expires_at)
        values (${uuidv7()}, ${sha256(token)}, ${input.accountId}, ${input.tenantId}, ${input.ip ?? null}, ${input.userAgent?.slice(0, 512) ?? null}, now() + make_interval(secs => ${CHALLENGE_SECONDS}))`.execute(raw);
      return { mfaToken: token, expiresIn: CHALLENGE_SECONDS };
    },

    /** The live challenge of a token (not used, not expired, attempts left). */
    async challenge(token: string) {
      const { rows } = await sql<{ id: string; accountId: string; tenantId: string; ip: string | null; userAgent: string | null }>`
        select id, account_id, tenant_id, ip, user_agent from mfa_challenges
        where token_hash = ${sha256(token)} and used_at is null and expires_at > now() and attempts < ${CHALLENGE_ATTEMPTS}`.execute(raw);
      return rows[0];
    },

    async failChallenge(id: string) {
      await sql`update mfa_challenges set attempts = attempts + 1 where id = ${id}`.execute(raw);
    },

    /** Marks the challenge used; false when another request used it first. */
    async completeChallenge(id: string): Promise<boolean> {
      const { rows } = await sql`update mfa_challenges set used_at = now() where id = ${id} and used_at is null returning id`.execute(raw);
      return rows.length === 1;
    },
  };
}

export type Mfa = ReturnType<typeof createMfa>;
