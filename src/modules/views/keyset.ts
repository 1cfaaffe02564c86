// Keyset (cursor) pagination shared by the CRM lists, for a sort over one or
// more fields plus the row id as tie-break. Each sort key is an SQL
// expression that is never NULL (nullable values are coalesced to a
// sentinel); the cursor carries the last row's values as text and casts them
// back with each expression's type, so one helper serves text, numeric,
// date, boolean and timestamp keys alike, in any mix of directions.
import { sql, type RawBuilder } from 'kysely';
import { AppError } from '../../platform/errors.ts';

export type Cast = 'text' | 'numeric' | 'date' | 'timestamptz' | 'boolean';

export interface SortableField {
  /** SQL for the sort key; must not be NULL (coalesce nullable columns). */
  expr: RawBuilder<unknown>;
  cast: Cast;
}

export interface SortKey {
  field: SortableField;
  direction: 'asc' | 'desc';
}

export interface Sort {
  /** Canonical text of the sort, e.g. "-amount,name": a cursor is only valid for the sort it came from. */
  key: string;
  keys: SortKey[];
  /** Direction of the id tie-break (that of the first key). */
  direction: 'asc' | 'desc';
}

export interface After {
  values: string[];
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const badSort = (detail: string) => new AppError('validation_failed', detail, { errors: [{ in: 'query', pointer: '/sort', detail }] });

/** "-amount,name" → sort keys; `resolve` maps a field name to its sortable expression. */
export function parseSort(sort: string, resolve: Record<string, SortableField> | ((name: string) => SortableField | undefined)): Sort {
  const parts = sort.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0 || parts.length > 4) throw badSort('sort by one to four fields');
  const names = new Set<string>();
  const keys = parts.map((part) => {
    const direction = part.startsWith('-') ? ('desc' as const) : ('asc' as const);
    const name = part.replace(/^[-+]/, '');
    if (names.has(name)) throw badSort(`"${name}" appears twice`);
    names.add(name);
    const field = typeof resolve === 'function' ? resolve(name) : Object.hasOwn(resolve, name) ? resolve[name] : undefined;
    if (!field) throw badSort(`cannot sort by "${name}"`);
    return { field, direction };
  });
  return { key: parts.join(','), keys, direction: keys[0]!.direction };
}

export const encodeCursor = (sort: Sort, after: After) => Buffer.from(JSON.stringify({ s: sort.key, v: after.values, id: after.id })).toString('base64url');

export function decodeCursor(cursor: string, sort: Sort): After {
  let body: { s?: unknown; v?: unknown; id?: unknown };
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof body;
  } catch {
    throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
  }
  const ok =
    typeof body === 'object' && body !== null && Array.isArray(body.v) && body.v.length === sort.keys.length && body.v.every((v) => typeof v === 'string') && typeof body.id === 'string' && UUID_RE.test(body.id);
  if (!ok) throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
  if (body.s !== sort.key) throw new AppError('invalid_cursor', `The cursor belongs to sort "${String(body.s)}", not "${sort.key}"`);
  return { values: body.v as string[], id: body.id as string };
}

/** The sort keys as text, selected beside the row so the next cursor can be built. */
export const sortValueColumn = (sort: Sort) => sql<string[]>`jsonb_build_array(${sql.join(sort.keys.map((k) => sql`(${k.field.expr})::text`))})`.as('sortValue');

/**
 * WHERE condition: rows strictly after the cursor in the sort order. With one
 * direction it is a row comparison, (a, b, id) > (x, y, z), which PostgreSQL
 * turns into an index range scan. Mixed directions are written out as
 * (a > x) or (a = x and b < y) or ..., with the first key's bound (a >= x)
 * added so an index on the first key still bounds the scan.
 */
export function afterCondition(sort: Sort, after: After, idColumn: RawBuilder<unknown> | ReturnType<typeof sql.ref> = sql.ref('id')): RawBuilder<boolean> {
  const value = (i: number) => sql`cast(${after.values[i]} as ${sql.raw(sort.keys[i]!.field.cast)})`;
  const op = (direction: 'asc' | 'desc', orEqual = false) => sql.raw(`${direction === 'asc' ? '>' : '<'}${orEqual ? '=' : ''}`);
  if (sort.keys.every((k) => k.direction === sort.direction)) {
    const left = sql.join([...sort.keys.map((k) => k.field.expr), idColumn]);
    const right = sql.join([...sort.keys.map((_, i) => value(i)), sql`${after.id}::uuid`]);
    return sql<boolean>`(${left}) ${op(sort.direction)} (${right})`;
  }
  const terms = [...sort.keys, null].map((key, i) => {
    const equalBefore = sort.keys.slice(0, i).map((k, j) => sql`${k.field.expr} = ${value(j)}`);
    const step = key ? sql`${key.field.expr} ${op(key.direction)} ${value(i)}` : sql`${idColumn} ${op(sort.direction)} ${after.id}::uuid`;
    return sql`(${sql.join([...equalBefore, step], sql` and `)})`;
  });
  const first = sort.keys[0]!;
  return sql<boolean>`(${first.field.expr} ${op(first.direction, true)} ${value(0)} and (${sql.join(terms, sql` or `)}))`;
}

/** ORDER BY the sort keys then the id. */
export function orderBySort<Q extends { orderBy(expr: any, dir: 'asc' | 'desc'): Q }>(query: Q, sort: Sort, idColumn: string): Q {
  let q = query;
  for (const k of sort.keys) q = q.orderBy(k.field.expr, k.direction);
  return q.orderBy(sql.ref(idColumn), sort.direction);
}

/** Cuts the extra row fetched to know whether a next page exists, and strips the sort column. */
export function toPage<R extends { id: string; sortValue: string[] }>(rows: R[], limit: number, sort: Sort): { data: Omit<R, 'sortValue'>[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor(sort, { values: last.sortValue, id: last.id }) : null;
  return { data: page.map(({ sortValue: _s, ...rest }) => rest), nextCursor };
}

export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
