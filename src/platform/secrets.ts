// Encryption of stored credentials (third-party tokens, client secrets):
// AES-256-GCM from node:crypto, a fresh 96-bit nonce per value, and the
// purpose (e.g. "hubspot.token:<tenant id>") as additional authenticated
// data, so a ciphertext copied to another tenant or column does not decrypt.
//
// The key is SECRETS_KEY (32 bytes, base64). Unset, a key is generated once and
// kept in public.secret_keys with a warning: fine for development (every
// instance shares it), but a database dump then carries the key with the data,
// so production sets SECRETS_KEY. Stored format: `v1.<key id>.<base64(nonce|tag|ciphertext)>`;
// the key id (first 8 hex of SHA-256 of the key) makes "encrypted with another
// key" a clear error instead of a failed tag check.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from './db/database.ts';

export interface SecretBox {
  encrypt(plaintext: string, purpose: string): string;
  decrypt(stored: string, purpose: string): string;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export function secretBoxFromKey(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('The secrets key must be 32 bytes');
  const kid = keyId(key);
  return {
    encrypt(plaintext, purpose) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(purpose));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${kid}.${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    decrypt(stored, purpose) {
      const [version, storedKid, data] = stored.split('.');
      if (version !== 'v1' || !data) throw new Error('Not an encrypted secret');
      if (storedKid !== kid) throw new Error(`This secret was encrypted with another key (${storedKid}); set SECRETS_KEY to that key`);
      const raw = Buffer.from(data, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

const generated = new WeakMap<Db, Promise<Buffer>>();

async function storedKey(db: Db, log: FastifyBaseLogger): Promise<Buffer> {
  // Two instances racing at first use both insert; the first row wins and both read it back.
  await sql`insert into public.secret_keys (id, key) values ('default', ${randomBytes(32)}) on conflict (id) do nothing`.execute(db);
  const { rows } = await sql<{ key: Buffer }>`select key from public.secret_keys where id = 'default'`.execute(db);
  log.warn('SECRETS_KEY is not set: stored credentials are encrypted with a key kept in the database (development only; set SECRETS_KEY in production)');
  return rows[0]!.key;
}

/** The box for `config.SECRETS_KEY`, or for the database-kept development key (created on first use). */
export async function secretBox(deps: { config: { SECRETS_KEY?: string | undefined }; db: Db }, log: FastifyBaseLogger): Promise<SecretBox> {
  if (deps.config.SECRETS_KEY) return secretBoxFromKey(Buffer.from(deps.config.SECRETS_KEY, 'base64'));
  let key = generated.get(deps.db);
  if (!key) {
    key = storedKey(deps.db, log);
    generated.set(deps.db, key);
    key.catch(() => generated.delete(deps.db));
  }
  return secretBoxFromKey(await key);
}
