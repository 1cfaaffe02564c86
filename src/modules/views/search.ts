// One search box over companies, people and deals: PostgreSQL full-text
// search (prefix terms, 'simple' configuration so names are not stemmed)
// on the GIN expression indexes of the search migration, best matches first.
// Each object is searched only when the caller may read it, within the
// caller's record scope for it.
import { sql } from 'kysely';
import type { RequestContext } from '../../platform/context.ts';
import type { DealsTables } from '../deals/tables.ts';
import { SEARCH_DOCUMENT as COMPANY_DOC } from '../companies/repository.ts';
import { DEAL_SEARCH_DOCUMENT } from '../deals/repository.ts';
import { prefixTsQuery } from './filters.ts';
import { ownerInScope } from '../../platform/record-scope.ts';

const CONTACT_DOC = sql`to_tsvector('simple', first_name || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, ''))`;

export async function searchCrm(ctx: RequestContext, q: string, limit: number) {
  const tsquery = prefixTsQuery(q);
  const empty = { companies: [], contacts: [], deals: [] };
  if (!tsquery) return empty;
  const db = ctx.db.withTables<DealsTables>();
  const may = (p: string) => ctx.actor.permissions.has(p);
  const query = sql`to_tsquery('simple', ${tsquery})`;
  const [companies, contacts, deals] = await Promise.all([
    may('crm.companies.read')
      ? db.selectFrom('companies').select(['id', 'name', 'domain']).where('deletedAt', 'is', null).where(ownerInScope(ctx, 'crm.companies.read', 'ownerId')).where(sql<boolean>`${COMPANY_DOC} @@ ${query}`).orderBy(sql`ts_rank(${COMPANY_DOC}, ${query})`, 'desc').orderBy('id').limit(limit).execute()
      : [],
    may('crm.contacts.read')
      ? db.selectFrom('contacts').select(['id', 'firstName', 'lastName', 'email']).where('deletedAt', 'is', null).where(ownerInScope(ctx, 'crm.contacts.read', 'ownerId')).where(sql<boolean>`${CONTACT_DOC} @@ ${query}`).orderBy(sql`ts_rank(${CONTACT_DOC}, ${query})`, 'desc').orderBy('id').limit(limit).execute()
      : [],
    may('crm.deals.read')
      ? db.selectFrom('deals').select(['deals.id', 'deals.name', 'deals.amount', 'deals.currency']).where('deals.deletedAt', 'is', null).where(ownerInScope(ctx, 'crm.deals.read', 'deals.ownerId')).where(sql<boolean>`${DEAL_SEARCH_DOCUMENT} @@ ${query}`).orderBy(sql`ts_rank(${DEAL_SEARCH_DOCUMENT}, ${query})`, 'desc').orderBy('deals.id').limit(limit).execute()
      : [],
  ]);
  return { companies, contacts, deals };
}
