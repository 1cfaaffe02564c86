// Fleet runs with an injected failure: the failing migration set is passed in
// (a migration whose table already exists in one tenant's schema), so nothing
// in src/ knows about the test. Runs are limited to this file's tenants
// (`slugs`) because other test files share the database.
import { sql, type Kysely, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTenantMigrationSet, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { fleetStatus, migrateFleet, migrateFleetDown } from '../../src/platform/tenancy/fleet.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { modules } from '../../src/modules/index.ts';
import { createDatabase, type Db } from '../../src/platform/db/database.ts';
import type { Tenant } from '../../src/platform/db/public-tables.ts';
import { testConfig, uniqueSlug } from '../helpers.ts';

let db: Db;
let base: TenantMigrationSet;
let next: TenantMigrationSet;
const addScores: Migration = {
  async up(k: Kysely<any>) {
    await k.schema.createTable('fleet_scores').addColumn('id', 'uuid', (c) => c.primaryKey()).addColumn('score', 'integer').execute();
    await k.schema.createIndex('fleet_scores_score_idx').on('fleet_scores').column('score').execute();
  },
  async down(k: Kysely<any>) {
    await k.schema.dropTable('fleet_scores').execute();
  },
};
const tenants: Tenant[] = [];
const slugs = () => tenants.map((t) => t.slug);

const versionOf = async (slug: string) => (await db.selectFrom('tenants').select('schemaVersion').where('slug', '=', slug).executeTakeFirstOrThrow()).schemaVersion;
const hasTable = async (schema: string) => (await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = ${schema} and tablename = 'fleet_scores'`.execute(db)).rows[0]!.n === 1;

beforeAll(async () => {
  const config = testConfig();
  db = createDatabase({ url: config.DATABASE_URL!, poolMax: 6, statementTimeoutMs: 0 }).db;
  base = buildTenantMigrationSet(modules);
  next = buildTenantMigrationSet([...modules, { name: 'fleet-test', tenantMigrations: { '29990101000000_fleet_scores': addScores } }]);
  for (let i = 0; i < 5; i++) tenants.push(await provisionTenant(db, base, { slug: uniqueSlug('fleet'), displayName: `Fleet ${i}` }));
});
afterAll(async () => {
  await db?.destroy();
});

describe('fleet migrations', () => {
  it('stops at the first failure, continues past it with continueOnError, records it, and a re-run resumes with only the failed tenant', async () => {
    // The injected failure: tenant #1 already has the table the new migration creates.
    const broken = tenants[1]!;
    await sql`create table ${sql.id(broken.schemaName, 'fleet_scores')} (id int)`.execute(db);

    const stopped = await migrateFleet(db, next, { slugs: slugs(), concurrency: 1 });
    expect(stopped.migrated).toEqual([tenants[0]!.slug]);
    expect(stopped.failed).toEqual([{ slug: broken.slug, error: expect.stringContaining('fleet_scores') }]);
    expect(stopped.skipped).toBe(3);

    const status = await fleetStatus(db, next);
    expect(status.failed).toContainEqual(expect.objectContaining({ slug: broken.slug, schemaVersion: base.latest, error: expect.stringContaining('already exists') }));
    expect(status.versions.find((v) => v.version === next.latest)?.tenants).toBeGreaterThanOrEqual(1);

    const continued = await migrateFleet(db, next, { slugs: slugs(), concurrency: 3, continueOnError: true });
    // Tenant #0 is up to date: decided from public.tenants, never visited.
    expect(continued.upToDate).toBe(1);
    expect(continued.migrated.sort()).toEqual([tenants[2]!.slug, tenants[3]!.slug, tenants[4]!.slug].sort());
    expect(continued.failed.map((f) => f.slug)).toEqual([broken.slug]);
    // The failed tenant's transaction rolled back: still at the old version, no ledger entry.
    expect(await versionOf(broken.slug)).toBe(base.latest);

    await sql`drop table ${sql.id(broken.schemaName, 'fleet_scores')}`.execute(db);
    const resumed = await migrateFleet(db, next, { slugs: slugs(), concurrency: 3 });
    expect(resumed).toMatchObject({ migrated: [broken.slug], failed: [], upToDate: 4 });
    for (const t of tenants) {
      expect(await versionOf(t.slug)).toBe(next.latest);
      expect(await hasTable(t.schemaName)).toBe(true);
    }
    const after = await fleetStatus(db, next);
    expect(after.failed.map((f) => f.slug)).not.toContain(broken.slug);

    const noop = await migrateFleet(db, next, { slugs: slugs() });
    expect(noop).toMatchObject({ migrated: [], failed: [], planned: 0, upToDate: 5 });
  });

  it('migrates a canary batch first, then the rest', async () => {
    const later = buildTenantMigrationSet([
      ...modules,
      { name: 'fleet-test', tenantMigrations: { '29990101000000_fleet_scores': addScores, '29990102000000_noop': { up: async () => {}, down: async () => {} } } },
    ]);
    const canary = await migrateFleet(db, later, { slugs: slugs(), canary: 2 });
    // The two oldest tenants (completion order varies with concurrency).
    expect([...canary.migrated].sort()).toEqual(slugs().slice(0, 2).sort());
    expect(canary.planned).toBe(2);
    const rest = await migrateFleet(db, later, { slugs: slugs() });
    expect(rest.migrated.sort()).toEqual(slugs().slice(2).sort());
  });

  it('reverts the last step with down(), and the tenants are behind the code again', async () => {
    const pair = [await provisionTenant(db, base, { slug: uniqueSlug('down'), displayName: 'Down 1' }), await provisionTenant(db, base, { slug: uniqueSlug('down'), displayName: 'Down 2' })];
    const pairSlugs = pair.map((t) => t.slug);
    expect((await migrateFleet(db, next, { slugs: pairSlugs })).migrated).toHaveLength(2);
    const reverted = await migrateFleetDown(db, next, { slugs: pairSlugs });
    expect(reverted).toMatchObject({ failed: [], reverted: '29990101000000_fleet_scores', version: base.latest });
    expect(reverted.migrated.sort()).toEqual([...pairSlugs].sort());
    for (const t of pair) {
      expect(await hasTable(t.schemaName)).toBe(false);
      expect(await versionOf(t.slug)).toBe(base.latest);
    }
    // Behind `next` again: the next `up` re-applies the step.
    expect((await migrateFleet(db, next, { slugs: pairSlugs })).migrated).toHaveLength(2);
  });
});
