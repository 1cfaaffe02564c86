// Single-use tokens sent by email (verification, password reset, invitation):
// 256 random bits shown once (in the mail), stored as SHA-256 only, used with
// one conditional UPDATE so that of two concurrent uses exactly one wins.
import { createHash, randomBytes } from 'node:crypto';
import { sql, type ColumnType, type Generated, type Kysely, type Selectable } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { PublicDatabase } from '../../platform/db/public-tables.ts';

export type EmailTokenPurpose = 'verify_email' | 'password_reset';

export interface EmailTokensTable {
  id: string;
  purpose: EmailTokenPurpose;
  accountId: string;
  tenantId: string;
  email: string;
  tokenHash: Buffer;
  attempts: Generated<number>;
  createdAt: Generated<Date>;
  expiresAt: Date;
  usedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface InvitationsTable {
  id: string;
  tenantId: string;
  email: string;
  role: string;
  invitedBy: string | null;
  tokenHash: Buffer;
  createdAt: Generated<Date>;
  expiresAt: Date;
  acceptedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
  acceptedBy: ColumnType<string | null, string | null | undefined, string | null>;
  revokedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type EmailFlowDb = Kysely<PublicDatabase & { emailTokens: EmailTokensTable; invitations: InvitationsTable }>;
export type InvitationRow = Selectable<InvitationsTable>;

const PREFIX: Record<EmailTokenPurpose | 'invitation', string> = { verify_email: 'pev_', password_reset: 'ppr_', invitation: 'pin_' };

export const hashToken = (token: string) => createHash('sha256').update(token).digest();
export const newToken = (purpose: EmailTokenPurpose | 'invitation') => {
  const token = `${PREFIX[purpose]}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
};

export const flowDb = (db: Kysely<any>) => db as EmailFlowDb;

/** Creates a token; earlier live tokens of the same purpose for the account stop working. */
export async function issueEmailToken(db: Kysely<any>, input: { purpose: EmailTokenPurpose; accountId: string; tenantId: string; email: string; ttlSeconds: number }) {
  const { token, hash } = newToken(input.purpose);
  const fdb = flowDb(db);
  await fdb.updateTable('emailTokens').set({ usedAt: sql`now()` }).where('accountId', '=', input.accountId).where('purpose', '=', input.purpose).where('usedAt', 'is', null).execute();
  await fdb
    .insertInto('emailTokens')
    .values({ id: uuidv7(), purpose: input.purpose, accountId: input.accountId, tenantId: input.tenantId, email: input.email, tokenHash: hash, expiresAt: sql`now() + make_interval(secs => ${input.ttlSeconds})` })
    .execute();
  return token;
}

/** The live token (unused, unexpired, attempts left) of a clear token string. */
export const findLiveEmailToken = (db: Kysely<any>, purpose: EmailTokenPurpose, token: string, maxAttempts: number) =>
  flowDb(db)
    .selectFrom('emailTokens')
    .selectAll()
    .where('tokenHash', '=', hashToken(token))
    .where('purpose', '=', purpose)
    .where('usedAt', 'is', null)
    .where('expiresAt', '>', sql<Date>`now()`)
    .where('attempts', '<', maxAttempts)
    .executeTakeFirst();

/** Marks the token used; false when another request used it first. */
export async function consumeEmailToken(db: Kysely<any>, id: string): Promise<boolean> {
  const r = await flowDb(db).updateTable('emailTokens').set({ usedAt: sql`now()` }).where('id', '=', id).where('usedAt', 'is', null).executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

export const countEmailTokenFailure = (db: Kysely<any>, id: string) =>
  flowDb(db).updateTable('emailTokens').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute();

/** Whether a token of this purpose was issued for the account in the last `seconds`. */
export async function issuedWithin(db: Kysely<any>, accountId: string, purpose: EmailTokenPurpose, seconds: number) {
  const row = await flowDb(db)
    .selectFrom('emailTokens')
    .select('id')
    .where('accountId', '=', accountId)
    .where('purpose', '=', purpose)
    .where('createdAt', '>', sql<Date>`now() - make_interval(secs => ${seconds})`)
    .executeTakeFirst();
  return row !== undefined;
}

export const markEmailVerified = (db: Kysely<any>, accountId: string) =>
  flowDb(db).updateTable('accounts').set({ emailVerifiedAt: sql`coalesce(email_verified_at, now())` }).where('id', '=', accountId).execute();
