// Data access for companies: plain Kysely functions over a tenant-scoped
// database (or a transaction on it).
import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { afterCondition, escapeLike, sortValueColumn, type After, type Sort, type SortableField } from '../views/keyset.ts';
import type { CompaniesTable, CompaniesTables, Company } from './tables.ts';

export type CompaniesDb = Kysely<CompaniesTables>;

export const SORT_FIELDS: Record<string, SortableField> = {
  createdAt: { expr: sql`created_at`, cast: 'timestamptz' },
  updatedAt: { expr: sql`updated_at`, cast: 'timestamptz' },
  name: { expr: sql`lower(name)`, cast: 'text' },
  domain: { expr: sql`coalesce(domain, '')`, cast: 'text' },
  employees: { expr: sql`coalesce(employees, -1)`, cast: 'numeric' },
};

export interface CompanyFilter {
  domain?: string;
  ownerId?: string;
  industry?: string;
  q?: string;
  deleted?: boolean;
}

export const insertCompany = (db: CompaniesDb, row: Insertable<CompaniesTable>) => db.insertInto('companies').values(row).returningAll().executeTakeFirstOrThrow();

export const findCompany = (db: CompaniesDb, id: string, opts: { deleted?: boolean } = {}) =>
  db.selectFrom('companies').selectAll().where('id', '=', id).where('deletedAt', opts.deleted ? 'is not' : 'is', null).executeTakeFirst();

export const findCompanyForUpdate = (db: CompaniesDb, id: string) =>
  db.selectFrom('companies').selectAll().where('id', '=', id).where('deletedAt', 'is', null).forUpdate().executeTakeFirst();

export async function listCompanies(db: CompaniesDb, filter: CompanyFilter, sort: Sort, limit: number, after?: After): Promise<Array<Company & { sortValue: string }>> {
  return db
    .selectFrom('companies')
    .selectAll()
    .select(sortValueColumn(sort))
    .where('deletedAt', filter.deleted ? 'is not' : 'is', null)
    .$if(filter.domain !== undefined, (q) => q.where('domain', '=', filter.domain!))
    .$if(filter.ownerId !== undefined, (q) => q.where('ownerId', '=', filter.ownerId!))
    .$if(filter.industry !== undefined, (q) => q.where(sql`lower(industry)`, '=', filter.industry!.toLowerCase()))
    .$if(filter.q !== undefined, (q) => {
      const pattern = `%${escapeLike(filter.q!)}%`;
      return q.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('domain', 'ilike', pattern)]));
    })
    .$if(after !== undefined, (q) => q.where(afterCondition(sort, after!)))
    .orderBy(sort.field.expr, sort.direction)
    .orderBy('id', sort.direction)
    .limit(limit)
    .execute();
}

export const updateCompany = (db: CompaniesDb, id: string, patch: Updateable<CompaniesTable>) =>
  db.updateTable('companies').set(patch).where('id', '=', id).where('deletedAt', 'is', null).returningAll().executeTakeFirst();

export const setCompanyDeleted = (db: CompaniesDb, id: string, deleted: boolean, by: string, at: Date) =>
  db
    .updateTable('companies')
    .set({ deletedAt: deleted ? at : null, updatedBy: by, updatedAt: at })
    .where('id', '=', id)
    .where('deletedAt', deleted ? 'is' : 'is not', null)
    .returningAll()
    .executeTakeFirst();
