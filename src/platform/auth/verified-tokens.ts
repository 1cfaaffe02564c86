// Every request of a client carries the same access token for the token's
// whole life, and verifying it is the largest single CPU cost of a simple
// read (an Ed25519 signature check through WebCrypto, ~0.15 ms, plus the
// signing-key lookup; see bench/README.md). A token that verified is
// therefore trusted again for `ttlMs` (TENANT_CACHE_TTL_MS: the staleness
// the tenant directory already allows) and never past its own `exp`. The key
// is the whole token string: only the exact bytes that verified are reused.
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { AccessClaims, TokenService } from './tokens.ts';

export function cacheVerifiedTokens(tokens: TokenService, ttlMs: number, max = 30_000): TokenService {
  if (ttlMs <= 0) return tokens;
  const verified = new LRUCache<string, { claims: AccessClaims; expiresAt: number }>({ max, ttl: ttlMs });
  return {
    ...tokens,
    async verify(token) {
      const hit = verified.get(token);
      if (hit && hit.expiresAt > Date.now()) return hit.claims;
      const claims = await tokens.verify(token);
      const { exp } = decodeJwt(token);
      if (typeof exp === 'number') verified.set(token, { claims, expiresAt: exp * 1000 });
      return claims;
    },
  };
}
