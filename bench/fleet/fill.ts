// Filling a bench database with thousands of tenants through the real
// provisioning path takes ~0.1-0.5 s of DDL round trips per tenant, an hour
// for 10,000 on a busy 2-core machine. The fill therefore records the exact
// statements the tenant migrations issue for one template schema (Kysely's
// query log) and replays them per tenant as ONE multi-statement round trip,
// with the schema name and the tenant row swapped in. The result is the same
// catalog (same tables, indexes, ledger, public.tenants row) as provisioning.
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, type LogEvent } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { PublicDatabase } from '../../src/platform/db/public-tables.ts';
import { migrateTenantSchema, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { schemaNameFor } from '../../src/platform/tenancy/schema-name.ts';

const TEMPLATE = `t_${'f'.repeat(32)}`;

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return pg.Client.prototype.escapeLiteral(value.toISOString());
  if (typeof value === 'object') return pg.Client.prototype.escapeLiteral(JSON.stringify(value));
  return pg.Client.prototype.escapeLiteral(String(value));
}

/** The migration statements for the template schema, parameters inlined. */
export async function recordTenantScript(url: string, set: TenantMigrationSet): Promise<string> {
  const statements: string[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const db = new Kysely<PublicDatabase>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
    log: (event: LogEvent) => {
      // The transaction's own begin/rollback are logged too; the replay brings its own.
      if (event.level !== 'query' || /^(begin|commit|rollback)$/i.test(event.query.sql.trim())) return;
      const params = event.query.parameters;
      statements.push(event.query.sql.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1])));
    },
  });
  try {
    await db.transaction().execute(async (trx) => {
      await migrateTenantSchema(trx, TEMPLATE, set);
      // Recorded only to learn the statements: nothing of the template stays.
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  } finally {
    await db.destroy();
  }
  return statements.join(';\n');
}

class Rollback extends Error {}

/** Creates one tenant (registry row + migrated schema) in one round trip. */
export async function fillTenant(pool: pg.Pool, script: string, slug: string, latest: string | null): Promise<void> {
  const id = uuidv7();
  const schema = schemaNameFor(id);
  const sql = [
    'begin',
    `insert into public.tenants (id, slug, display_name, schema_name, status, schema_version) values (${literal(id)}, ${literal(slug)}, ${literal(slug)}, ${literal(schema)}, 'active', null)`,
    script.replaceAll(TEMPLATE, schema),
    `update public.tenants set schema_version = ${literal(latest)} where id = ${literal(id)}`,
    'commit',
  ].join(';\n');
  await pool.query(sql);
}
