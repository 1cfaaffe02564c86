// Citus readiness of the tenant migrations. Citus schema-based sharding
// (citus.enable_schema_based_sharding) makes each tenant schema a
// distributed schema living on one node; that only works when the tenant
// tables obey its rules. This applies every tenant migration to a scratch
// schema inside a transaction that is rolled back, records the statements
// they issue, and reads the resulting catalog:
//  1. foreign keys from tenant tables only to the same schema or to public
//     tables that can become reference tables (primary key, no foreign key
//     out of public); and none into public at all on one node, where each
//     one adds two triggers per tenant to the public table (see identity's
//     20261201000000_no_account_foreign_keys);
//  2. no foreign key from public into a tenant schema;
//  3. keys are uuid or bigint (no 32-bit integer keys or sequences);
//  4. the schema and its tables are created in separate statements (no
//     `CREATE SCHEMA ... CREATE TABLE`).
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type LogEvent } from 'kysely';
import type pg from 'pg';
import { migrateTenantSchema, type TenantMigrationSet } from './tenant-migrations.ts';

export interface CitusViolation {
  rule: 'foreign-key-target' | 'public-foreign-key' | 'foreign-key-from-public' | 'key-type' | 'schema-with-tables';
  object: string;
  detail: string;
}

export interface CitusReport {
  schema: string;
  tables: number;
  foreignKeys: number;
  statements: number;
  violations: CitusViolation[];
}

const SCRATCH = `t_${'c'.repeat(32)}`;
class Rollback extends Error {}

/** `pool`: the installation's pool (nothing stays behind: the scratch schema is rolled back). */
export async function checkCitusReadiness(pool: pg.Pool, set: TenantMigrationSet): Promise<CitusReport> {
  const statements: string[] = [];
  // A Kysely of its own on the same pool, to record the statements the migrations issue.
  const db = new Kysely<any>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
    log: (event: LogEvent) => {
      if (event.level === 'query') statements.push(event.query.sql);
    },
  });
  let report: CitusReport | undefined;
  try {
    await db.transaction().execute(async (trx) => {
      await migrateTenantSchema(trx, SCRATCH, set);
      const migrationStatements = [...statements];
      const raw = trx.withoutPlugins();
      const violations: CitusViolation[] = [];

      const fks = (
        await sql<{ name: string; table: string; targetSchema: string; target: string; targetHasPk: boolean; targetFksOut: number }>`
          select k.conname as name, c.relname as table, tn.nspname as "targetSchema", t.relname as target,
                 exists (select 1 from pg_constraint p where p.conrelid = t.oid and p.contype = 'p') as "targetHasPk",
                 (select count(*)::int from pg_constraint o where o.conrelid = t.oid and o.contype = 'f' and o.confrelid <> t.oid) as "targetFksOut"
          from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class t on t.oid = k.confrelid join pg_namespace tn on tn.oid = t.relnamespace
          where k.contype = 'f' and k.connamespace = ${SCRATCH}::regnamespace order by 2, 1`.execute(raw)
      ).rows;
      for (const fk of fks) {
        const object = `${fk.table}.${fk.name} → ${fk.targetSchema}.${fk.target}`;
        if (fk.targetSchema === SCRATCH) continue;
        if (fk.targetSchema !== 'public') {
          violations.push({ rule: 'foreign-key-target', object, detail: 'references a table outside the tenant schema and public' });
        } else {
          if (!fk.targetHasPk || fk.targetFksOut > 0) {
            violations.push({ rule: 'foreign-key-target', object, detail: 'the public table cannot become a Citus reference table (needs a primary key and no foreign keys of its own)' });
          }
          violations.push({ rule: 'public-foreign-key', object, detail: 'adds 2 triggers per tenant to the public table on one node: keep the id without a foreign key (check membership in the service)' });
        }
      }

      const intoTenant = (
        await sql<{ name: string; table: string; target: string }>`
          select k.conname as name, c.relname as table, tn.nspname || '.' || t.relname as target
          from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class t on t.oid = k.confrelid join pg_namespace tn on tn.oid = t.relnamespace
          where k.contype = 'f' and c.relnamespace = 'public'::regnamespace and tn.nspname ~ '^t_[0-9a-f]{32}$'`.execute(raw)
      ).rows;
      for (const fk of intoTenant) violations.push({ rule: 'foreign-key-from-public', object: `public.${fk.table}.${fk.name} → ${fk.target}`, detail: 'public must not reference tenant schemas' });

      // Keys: primary-key and foreign-key columns, and sequence-backed columns.
      const keys = (
        await sql<{ table: string; column: string; type: string; why: string }>`
          select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type, k.contype::text as why
          from pg_constraint k join pg_class c on c.oid = k.conrelid
          join pg_attribute a on a.attrelid = c.oid and a.attnum = any(k.conkey)
          where k.connamespace = ${SCRATCH}::regnamespace and k.contype in ('p', 'f')
          union
          select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), 'sequence'
          from pg_attribute a join pg_class c on c.oid = a.attrelid
          where c.relnamespace = ${SCRATCH}::regnamespace and a.attnum > 0 and not a.attisdropped
            and (a.attidentity <> '' or pg_get_serial_sequence(format('%I.%I', c.relnamespace::regnamespace, c.relname), a.attname) is not null)
          order by 1, 2`.execute(raw)
      ).rows;
      for (const k of keys) {
        if (['smallint', 'integer'].includes(k.type)) {
          violations.push({ rule: 'key-type', object: `${k.table}.${k.column}`, detail: `${k.type} ${k.why === 'sequence' ? 'sequence/identity' : k.why === 'p' ? 'primary key' : 'foreign key'}: use uuid or bigint` });
        }
      }

      for (const s of migrationStatements) {
        if (/\bcreate\s+schema\b/i.test(s) && /\bcreate\s+(table|view|index|sequence)\b/i.test(s.replace(/^\s*create\s+schema\b/i, ''))) {
          violations.push({ rule: 'schema-with-tables', object: s.slice(0, 120), detail: 'create the schema and its tables in separate statements' });
        }
      }

      const tables = Number((await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = ${SCRATCH}`.execute(raw)).rows[0]!.n);
      report = { schema: SCRATCH, tables, foreignKeys: fks.length, statements: migrationStatements.length, violations };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return report!;
}
