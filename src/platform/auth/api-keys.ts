// API keys: `plk_<prefix>_<secret>`, 256 secret bits. The prefix finds the
// row; the SHA-256 of the whole key is compared in constant time. A fast hash
// is right here (unlike passwords): the key is random, not guessable, and
// every request verifies one (bcrypt capped others at ~20 req/s).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { AccessClaims } from './tokens.ts';

const KEY_RE = /^plk_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const sha256 = (s: string) => createHash('sha256').update(s).digest();

export const isApiKey = (token: string) => token.startsWith('plk_');

export interface ApiKeyRow {
  id: string;
  tenantId: string;
  createdBy: string;
  name: string;
  prefix: string;
  permissions: string[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

const COLUMNS = sql`id, tenant_id, created_by, name, prefix, permissions, expires_at, last_used_at, revoked_at, created_at`;

export async function createApiKey(db: Db, input: { tenantId: string; createdBy: string; name: string; permissions: readonly string[]; expiresAt: Date | null }) {
  const prefix = [...randomBytes(10)].map((b) => BASE32[b % 32]).join('');
  const key = `plk_${prefix}_${randomBytes(32).toString('base64url')}`;
  const { rows } = await sql<ApiKeyRow>`insert into api_keys (id, tenant_id, created_by, name, prefix, key_hash, permissions, expires_at)
    values (${uuidv7()}, ${input.tenantId}, ${input.createdBy}, ${input.name}, ${prefix}, ${sha256(key)}, ${[...input.permissions]}, ${input.expiresAt})
    returning ${COLUMNS}`.execute(db);
  return { key, row: rows[0]! };
}

export const listApiKeys = async (db: Db, tenantId: string) =>
  (await sql<ApiKeyRow>`select ${COLUMNS} from api_keys where tenant_id = ${tenantId} order by created_at desc`.execute(db)).rows;

export const revokeApiKey = async (db: Db, tenantId: string, id: string) =>
  (await sql<ApiKeyRow>`update api_keys set revoked_at = now() where id = ${id} and tenant_id = ${tenantId} and revoked_at is null returning ${COLUMNS}`.execute(db)).rows[0];

/** Claims of a live key; `used` is true when this call recorded a new last use (at most once a minute). */
export async function verifyApiKey(db: Db, token: string): Promise<AccessClaims & { apiKey: { id: string; permissions: readonly string[]; used: boolean } }> {
  const match = KEY_RE.exec(token);
  const invalid = () => new AppError('invalid_token', 'The API key is not valid, expired or revoked');
  if (!match) throw invalid();
  const { rows } = await sql<ApiKeyRow & { keyHash: Buffer; live: boolean }>`select ${COLUMNS}, key_hash,
      revoked_at is null and (expires_at is null or expires_at > now()) as live
    from api_keys where prefix = ${match[1]}`.execute(db);
  const row = rows[0];
  if (!row || !timingSafeEqual(row.keyHash, sha256(token)) || !row.live) throw invalid();
  const touched = await sql`update api_keys set last_used_at = now() where id = ${row.id} and (last_used_at is null or last_used_at < now() - interval '1 minute')`.execute(db);
  return { accountId: row.createdBy, tenantId: row.tenantId, apiKey: { id: row.id, permissions: row.permissions, used: Number(touched.numAffectedRows ?? 0) > 0 } };
}
