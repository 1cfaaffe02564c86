// `plinth audit verify` through the real CLI entry point, on a real trail:
// ok, then an edited row (as a superuser bypassing the insert-only trigger)
// reported by seq with exit 1; JSON output; an unknown tenant; bad usage.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, startApp, type Harness, type TestTenant } from '../helpers.ts';
import { plinth } from './cli.ts';

let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startApp();
  t = await createTenant(h, 'cva');
  for (const firstName of ['A', 'B']) await as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName } });
});
afterAll(() => h?.close());

describe('plinth audit verify', () => {
  it('exits 0 on an intact chain and 1 with the first broken seq after tampering', { timeout: 120_000 }, async () => {
    const ok = await plinth(['audit', 'verify', '--tenant', t.slug]);
    expect(ok.code, ok.stderr).toBe(0);
    // createTenant's logins (one per system role) and the two contacts.
    const rows = Object.keys(t.accounts).length + 2;
    expect(ok.stdout).toMatch(new RegExp(`audit trail of "${t.slug}": ok, ${rows} row\\(s\\) checked`));
    const json = await plinth(['audit', 'verify', '--tenant', t.slug, '--json']);
    expect(json.json()).toMatchObject({ tenant: t.slug, ok: true, checked: rows });

    await h.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update ${sql.id(t.tenant.schemaName, 'audit_log')} set action = 'crm.contact.nothing' where seq = 5`.execute(trx);
    });
    const broken = await plinth(['audit', 'verify', '--tenant', t.slug]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('BROKEN at seq 5');
    const brokenJson = await plinth(['audit', 'verify', '--tenant', t.slug, '--json']);
    expect(brokenJson.code).toBe(1);
    expect(brokenJson.json()).toMatchObject({ ok: false, firstBrokenSeq: 5, checked: 4, reason: expect.stringMatching(/hash/) });
    // The API agrees.
    expect((await as(h, t)({ method: 'GET', url: '/v1/audit/verify' })).json()).toMatchObject({ ok: false, firstBrokenSeq: 5 });
  });

  it('exits 1 for an unknown tenant and 2 for bad usage', async () => {
    const unknown = await plinth(['audit', 'verify', '--tenant', 'no-such-tenant-here', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toEqual({ error: { code: 'tenant_not_found', message: 'No tenant "no-such-tenant-here"' } });
    const missing = await plinth(['audit', 'verify']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--tenant');
    expect((await plinth(['audit', 'verify', '--tenant', 'Not A Slug'])).code).toBe(2);
  });
});
