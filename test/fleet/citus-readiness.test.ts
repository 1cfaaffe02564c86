// Citus readiness of the tenant migrations (docs/scaling.md): the real
// migration set has no violation, through the CLI's entry point; a set with
// one migration breaking each rule is caught, rule by rule.
import { sql, type Kysely, type Migration } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkCitusReadiness } from '../../src/platform/tenancy/citus-check.ts';
import { buildTenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { modules } from '../../src/modules/index.ts';
import { plinth } from './cli.ts';

let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(() => pool?.end());

describe('Citus readiness check', () => {
  it('passes on the tenant migrations of this build (plinth check citus)', async () => {
    const run = await plinth(['check', 'citus', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const r = run.json<{ tables: number; violations: unknown[] }>();
    expect(r.violations).toEqual([]);
    expect(r.tables).toBeGreaterThan(10);
  });

  it('reports each broken rule, and leaves nothing behind', async () => {
    const bad: Migration = {
      async up(db: Kysely<any>) {
        await db.schema.createTable('bad_counter').addColumn('id', 'serial', (c) => c.primaryKey()).execute();
        await db.schema
          .createTable('bad_owner')
          .addColumn('id', 'uuid', (c) => c.primaryKey())
          .addColumn('account_id', 'uuid', (c) => c.references('public.accounts.id'))
          .execute();
        const schema = /from "([^"]+)"\./.exec(db.selectFrom('bad_owner').select('id').compile().sql)![1]!;
        await sql`create table public.bad_public_ref (id uuid primary key, owner uuid references ${sql.id(schema, 'bad_owner')} (id))`.execute(db);
        await sql`create schema bad_side create table bad_inline (id uuid primary key)`.execute(db);
      },
    };
    const set = buildTenantMigrationSet([...modules, { name: 'bad', tenantMigrations: { '29990101000000_bad': bad } }]);
    const r = await checkCitusReadiness(pool, set);
    const rules = r.violations.map((v) => `${v.rule} ${v.object}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^key-type bad_counter\.id/),
        expect.stringMatching(/^public-foreign-key bad_owner\..* → public\.accounts/),
        expect.stringMatching(/^foreign-key-from-public public\.bad_public_ref/),
        expect.stringMatching(/^schema-with-tables create schema bad_side/),
      ]),
    );
    const left = await pool.query("select 1 from pg_namespace where nspname in ('bad_side', 't_cccccccccccccccccccccccccccccccc') union all select 1 from pg_class where relname = 'bad_public_ref'");
    expect(left.rowCount).toBe(0);
  });
});
