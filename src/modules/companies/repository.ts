// Data access for companies: plain Kysely functions over a tenant-scoped
// database (or a transaction on it).
import { sql, type Insertable, type Kysely, type RawBuilder, type Updateable } from 'kysely';
import { afterCondition, escapeLike, orderBySort, sortValueColumn, type After, type Sort } from '../views/keyset.ts';
import type { ListField } from '../views/filters.ts';
import type { CompaniesTable, CompaniesTables, Company } from './tables.ts';
import type { ScopeCondition as InScope } from '../../platform/record-scope.ts';

export type CompaniesDb = Kysely<CompaniesTables>;

/** Standard fields of companies for filters and sorts (custom fields come from their definitions). */
export const FIELDS: Record<string, ListField> = {
  name: { expr: sql`name`, kind: 'text', sort: { expr: sql`lower(name)`, cast: 'text' } },
  domain: { expr: sql`domain`, kind: 'text' },
  industry: { expr: sql`industry`, kind: 'text' },
  employees: { expr: sql`employees`, kind: 'number' },
  address: { expr: sql`address`, kind: 'text' },
  ownerId: { expr: sql`owner_id`, kind: 'uuid' },
  createdAt: { expr: sql`created_at`, kind: 'timestamp', sort: { expr: sql`created_at`, cast: 'timestamptz' } },
  updatedAt: { expr: sql`updated_at`, kind: 'timestamp', sort: { expr: sql`updated_at`, cast: 'timestamptz' } },
};

/** Full-text document of a company (matches the GIN expression index of the search migration). */
export const SEARCH_DOCUMENT = sql`to_tsvector('simple', name || ' ' || coalesce(domain, ''))`;

export interface CompanyFilter {
  domain?: string;
  ownerId?: string;
  industry?: string;
  q?: string;
  /** Prefix tsquery over name and domain. */
  search?: string;
  conditions?: RawBuilder<boolean>[];
  deleted?: boolean;
}

export const insertCompany = (db: CompaniesDb, row: Insertable<CompaniesTable>) => db.insertInto('companies').values(row).returningAll().executeTakeFirstOrThrow();

export const findCompany = (db: CompaniesDb, scope: InScope, id: string, opts: { deleted?: boolean; forUpdate?: boolean } = {}) =>
  db
    .selectFrom('companies')
    .selectAll()
    .where('id', '=', id)
    .where('deletedAt', opts.deleted ? 'is not' : 'is', null)
    .where(scope)
    .$if(opts.forUpdate === true, (q) => q.forUpdate())
    .executeTakeFirst();

export const findCompanyForUpdate = (db: CompaniesDb, scope: InScope, id: string) => findCompany(db, scope, id, { forUpdate: true });

export async function listCompanies(db: CompaniesDb, scope: InScope, filter: CompanyFilter, sort: Sort, limit: number, after?: After): Promise<Array<Company & { sortValue: string[] }>> {
  return db
    .selectFrom('companies')
    .selectAll()
    .select(sortValueColumn(sort))
    .where('deletedAt', filter.deleted ? 'is not' : 'is', null)
    .where(scope)
    .$if(filter.domain !== undefined, (q) => q.where('domain', '=', filter.domain!))
    .$if(filter.ownerId !== undefined, (q) => q.where('ownerId', '=', filter.ownerId!))
    .$if(filter.industry !== undefined, (q) => q.where(sql`lower(industry)`, '=', filter.industry!.toLowerCase()))
    .$if(filter.q !== undefined, (q) => {
      const pattern = `%${escapeLike(filter.q!)}%`;
      return q.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('domain', 'ilike', pattern)]));
    })
    .$if(filter.search !== undefined, (q) => q.where(sql<boolean>`${SEARCH_DOCUMENT} @@ to_tsquery('simple', ${filter.search!})`))
    .$if((filter.conditions ?? []).length > 0, (q) => q.where(sql<boolean>`${sql.join(filter.conditions!, sql` and `)}`))
    .$if(after !== undefined, (q) => q.where(afterCondition(sort, after!)))
    .$call((q) => orderBySort(q, sort, 'id'))
    .limit(limit)
    .execute();
}

export const updateCompany = (db: CompaniesDb, id: string, patch: Updateable<CompaniesTable>) =>
  db.updateTable('companies').set(patch).where('id', '=', id).where('deletedAt', 'is', null).returningAll().executeTakeFirst();

export const setCompanyDeleted = (db: CompaniesDb, scope: InScope, id: string, deleted: boolean, by: string, at: Date) =>
  db
    .updateTable('companies')
    .set({ deletedAt: deleted ? at : null, updatedBy: by, updatedAt: at })
    .where('id', '=', id)
    .where('deletedAt', deleted ? 'is' : 'is not', null)
    .where(scope)
    .returningAll()
    .executeTakeFirst();
