// `plinth tenants backup` → `plinth tenants restore --as` through the CLI's
// real entry point: the restored tenant is a new tenant (id, schema) whose
// every table holds exactly the backed-up rows, with the same members, and
// which the API serves. Refusals change nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, login, PASSWORD, startApp, uniqueSlug, type Harness, type TestTenant } from '../helpers.ts';
import { plinth } from './cli.ts';

let h: Harness;
let a: TestTenant;
const dir = mkdtempSync(join(tmpdir(), 'plinth-backup-'));

beforeAll(async () => {
  h = await startApp();
  a = await createTenant(h, 'bk');
  // Rows across tables linked by foreign keys (deal → company, pipeline, stage; links to contacts), the audit chain, NULLs and odd text.
  const company = (await as(h, a)({ method: 'POST', url: '/v1/companies', payload: { name: 'Acme "Ltd"', domain: 'acme.example' } })).json() as { id: string };
  const contacts: string[] = [];
  for (const [i, name] of ['Zoë', 'O\'Brien', 'Line\nBreak'].entries()) {
    const res = await as(h, a)({ method: 'POST', url: '/v1/contacts', payload: { firstName: name, email: `c${i}@bk.example`, jobTitle: i === 1 ? null : 'CTO' } });
    expect(res.statusCode, res.body).toBe(201);
    contacts.push((res.json() as { id: string }).id);
  }
  const deal = await as(h, a)({ method: 'POST', url: '/v1/deals', payload: { name: 'Big deal', amount: '12345.67', currency: 'EUR', companyId: company.id, contactIds: contacts.slice(0, 2) } });
  expect(deal.statusCode, deal.body).toBe(201);
  await as(h, a)({ method: 'DELETE', url: `/v1/contacts/${contacts[2]}` });
});
afterAll(() => h?.close());

const tablesOf = async (schema: string) =>
  (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = ${schema} order by tablename`.execute(h.db)).rows.map((r) => r.name);

/** Every row of a table as JSON text, sorted: equal sets of rows compare equal. */
const contentOf = async (schema: string, table: string) =>
  (await sql<{ r: string }>`select row_to_json(x)::text as r from ${sql.id(schema, table)} x order by 1`.execute(h.db.withoutPlugins())).rows.map((x) => x.r);

describe('plinth tenants backup / restore', () => {
  it('round-trips every table, the members and the schema version into a new tenant', { timeout: 120_000 }, async () => {
    for (const file of [join(dir, 'a.jsonl'), join(dir, 'a.jsonl.gz')]) {
      const backup = await plinth(['tenants', 'backup', a.slug, '--out', file, '--json']);
      expect(backup.code, backup.stderr).toBe(0);
      const b = backup.json<{ tables: number; rows: number; version: string }>();
      expect(b.rows).toBeGreaterThan(10);
      const slug = uniqueSlug('restored');
      const restore = await plinth(['tenants', 'restore', file, '--as', slug, '--json']);
      expect(restore.code, restore.stderr).toBe(0);
      const r = restore.json<{ tenant: { id: string; schemaName: string; schemaVersion: string }; rows: number; members: { attached: number; created: number } }>();
      expect(r.rows).toBe(b.rows);
      expect(r.tenant.id).not.toBe(a.tenant.id);
      expect(r.tenant.schemaVersion).toBe(a.tenant.schemaVersion);
      expect(r.members).toEqual({ attached: Object.keys(a.accounts).length, created: 0 });

      const tables = await tablesOf(a.tenant.schemaName);
      expect(await tablesOf(r.tenant.schemaName)).toEqual(tables);
      expect(tables.length).toBeGreaterThan(10);
      // Every data table row for row; the migration ledger by name (its applied_at is the restore's own).
      for (const t of tables.filter((x) => x !== 'plinth_migrations')) expect(await contentOf(r.tenant.schemaName, t), t).toEqual(await contentOf(a.tenant.schemaName, t));
      const ledger = async (schema: string) => (await sql<{ name: string }>`select name from ${sql.id(schema, 'plinth_migrations')} order by name`.execute(h.db)).rows;
      expect(await ledger(r.tenant.schemaName)).toEqual(await ledger(a.tenant.schemaName));
      const members = async (tenantId: string) => (await h.db.selectFrom('memberships').select(['accountId', 'role']).where('tenantId', '=', tenantId).orderBy('accountId').execute());
      expect(await members(r.tenant.id)).toEqual(await members(a.tenant.id));

      // The API serves the restored tenant, and its audit chain still verifies.
      const token = await login(h, slug, a.accounts.owner.email, PASSWORD);
      const list = await h.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${token}`, 'x-tenant': slug } });
      expect(list.statusCode).toBe(200);
      expect((list.json() as { data: unknown[] }).data).toHaveLength(2);
    }
  });

  it('refuses a taken slug, a file that is not a backup and a missing tenant, creating nothing', async () => {
    const file = join(dir, 'b.jsonl');
    expect((await plinth(['tenants', 'backup', a.slug, '--out', file])).code).toBe(0);
    const taken = await plinth(['tenants', 'restore', file, '--as', a.slug]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/taken/);
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, '{"hello":1}\n');
    const [junkSlug, missingSlug] = [uniqueSlug('x'), uniqueSlug('x')];
    const notBackup = await plinth(['tenants', 'restore', junk, '--as', junkSlug]);
    expect(notBackup.code).toBe(2);
    expect(notBackup.stderr).toMatch(/not a Plinth tenant backup/);
    expect((await plinth(['tenants', 'restore', join(dir, 'nope.jsonl'), '--as', missingSlug])).code).toBe(2);
    expect((await plinth(['tenants', 'backup', 'no-such-tenant', '--out', join(dir, 'c.jsonl')])).code).toBe(1);
    // Nothing created under the slugs tried (other test files create tenants meanwhile: no global count).
    const rows = await h.db.selectFrom('tenants').select(['id', 'slug']).where('slug', 'in', [a.slug, junkSlug, missingSlug]).execute();
    expect(rows).toEqual([{ id: a.tenant.id, slug: a.slug }]);
  });
});
