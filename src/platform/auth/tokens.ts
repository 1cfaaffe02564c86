// Access tokens: short-lived EdDSA JWTs (jose) with a `kid` header. Signing
// keys live in `public.signing_keys`, so every instance of the API signs and
// verifies with the same set; a kid this process has not seen is looked up
// again (another instance may have created it).
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors.ts';

export interface AccessClaims {
  accountId: string;
  tenantId: string;
}

export interface TokenService {
  issue(claims: AccessClaims): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }>;
  verify(token: string): Promise<AccessClaims>;
}

const ALG = 'EdDSA';
const AUDIENCE = 'plinth-api';

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function loadOrCreateSigningKey(db: Db): Promise<KeyPair> {
  const current = await db
    .selectFrom('signingKeys')
    .selectAll()
    .where('retiredAt', 'is', null)
    .orderBy('createdAt', 'desc')
    .executeTakeFirst();
  if (current) {
    return {
      kid: current.kid,
      privateKey: (await importJWK(current.privateJwk as JWK, ALG)) as CryptoKey,
      publicKey: (await importJWK(current.publicJwk as JWK, ALG)) as CryptoKey,
    };
  }
  const { privateKey, publicKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  await db
    .insertInto('signingKeys')
    .values({ kid, alg: ALG, publicJwk: JSON.stringify(await exportJWK(publicKey)), privateJwk: JSON.stringify(await exportJWK(privateKey)), retiredAt: null })
    .execute();
  return { kid, privateKey, publicKey };
}

export async function createTokenService(db: Db, opts: { issuer: string; ttlSeconds: number }): Promise<TokenService> {
  const signing = await loadOrCreateSigningKey(db);
  const verifyKeys = new Map<string, CryptoKey>([[signing.kid, signing.publicKey]]);

  const keyFor = async (kid: string | undefined): Promise<CryptoKey> => {
    if (!kid) throw new AppError('invalid_token', 'The token has no key id');
    const known = verifyKeys.get(kid);
    if (known) return known;
    const row = await db.selectFrom('signingKeys').select(['publicJwk', 'alg']).where('kid', '=', kid).executeTakeFirst();
    if (!row || row.alg !== ALG) throw new AppError('invalid_token', 'The token was signed with an unknown key');
    const key = (await importJWK(row.publicJwk as JWK, ALG)) as CryptoKey;
    verifyKeys.set(kid, key);
    return key;
  };

  return {
    async issue({ accountId, tenantId }) {
      const accessToken = await new SignJWT({ tid: tenantId })
        .setProtectedHeader({ alg: ALG, kid: signing.kid, typ: 'at+jwt' })
        .setSubject(accountId)
        .setIssuer(opts.issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${opts.ttlSeconds}s`)
        .sign(signing.privateKey);
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
        return { accountId: payload.sub, tenantId: payload.tid };
      } catch (error) {
        if (error instanceof AppError) throw error;
        const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
        throw new AppError('invalid_token', expired ? 'The access token has expired' : 'The access token is not valid', { cause: error });
      }
    },
  };
}
