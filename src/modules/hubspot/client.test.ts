// The client's rate-limit handling against the local HubSpot-shaped server:
// a 429 waits Retry-After and retries; retries are bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotClient, HubSpotError } from './client.ts';
import { startFakeHubSpot, type FakeHubSpot } from './fake-hubspot.ts';

let fake: FakeHubSpot;
beforeAll(async () => {
  fake = await startFakeHubSpot({ token: 'pat-test-token-1234' });
});
afterAll(async () => fake?.close());

describe('hubspot client', () => {
  it('waits Retry-After on a 429 and retries', async () => {
    const client = hubspotClient({ baseUrl: fake.baseUrl, token: 'pat-test-token-1234' });
    fake.throttleNext(1, '1');
    const started = Date.now();
    const { results } = await client.dealPipelines();
    expect(results[0]!.id).toBe('default');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(client.throttled).toBe(1);
  });

  it('gives up after its retries with the 429, and reports a refused token without echoing it', async () => {
    const client = hubspotClient({ baseUrl: fake.baseUrl, token: 'pat-test-token-1234', maxRetries: 1 });
    fake.throttleNext(3, '1');
    const err = await client.dealPipelines().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubSpotError);
    expect((err as HubSpotError).status).toBe(429);
    fake.throttleNext(0);
    const refused = await hubspotClient({ baseUrl: fake.baseUrl, token: 'pat-wrong-token-9999' }).accountInfo().catch((e: unknown) => e);
    expect((refused as HubSpotError).status).toBe(401);
    expect((refused as Error).message).not.toContain('pat-wrong');
  });

  it('pages a list with the after cursor', async () => {
    for (let i = 0; i < 5; i++) fake.seed('contacts', { email: `p${i}@paging.example` });
    const client = hubspotClient({ baseUrl: fake.baseUrl, token: 'pat-test-token-1234' });
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.list('contact', ['email'], 2, after);
      seen.push(...page.results.map((r) => r.properties.email!));
      after = page.paging?.next?.after;
    } while (after);
    expect(seen).toHaveLength(5);
  });
});
