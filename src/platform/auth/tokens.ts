// Access tokens: short-lived EdDSA JWTs (jose) with a `kid` header. Signing
// keys live in `public.signing_keys`, so every instance of the API signs and
// verifies with the same set; a kid this process has not seen is looked up
// again (another instance may have created it). Rotation retires the current
// key: a retired key still verifies (and is published in the JWKS) until the
// last token it signed has expired, then it is refused.
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors.ts';

export interface AccessClaims {
  accountId: string;
  tenantId: string;
  /** The login session (refresh-token family) the token was issued for. */
  sessionId?: string;
  /** `mfa_enrollment`: the tenant requires MFA for this member, who has none yet; only sign-in routes work. */
  restricted?: 'mfa_enrollment';
}

export type PublicJwk = { kty: string; crv?: string; x?: string; kid: string; alg: string; use: string };

export interface TokenService {
  issue(claims: AccessClaims): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }>;
  verify(token: string): Promise<AccessClaims>;
  /** Public keys that may still verify a live token (the JWKS document). */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** Starts signing with a new key; the old one keeps verifying until its tokens expired. */
  rotate(): Promise<string>;
}

const ALG = 'EdDSA';
const AUDIENCE = 'plinth-api';
/** How often a process re-reads which key is current (another instance may have rotated). */
const CURRENT_KEY_RECHECK_MS = 60_000;

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  createdAt: Date;
}

async function createSigningKey(db: Db): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('signingKeys').set({ retiredAt: new Date() }).where('retiredAt', 'is', null).execute();
    await trx
      .insertInto('signingKeys')
      .values({ kid, alg: ALG, publicJwk: JSON.stringify(await exportJWK(publicKey)), privateJwk: JSON.stringify(await exportJWK(privateKey)), retiredAt: null })
      .execute();
  });
  return kid;
}

async function loadCurrentKey(db: Db): Promise<KeyPair | undefined> {
  const current = await db.selectFrom('signingKeys').selectAll().where('retiredAt', 'is', null).orderBy('createdAt', 'desc').executeTakeFirst();
  if (!current) return undefined;
  return { kid: current.kid, privateKey: (await importJWK(current.privateJwk as JWK, ALG)) as CryptoKey, createdAt: current.createdAt };
}

export async function createTokenService(db: Db, opts: { issuer: string; ttlSeconds: number; rotateAfterDays?: number }): Promise<TokenService> {
  let signing = await loadCurrentKey(db);
  const tooOld = (k: KeyPair) => opts.rotateAfterDays !== undefined && Date.now() - k.createdAt.getTime() > opts.rotateAfterDays * 86_400_000;
  if (!signing || tooOld(signing)) {
    await createSigningKey(db);
    signing = (await loadCurrentKey(db))!;
  }
  let checkedAt = Date.now();
  const verifyKeys = new Map<string, { key: CryptoKey; retiredAt: Date | null }>();

  const currentKey = async (): Promise<KeyPair> => {
    if (Date.now() - checkedAt > CURRENT_KEY_RECHECK_MS) {
      checkedAt = Date.now();
      signing = (await loadCurrentKey(db)) ?? signing;
    }
    return signing!;
  };

  /** A retired key verifies for one token lifetime after retirement (plus a minute of clock skew). */
  const stillValid = (retiredAt: Date | null) => retiredAt === null || Date.now() - retiredAt.getTime() < (opts.ttlSeconds + 60) * 1000;

  const keyFor = async (kid: string | undefined): Promise<CryptoKey> => {
    if (!kid) throw new AppError('invalid_token', 'The token has no key id');
    let known = verifyKeys.get(kid);
    if (!known || known.retiredAt === null) {
      // Re-read a key we believe current: another instance may have retired it.
      const row = await db.selectFrom('signingKeys').select(['publicJwk', 'alg', 'retiredAt']).where('kid', '=', kid).executeTakeFirst();
      if (!row || row.alg !== ALG) throw new AppError('invalid_token', 'The token was signed with an unknown key');
      known = { key: known?.key ?? ((await importJWK(row.publicJwk as JWK, ALG)) as CryptoKey), retiredAt: row.retiredAt };
      verifyKeys.set(kid, known);
    }
    if (!stillValid(known.retiredAt)) throw new AppError('invalid_token', 'The token was signed with a key that has been retired');
    return known.key;
  };

  return {
    async issue({ accountId, tenantId, sessionId, restricted }) {
      const key = await currentKey();
      const accessToken = await new SignJWT({ tid: tenantId, ...(sessionId ? { sid: sessionId } : {}), ...(restricted ? { rst: restricted } : {}) })
        .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'at+jwt' })
        .setSubject(accountId)
        .setIssuer(opts.issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${opts.ttlSeconds}s`)
        .sign(key.privateKey);
      return { accessToken, tokenType: 'Bearer', expiresIn: opts.ttlSeconds };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, (header) => keyFor(header.kid), {
          issuer: opts.issuer,
          audience: AUDIENCE,
          algorithms: [ALG],
          typ: 'at+jwt',
        });
        if (typeof payload.sub !== 'string' || typeof payload.tid !== 'string') throw new AppError('invalid_token', 'The token lacks its subject or tenant');
        return {
          accountId: payload.sub,
          tenantId: payload.tid,
          ...(typeof payload.sid === 'string' ? { sessionId: payload.sid } : {}),
          ...(payload.rst === 'mfa_enrollment' ? { restricted: 'mfa_enrollment' as const } : {}),
        };
      } catch (error) {
        if (error instanceof AppError) throw error;
        const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
        throw new AppError('invalid_token', expired ? 'The access token has expired' : 'The access token is not valid', { cause: error });
      }
    },
    async jwks() {
      const rows = await db.selectFrom('signingKeys').select(['kid', 'alg', 'publicJwk', 'retiredAt']).orderBy('createdAt', 'desc').execute();
      return { keys: rows.filter((r) => r.alg === ALG && stillValid(r.retiredAt)).map((r) => ({ ...(r.publicJwk as JWK), kty: 'OKP', kid: r.kid, alg: ALG, use: 'sig' })) };
    },
    async rotate() {
      const kid = await createSigningKey(db);
      signing = (await loadCurrentKey(db))!;
      checkedAt = Date.now();
      return kid;
    },
  };
}
