// Login sessions and their refresh tokens (RFC 9700 §4.14 rotation).
//
// A session is one refresh-token family. Each refresh token is 256 random
// bits shown once and stored as SHA-256. Refreshing marks the token used with
// one conditional UPDATE, so of concurrent refreshes exactly one wins and
// creates the successor. The successor is HMAC(salt, presented token) with a
// random salt kept on the used row: within the grace window a repeat of the
// same (used) token gets that same successor back, recomputed from the token
// the client holds (a lost response or a racing tab), and the family still
// has one live token. Outside the window, or once the successor is used, a
// used token means a copy is in someone else's hands: the whole session is
// revoked. An expired session is never treated as reuse.
// Written by hand: no library implements refresh families over our tables.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/database.ts';
import type { Config } from '../../config.ts';
import type { AuthTables } from './tables.ts';

export interface SessionPolicy {
  /** A session unused for this long ends. */
  idleSeconds: number;
  /** A session ends this long after login, used or not. */
  absoluteSeconds: number;
  /** How long after a refresh the same token still gets the same successor back. */
  reuseGraceSeconds: number;
}

export const sessionPolicyOf = (config: Pick<Config, 'SESSION_IDLE_TIMEOUT_SECONDS' | 'SESSION_MAX_LIFETIME_SECONDS' | 'REFRESH_REUSE_GRACE_SECONDS'>): SessionPolicy => ({
  idleSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
  absoluteSeconds: config.SESSION_MAX_LIFETIME_SECONDS,
  reuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
});

export interface SessionInfo {
  sessionId: string;
  accountId: string;
  tenantId: string;
}

export type RefreshOutcome =
  | { kind: 'ok'; session: SessionInfo; refreshToken: string }
  | { kind: 'invalid'; reason: 'unknown' | 'expired' | 'revoked' }
  | { kind: 'reuse'; session: SessionInfo };

const TOKEN_PREFIX = 'prt_';
const hashToken = (token: string) => createHash('sha256').update(token).digest();
const newToken = () => TOKEN_PREFIX + randomBytes(32).toString('base64url');
const successorOf = (salt: Buffer, token: string) => TOKEN_PREFIX + createHmac('sha256', salt).update(token).digest('base64url');

