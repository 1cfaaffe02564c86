// Opaque keyset cursors: base64url JSON of the sort they belong to and the
// position after which the next page starts.
import { AppError } from '../../platform/errors.ts';
import type { After, Sort } from './repository.ts';

interface CursorBody {
  s: string;
  v: string;
  d?: 1;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const sortKey = (sort: Sort) => `${sort.direction === 'desc' ? '-' : ''}${sort.field}`;

export function encodeCursor(sort: Sort, after: After): string {
  const body: CursorBody =
    after.value instanceof Date ? { s: sortKey(sort), v: after.value.toISOString(), d: 1, id: after.id } : { s: sortKey(sort), v: after.value, id: after.id };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(cursor: string, sort: Sort): After {
  let body: Partial<CursorBody>;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorBody>;
  } catch {
    throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
  }
  if (typeof body !== 'object' || body === null || typeof body.v !== 'string' || typeof body.id !== 'string' || !UUID_RE.test(body.id)) {
    throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
  }
  if (body.s !== sortKey(sort)) throw new AppError('invalid_cursor', `The cursor belongs to sort "${body.s}", not "${sortKey(sort)}"`);
  if (body.d === 1) {
    const date = new Date(body.v);
    if (Number.isNaN(date.getTime())) throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
    return { value: date, id: body.id };
  }
  return { value: body.v, id: body.id };
}
