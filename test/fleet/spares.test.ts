// The spare-schema pool. Its spares are migrated with a set of this file's
// own (the real modules plus a marker migration), so sign-ups in other test
// files (with the real set) never claim them and the counts here are exact.
import { sql, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTenantMigrationSet, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { refillSpares, sparePoolStatus } from '../../src/platform/tenancy/spares.ts';
import { deleteTenant, DROP_BATCH } from '../../src/platform/tenancy/lifecycle.ts';
import { modules } from '../../src/modules/index.ts';
import { fleetDb } from '../../src/platform/tenancy/fleet-tables.ts';
import { createDatabase, type Db } from '../../src/platform/db/database.ts';
import { startApp, testConfig, uniqueSlug } from '../helpers.ts';
import { createPlatformAdmin } from '../../src/modules/platform-admin/admins.ts';

let db: Db;
const noop: Migration = { up: async () => {}, down: async () => {} };
const setWith = (names: string[]): TenantMigrationSet => buildTenantMigrationSet([...modules, { name: 'spares-test', tenantMigrations: Object.fromEntries(names.map((n) => [n, noop])) }]);
const v1 = setWith(['29980101000000_spares_marker']);
const v2 = setWith(['29980101000000_spares_marker', '29980102000000_spares_marker_two']);

beforeAll(() => {
  db = createDatabase({ url: testConfig().DATABASE_URL!, poolMax: 12, statementTimeoutMs: 0 }).db;
});
afterAll(async () => {
  await db?.destroy();
});

describe('spare schema pool', () => {
  it('concurrent sign-ups never get the same spare, and fall back to the full path when the pool is empty', async () => {
    expect(await refillSpares(db, v1, { size: 4 })).toMatchObject({ created: 4, ready: 4 });
    const spares = await fleetDb(db).selectFrom('tenantSpares').select('schemaName').where('schemaVersion', '=', v1.latest).execute();
    const spareSchemas = new Set(spares.map((s) => s.schemaName));

    const tenants = await Promise.all(Array.from({ length: 8 }, (_, i) => provisionTenant(db, v1, { slug: uniqueSlug('pool'), displayName: `Pool ${i}` })));
    const schemas = tenants.map((t) => t.schemaName);
    expect(new Set(schemas).size).toBe(8);
    // Four came from the pool (every spare once), four were created and migrated in place.
    expect(schemas.filter((s) => spareSchemas.has(s))).toHaveLength(4);
    expect(await sparePoolStatus(db, v1)).toEqual({ ready: 0, behind: 0 });
    for (const t of tenants) {
      expect(t.schemaVersion).toBe(v1.latest);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(t.schemaName, 'plinth_migrations')}`.execute(db);
      expect(rows[0]!.n).toBe(v1.names.length);
    }
  });

  it('a rolled-back sign-up puts its spare back', async () => {
    await refillSpares(db, v1, { size: 1 });
    await expect(
      provisionTenant(db, v1, { slug: uniqueSlug('pool'), displayName: 'Fails' }, async () => {
        throw new Error('owner creation failed');
      }),
    ).rejects.toThrow('owner creation failed');
    expect(await sparePoolStatus(db, v1)).toEqual({ ready: 1, behind: 0 });
  });

  it('migrates spares that are behind before they can be claimed', async () => {
    expect(await sparePoolStatus(db, v2)).toEqual({ ready: 0, behind: 1 });
    // Behind spares are not claimable: this sign-up takes the full path.
    const direct = await provisionTenant(db, v2, { slug: uniqueSlug('pool'), displayName: 'Direct' });
    expect(await sparePoolStatus(db, v2)).toEqual({ ready: 0, behind: 1 });
    expect(await refillSpares(db, v2, { size: 2 })).toEqual({ created: 1, migrated: 1, ready: 2 });
    const claimed = await provisionTenant(db, v2, { slug: uniqueSlug('pool'), displayName: 'Claimed' });
    expect(claimed.schemaVersion).toBe(v2.latest);
    expect(claimed.schemaName).not.toBe(direct.schemaName);
    const { rows } = await sql<{ name: string }>`select name from ${sql.id(claimed.schemaName, 'plinth_migrations')} order by name desc limit 1`.execute(db);
    expect(rows[0]!.name).toBe(v2.latest);
  });

  it(`deletes a tenant with many tables in batches of ${DROP_BATCH}`, async () => {
    const t = await provisionTenant(db, v2, { slug: uniqueSlug('many'), displayName: 'Many tables' });
    for (let i = 0; i < 120; i++) await sql`create table ${sql.id(t.schemaName, `extra_${i}`)} (id bigint primary key)`.execute(db);
    const batches: number[] = [];
    const r = await deleteTenant(db, t.slug, { onProgress: (done) => batches.push(done) });
    expect(r.droppedTables).toBeGreaterThan(120);
    expect(batches.length).toBe(Math.ceil(r.droppedTables / DROP_BATCH));
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = ${t.schemaName}`.execute(db);
    expect(rows[0]!.n).toBe(0);
  });

  it('a sign-up through the API enqueues one refill job in its transaction; the job tops the pool up', async () => {
    // Its own marker migration, so the spares it makes are this test's (see the top of the file).
    const h = await startApp({ modules: [...modules, { name: 'spares-job-test', tenantMigrations: { '29980103000000_spares_job_marker': noop }, routes: async () => {} }], config: { TENANT_SPARE_POOL_SIZE: '2' } });
    try {
      const email = `${uniqueSlug('root')}@platform.example`;
      await createPlatformAdmin(h.db, { email, password: 'platform admin password' });
      const token = (await h.app.inject({ method: 'POST', url: '/v1/platform/login', payload: { email, password: 'platform admin password' } })).json().accessToken as string;
      const signUp = (slug: string) => h.app.inject({ method: 'POST', url: '/v1/platform/tenants', headers: { authorization: `Bearer ${token}` }, payload: { slug, displayName: 'Pooled', ownerEmail: `owner@${slug}.example` } });
      const refillJobs = async () => (await sql<{ c: number }>`select count(*)::int as c from graphile_worker._private_jobs where key = 'tenancy.sparesRefill'`.execute(db)).rows[0]!.c;

      const slug = uniqueSlug('pool');
      expect((await signUp(slug)).statusCode).toBe(201);
      expect((await signUp(uniqueSlug('pool'))).statusCode).toBe(201);
      // The job key folds a burst of sign-ups into one waiting refill; a refused sign-up adds none.
      expect(await refillJobs()).toBe(1);
      expect((await signUp(slug)).statusCode).toBe(409);
      expect(await refillJobs()).toBe(1);

      const logged: Array<Record<string, unknown>> = [];
      const log = { info: (o: Record<string, unknown>) => logged.push(o), warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child: () => log };
      await h.app.platform.jobs.tasks.get('tenancy.sparesRefill')!.run({}, { jobId: 'test', attempt: 1, maxAttempts: 1, platform: h.app.platform, log: log as never });
      expect(logged).toEqual([expect.objectContaining({ ready: 2 })]);
      expect(await sparePoolStatus(db, h.app.platform.migrations)).toMatchObject({ ready: 2 });
    } finally {
      await sql`delete from graphile_worker._private_jobs where key = 'tenancy.sparesRefill'`.execute(db);
      await h.close();
    }
  });
});
