// Data access for contacts: plain Kysely functions over a tenant-scoped
// database (or a transaction on it). Every table reference is qualified with
// the tenant's schema by the caller's `withSchema`.
import { sql, type Expression, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { ScopeCondition } from '../../platform/record-scope.ts';
import type { Contact, ContactsTable, ContactsTables } from './tables.ts';

export type ContactsDb = Kysely<ContactsTables>;

export const SORT_FIELDS = ['createdAt', 'updatedAt', 'firstName', 'lastName', 'email'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export interface Sort {
  field: SortField;
  direction: 'asc' | 'desc';
}

export interface ContactFilter {
  email?: string;
  ownerId?: string;
  companyId?: string;
  q?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  deleted?: boolean;
}

/** Keyset position: the sort value and id of the last row of the previous page. */
export interface After {
  value: string | Date;
  id: string;
}

const isDateField = (f: SortField) => f === 'createdAt' || f === 'updatedAt';

// Nullable text sorts on coalesce(col, '') so NULLs have a place in the
// keyset order (and match the expression index on last_name).
function sortExpression(field: SortField): Expression<unknown> {
  return isDateField(field) ? sql.ref(field) : sql`coalesce(${sql.ref(field)}, '')`;
}

export function sortValueOf(contact: Contact, field: SortField): string | Date {
  const v = contact[field];
  return v instanceof Date ? v : (v ?? '');
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

// Callers that set only `email`/`phone` (seeds, sync) get one-element lists, so the primary is always the first of its list.
export const insertContact = (db: ContactsDb, row: Insertable<ContactsTable>) =>
  db
    .insertInto('contacts')
    .values({ ...row, emails: row.emails ?? (row.email ? [row.email] : []), phones: row.phones ?? (row.phone ? [row.phone] : []) })
    .returningAll()
    .executeTakeFirstOrThrow();

/** A new primary put first in its list (the old primary dropped); null promotes the next one. */
export const withNewPrimary = (list: 'emails' | 'phones', primary: 'email' | 'phone', value: string | null) =>
  sql<string[]>`array_remove(array[${value}::text] || array_remove(array_remove(${sql.ref(list)}, ${sql.ref(primary)}), ${value}::text), null)`;

// Every read and write takes the caller's record scope (ownerInScope): a
// contact outside it is treated as missing, in the query itself.

export const findContact = (db: ContactsDb, id: string, inScope: ScopeCondition, opts: { deleted?: boolean; forUpdate?: boolean } = {}) =>
  db
    .selectFrom('contacts')
    .selectAll()
    .where('id', '=', id)
    .where(inScope)
    .$if(opts.deleted !== undefined, (q) => q.where('deletedAt', opts.deleted ? 'is not' : 'is', null))
    .$if(opts.forUpdate === true, (q) => q.forUpdate())
    .executeTakeFirst();

export async function listContacts(db: ContactsDb, inScope: ScopeCondition, filter: ContactFilter, sort: Sort, limit: number, after?: After): Promise<Contact[]> {
  const expr = sortExpression(sort.field);
  let query = db
    .selectFrom('contacts')
    .selectAll()
    .where(inScope)
    .where('deletedAt', filter.deleted ? 'is not' : 'is', null)
    .$if(filter.email !== undefined, (q) => q.where(sql`lower(email)`, '=', filter.email!.toLowerCase()))
    .$if(filter.ownerId !== undefined, (q) => q.where('ownerId', '=', filter.ownerId!))
    .$if(filter.companyId !== undefined, (q) => q.where('companyId', '=', filter.companyId!))
    .$if(filter.createdAfter !== undefined, (q) => q.where('createdAt', '>=', filter.createdAfter!))
    .$if(filter.createdBefore !== undefined, (q) => q.where('createdAt', '<', filter.createdBefore!))
    .$if(filter.q !== undefined, (q) => {
      const pattern = `%${escapeLike(filter.q!)}%`;
      return q.where((eb) =>
        eb.or([
          eb(sql`first_name || ' ' || coalesce(last_name, '')`, 'ilike', pattern),
          eb('email', 'ilike', pattern),
        ]),
      );
    });
  if (after) {
    const op = sql.raw(sort.direction === 'asc' ? '>' : '<');
    const value = isDateField(sort.field) ? sql`${after.value}::timestamptz` : sql`${after.value}::text`;
    query = query.where(sql<boolean>`(${expr}, id) ${op} (${value}, ${after.id}::uuid)`);
  }
  return query.orderBy(expr, sort.direction).orderBy('id', sort.direction).limit(limit).execute();
}

export const updateContact = (db: ContactsDb, id: string, inScope: ScopeCondition, patch: Updateable<ContactsTable>) =>
  db
    .updateTable('contacts')
    .set({
      ...patch,
      ...(patch.email !== undefined && patch.emails === undefined ? { emails: withNewPrimary('emails', 'email', patch.email), email: sql<string>`(${withNewPrimary('emails', 'email', patch.email)})[1]` } : {}),
      ...(patch.phone !== undefined && patch.phones === undefined ? { phones: withNewPrimary('phones', 'phone', patch.phone), phone: sql<string>`(${withNewPrimary('phones', 'phone', patch.phone)})[1]` } : {}),
    })
    .where('id', '=', id)
    .where(inScope)
    .where('deletedAt', 'is', null)
    .returningAll()
    .executeTakeFirst();

export const setDeleted = (db: ContactsDb, id: string, inScope: ScopeCondition, deleted: boolean, by: string, at: Date) =>
  db
    .updateTable('contacts')
    .set({ deletedAt: deleted ? at : null, updatedBy: by, updatedAt: at })
    .where('id', '=', id)
    .where(inScope)
    .where('deletedAt', deleted ? 'is' : 'is not', null)
    .returningAll()
    .executeTakeFirst();
