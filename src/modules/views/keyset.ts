// Keyset (cursor) pagination shared by the CRM lists. A sort is one SQL
// expression plus the row id as tie-break; the cursor carries the expression's
// value as text and is cast back with the expression's type, so one helper
// serves text, numeric, date and timestamp sorts alike.
import { sql, type Expression, type RawBuilder } from 'kysely';
import { AppError } from '../../platform/errors.ts';

export interface SortableField {
  /** SQL for the sort key; must not be NULL (coalesce nullable columns). */
  expr: RawBuilder<unknown>;
  /** The type the cursor value is cast back to. */
  cast: 'text' | 'numeric' | 'date' | 'timestamptz' | 'boolean';
}

export interface Sort {
  key: string;
  field: SortableField;
  direction: 'asc' | 'desc';
}

export interface After {
  value: string;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseSort(sort: string, fields: Record<string, SortableField>): Sort {
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const name = sort.replace(/^[-+]/, '');
  const field = fields[name];
  if (!field) throw new AppError('validation_failed', `Cannot sort by "${name}"`, { errors: [{ in: 'query', pointer: '/sort', detail: 'unknown sort field' }] });
  return { key: `${direction === 'desc' ? '-' : ''}${name}`, field, direction };
}

export const encodeCursor = (sort: Sort, after: After) => Buffer.from(JSON.stringify({ s: sort.key, v: after.value, id: after.id })).toString('base64url');

export function decodeCursor(cursor: string, sort: Sort): After {
  let body: { s?: unknown; v?: unknown; id?: unknown };
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof body;
  } catch {
    throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
  }
  if (typeof body !== 'object' || body === null || typeof body.v !== 'string' || typeof body.id !== 'string' || !UUID_RE.test(body.id)) {
    throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
  }
  if (body.s !== sort.key) throw new AppError('invalid_cursor', `The cursor belongs to sort "${String(body.s)}", not "${sort.key}"`);
  return { value: body.v, id: body.id };
}

/** The sort key as text, selected beside the row so the next cursor can be built. */
export const sortValueColumn = (sort: Sort) => sql<string>`(${sort.field.expr})::text`.as('sortValue');

/** WHERE condition: rows strictly after the cursor in the sort order. */
export function afterCondition(sort: Sort, after: After, idColumn: Expression<unknown> = sql.ref('id')): RawBuilder<boolean> {
  const op = sql.raw(sort.direction === 'asc' ? '>' : '<');
  return sql<boolean>`(${sort.field.expr}, ${idColumn}) ${op} (cast(${after.value} as ${sql.raw(sort.field.cast)}), ${after.id}::uuid)`;
}

/** Cuts the extra row fetched to know whether a next page exists, and strips the sort column. */
export function toPage<R extends { id: string; sortValue: string }>(rows: R[], limit: number, sort: Sort): { data: Omit<R, 'sortValue'>[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor(sort, { value: last.sortValue, id: last.id }) : null;
  return { data: page.map(({ sortValue: _s, ...rest }) => rest), nextCursor };
}

export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