export function createSessionStore(platformDb: Db, policy: SessionPolicy) {
  const db = platformDb.withTables<AuthTables>();
  const idle = sql`make_interval(secs => ${policy.idleSeconds})`;

  return {
    policy,

    /** Starts a session at login; returns its first refresh token. */
    async start(input: { accountId: string; tenantId: string; userAgent?: string | undefined; ip?: string | undefined }) {
      const sessionId = uuidv7();
      const refreshToken = newToken();
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('sessions')
          .values({
            id: sessionId,
            accountId: input.accountId,
            tenantId: input.tenantId,
            userAgent: input.userAgent?.slice(0, 512) ?? null,
            ip: input.ip ?? null,
            expiresAt: sql<Date>`now() + make_interval(secs => ${policy.absoluteSeconds})`,
            revokedAt: null,
            revokedReason: null,
          })
          .execute();
        await trx.insertInto('refreshTokens').values({ id: uuidv7(), sessionId, parentId: null, tokenHash: hashToken(refreshToken) }).execute();
      });
      return { sessionId, refreshToken };
    },

    async refresh(token: string): Promise<RefreshOutcome> {
      if (!token.startsWith(TOKEN_PREFIX)) return { kind: 'invalid', reason: 'unknown' };
      const tokenHash = hashToken(token);
      const salt = randomBytes(32);
      const won = await db.transaction().execute(async (trx) => {
        // The single winner: only one UPDATE can see used_at IS NULL.
        const row = await sql<SessionInfo & { tokenId: string }>`
          update ${sql.table('refresh_tokens')} rt set used_at = now(), child_salt = ${salt}
          from ${sql.table('sessions')} s
          where rt.token_hash = ${tokenHash} and rt.used_at is null and s.id = rt.session_id
            and s.revoked_at is null and s.expires_at > now() and s.last_used_at > now() - ${idle}
          returning rt.id as token_id, s.id as session_id, s.account_id, s.tenant_id`.execute(trx);
        const hit = row.rows[0];
        if (!hit) return undefined;
        const refreshToken = successorOf(salt, token);
        await trx.insertInto('refreshTokens').values({ id: uuidv7(), sessionId: hit.sessionId, parentId: hit.tokenId, tokenHash: hashToken(refreshToken) }).execute();
        await trx.updateTable('sessions').set({ lastUsedAt: sql`now()` }).where('id', '=', hit.sessionId).execute();
        return { session: { sessionId: hit.sessionId, accountId: hit.accountId, tenantId: hit.tenantId }, refreshToken };
      });
      if (won) return { kind: 'ok', ...won };

      const found = await db
        .selectFrom('refreshTokens as rt')
        .innerJoin('sessions as s', 's.id', 'rt.sessionId')
        .select([
          'rt.id as tokenId',
          'rt.usedAt',
          'rt.childSalt',
          's.id as sessionId',
          's.accountId',
          's.tenantId',
          's.revokedAt',
          sql<boolean>`s.expires_at <= now() or s.last_used_at <= now() - ${idle}`.as('expired'),
          sql<boolean>`rt.used_at > now() - make_interval(secs => ${policy.reuseGraceSeconds})`.as('inGrace'),
        ])
        .where('rt.tokenHash', '=', tokenHash)
        .executeTakeFirst();
      if (!found) return { kind: 'invalid', reason: 'unknown' };
      if (found.revokedAt) return { kind: 'invalid', reason: 'revoked' };
      if (found.expired) return { kind: 'invalid', reason: 'expired' };
      const session = { sessionId: found.sessionId, accountId: found.accountId, tenantId: found.tenantId };
      if (found.inGrace && found.childSalt) {
        const child = await db.selectFrom('refreshTokens').select('usedAt').where('parentId', '=', found.tokenId).executeTakeFirst();
        if (child && child.usedAt === null) return { kind: 'ok', session, refreshToken: successorOf(found.childSalt, token) };
      }
      await this.revoke(found.sessionId, 'refresh_token_reuse');
      return { kind: 'reuse', session };
    },

    async revoke(sessionId: string, reason: string) {
      await db.updateTable('sessions').set({ revokedAt: sql`now()`, revokedReason: reason }).where('id', '=', sessionId).where('revokedAt', 'is', null).execute();
    },

    /** Ends every live session of an account (in one tenant, or everywhere), optionally sparing one. */
    async revokeAll(accountId: string, reason: string, opts: { tenantId?: string; except?: string } = {}) {
      let q = db.updateTable('sessions').set({ revokedAt: sql`now()`, revokedReason: reason }).where('accountId', '=', accountId).where('revokedAt', 'is', null);
      if (opts.tenantId) q = q.where('tenantId', '=', opts.tenantId);
      if (opts.except) q = q.where('id', '!=', opts.except);
      const res = await q.executeTakeFirst();
      return Number(res.numUpdatedRows);
    },

    /** Live sessions of an account in a tenant, newest first. */
    async list(accountId: string, tenantId: string) {
      return db
        .selectFrom('sessions')
        .select(['id', 'userAgent', 'ip', 'createdAt', 'lastUsedAt', 'expiresAt'])
        .where('accountId', '=', accountId)
        .where('tenantId', '=', tenantId)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', sql<Date>`now()`)
        .where('lastUsedAt', '>', sql<Date>`now() - ${idle}`)
        .orderBy('lastUsedAt', 'desc')
        .execute();
    },

    /** Revokes one session of the account in the tenant; false when there is no such live session. */
    async revokeOwn(accountId: string, tenantId: string, sessionId: string, reason: string) {
      const res = await db
        .updateTable('sessions')
        .set({ revokedAt: sql`now()`, revokedReason: reason })
        .where('id', '=', sessionId)
        .where('accountId', '=', accountId)
        .where('tenantId', '=', tenantId)
        .where('revokedAt', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
