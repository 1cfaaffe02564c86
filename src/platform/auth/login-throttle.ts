// Brute-force defence for password logins, per (email, client IP): the first
// `freeAttempts` failures cost nothing, each further one locks the pair for
// twice as long as the last (1 s, 2 s, 4 s ... up to `maxLockSeconds`). Only
// that pair is locked: the account owner logging in from elsewhere is not,
// so an attacker cannot lock a victim out (ASVS 6.1.1, Keycloak's warning).
// Unknown emails are throttled exactly like known ones, so the lock reveals
// nothing. A success clears the pair; failures older than `resetSeconds` are
// forgotten. Kept in PostgreSQL so every instance sees the same counters.
// Written by hand: rate-limiter-flexible would need its own table layout and
// still not express "per pair, exponential, reset on success" in one UPDATE.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export interface ThrottlePolicy {
  freeAttempts: number;
  maxLockSeconds: number;
  resetSeconds: number;
}

const subjectOf = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest();

export function createLoginThrottle(db: Db, policy: ThrottlePolicy) {
  return {
    /** Seconds the pair is still locked for (0: may try). */
    async lockedFor(email: string, ip: string): Promise<number> {
      const row = (
        await sql<{ seconds: number }>`select ceil(extract(epoch from locked_until - now()))::int as seconds from login_throttle
          where subject = ${subjectOf(email)} and ip = ${ip} and locked_until > now()`.execute(db)
      ).rows[0];
      return row?.seconds ?? 0;
    },

    /** Counts a failure; returns the failures counted and the lock it set (seconds, 0 for none). */
    async fail(email: string, ip: string): Promise<{ failures: number; lockSeconds: number }> {
      const row = (
        await sql<{ failures: number; lockSeconds: number }>`
          insert into login_throttle as t (subject, ip, failures, locked_until, updated_at)
          values (${subjectOf(email)}, ${ip}, 1, null, now())
          on conflict (subject, ip) do update set
            failures = case when t.updated_at < now() - make_interval(secs => ${policy.resetSeconds}) then 1 else t.failures + 1 end,
            updated_at = now()
          returning failures,
            case when failures > ${policy.freeAttempts} then least(power(2, failures - ${policy.freeAttempts} - 1), ${policy.maxLockSeconds})::int else 0 end as lock_seconds`.execute(db)
      ).rows[0]!;
      if (row.lockSeconds > 0) {
        await sql`update login_throttle set locked_until = now() + make_interval(secs => ${row.lockSeconds}) where subject = ${subjectOf(email)} and ip = ${ip}`.execute(db);
      }
      return row;
    },

    async succeed(email: string, ip: string) {
      await sql`delete from login_throttle where subject = ${subjectOf(email)} and ip = ${ip}`.execute(db);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
