// Sort indexes of custom fields. A list sorted by a custom field orders by
// `coalesce((custom->>'<field id>')::<cast>, <sentinel>), id` (views/filters.ts);
// without an index that is a top-N sort of every match. For number, currency
// and date fields a b-tree on exactly that expression plus `id` lets
// PostgreSQL walk the index for ORDER BY … LIMIT (either direction). Number
// and currency fields get one. Date fields cannot with today's sort key: the
// text→date cast is STABLE (it reads DateStyle), and index expressions must
// be IMMUTABLE. Text/select/boolean fields get none: text order follows the
// collation, free text is rarely a sort key, and each index costs every
// write of the table.
//
// The index is built by a tenant job with CREATE INDEX CONCURRENTLY (a plain
// CREATE INDEX in the request would block the table's writes for the build).
// The job reconciles: a live sortable field gets its index (an invalid one
// left by a failed concurrent build is dropped and rebuilt), a deleted one
// loses it. Create, delete and restore all enqueue it with the field's id.
import { Type } from 'typebox';
import { sql, type Kysely } from 'kysely';
import { defineTenantTask } from '../../platform/jobs/tasks.ts';
import type { TenantDb } from '../../platform/context.ts';
import { customListField, sortableField } from '../views/filters.ts';
import { findField } from './repository.ts';
import type { CustomField, CustomFieldsTables, FieldType } from './tables.ts';

export const SORT_INDEX_TASK = 'crm.customFields.sortIndex';
export const SORTABLE_INDEXED: readonly FieldType[] = ['number', 'currency'];
const TABLE_OF = { company: 'companies', deal: 'deals' } as const;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Index name from the field id only (never from user input): 40 characters, within PostgreSQL's 63. */
export function sortIndexName(fieldId: string): string {
  if (!UUID_RE.test(fieldId)) throw new Error(`Not a field id: ${fieldId}`);
  return `cf_sort_${fieldId.replaceAll('-', '')}`;
}

/** The index DDL; its key is the list query's own sort expression, so the two cannot drift apart. */
export function createSortIndexSql(db: Kysely<any>, schema: string, field: Pick<CustomField, 'id' | 'object' | 'type'>): string {
  const sortable = sortableField(customListField(field as CustomField));
  if (!sortable) throw new Error(`Field ${field.id} has no sort key`);
  const compiled = sql`create index concurrently if not exists ${sql.id(sortIndexName(field.id))} on ${sql.id(schema, TABLE_OF[field.object])} ((${sortable.expr}), id)`.compile(db);
  // Index expressions take no bind parameters: the sort key must be all literals.
  if (compiled.parameters.length > 0) throw new Error(`Sort key of field ${field.id} has parameters`);
  return compiled.sql;
}

async function indexState(db: Kysely<any>, schema: string, name: string): Promise<'missing' | 'valid' | 'invalid'> {
  const { rows } = await sql<{ valid: boolean }>`select i.indisvalid as valid from pg_index i
    join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${name}`.execute(db);
  return rows.length === 0 ? 'missing' : rows[0]!.valid ? 'valid' : 'invalid';
}

const dropIndex = (db: Kysely<any>, schema: string, name: string) => sql`drop index concurrently if exists ${sql.id(schema, name)}`.execute(db);

/** Brings the field's sort index in line with the field: built when live and sortable, dropped otherwise. */
export async function syncSortIndex(tenantDb: TenantDb, schema: string, fieldId: string): Promise<'built' | 'present' | 'dropped'> {
  // Concurrent DDL must run outside a transaction, on the plain pool handle.
  const db = tenantDb.withoutPlugins() as Kysely<any>;
  const name = sortIndexName(fieldId);
  const field = await findField(tenantDb.withTables<CustomFieldsTables>(), fieldId);
  if (!field || !SORTABLE_INDEXED.includes(field.type)) {
    await dropIndex(db, schema, name);
    return 'dropped';
  }
  const state = await indexState(db, schema, name);
  if (state === 'valid') return 'present';
  // A build over a large table outlasts the pool's statement_timeout (a timed-out
  // concurrent build leaves an invalid index): lift it on one reserved connection.
  await db.connection().execute(async (conn) => {
    await sql`set statement_timeout = 0`.execute(conn);
    try {
      if (state === 'invalid') await dropIndex(conn, schema, name);
      await sql.raw(createSortIndexSql(conn, schema, field)).execute(conn);
    } finally {
      await sql`reset statement_timeout`.execute(conn);
    }
  });
  return 'built';
}

export const sortIndexTask = defineTenantTask({
  name: SORT_INDEX_TASK,
  payload: Type.Object({ fieldId: Type.String({ pattern: UUID_RE.source }) }),
  async run({ fieldId }, ctx) {
    const outcome = await syncSortIndex(ctx.db, ctx.tenant.schemaName, fieldId);
    ctx.log.info({ fieldId, outcome }, 'custom field sort index');
  },
});
