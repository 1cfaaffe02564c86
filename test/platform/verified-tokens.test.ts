// The verified-token cache in front of the token service: reuse within the
// TTL, never past the token's expiry, never for other bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService, type TokenService } from '../../src/platform/auth/tokens.ts';
import { cacheVerifiedTokens } from '../../src/platform/auth/verified-tokens.ts';
import { startApp, type Harness } from '../helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startApp();
});
afterAll(() => h?.close());

const claims = { accountId: '0190f0e0-0000-7000-8000-000000000001', tenantId: '0190f0e0-0000-7000-8000-000000000002' };

async function counted(ttlSeconds: number) {
  const real = await createTokenService(h.db, { issuer: 'plinth', ttlSeconds });
  const calls = { n: 0 };
  const service: TokenService = { ...real, verify: (t) => (calls.n++, real.verify(t)) };
  return { real, service, calls };
}

describe('cacheVerifiedTokens', () => {
  it('verifies a token once and answers repeats from the cache', async () => {
    const { real, service, calls } = await counted(900);
    const cached = cacheVerifiedTokens(service, 60_000);
    const { accessToken } = await real.issue(claims);
    expect(await cached.verify(accessToken)).toMatchObject(claims);
    expect(await cached.verify(accessToken)).toMatchObject(claims);
    expect(calls.n).toBe(1);
  });

  it('does not serve other bytes: a tampered token is still refused', async () => {
    const { real, service } = await counted(900);
    const cached = cacheVerifiedTokens(service, 60_000);
    const { accessToken } = await real.issue(claims);
    await cached.verify(accessToken);
    const [head, payload, sig] = accessToken.split('.');
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tid: 'other' })).toString('base64url')}.${sig}`;
    await expect(cached.verify(forged)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('re-verifies once the TTL has passed, and refuses a token past its exp', async () => {
    const { real, service, calls } = await counted(1);
    const cached = cacheVerifiedTokens(service, 60_000);
    const { accessToken } = await real.issue(claims);
    await cached.verify(accessToken);
    await new Promise((r) => setTimeout(r, 2100));
    await expect(cached.verify(accessToken)).rejects.toMatchObject({ code: 'invalid_token' });
    expect(calls.n).toBe(2);

    const short = cacheVerifiedTokens(service, 50);
    const fresh = await (await counted(900)).real.issue(claims);
    await short.verify(fresh.accessToken);
    await new Promise((r) => setTimeout(r, 120));
    await short.verify(fresh.accessToken);
    expect(calls.n).toBe(4);
  });

  it('is the service itself when the TTL is 0', async () => {
    const { service } = await counted(900);
    expect(cacheVerifiedTokens(service, 0)).toBe(service);
  });
});
