// Data access for pipelines, stages, deals and stage history: plain Kysely
// functions over a tenant-scoped database (or a transaction on it).
import { sql, type Insertable, type Kysely, type RawBuilder, type Updateable } from 'kysely';
import { afterCondition, escapeLike, orderBySort, sortValueColumn, type After, type Sort } from '../views/keyset.ts';
import type { ListField } from '../views/filters.ts';
import type { ScopeCondition as InScope } from '../../platform/record-scope.ts';
import type { Deal, DealsTable, DealsTables, Pipeline, PipelineStagesTable, Stage, StageKind } from './tables.ts';

export type DealsDb = Kysely<DealsTables>;

// ---- pipelines and stages

export const listPipelines = (db: DealsDb, opts: { deleted?: boolean } = {}) =>
  db.selectFrom('pipelines').selectAll().where('deletedAt', opts.deleted ? 'is not' : 'is', null).orderBy('createdAt').orderBy('id').execute();

export const findPipeline = (db: DealsDb, id: string, opts: { deleted?: boolean; forUpdate?: boolean } = {}) =>
  db
    .selectFrom('pipelines')
    .selectAll()
    .where('id', '=', id)
    .where('deletedAt', opts.deleted ? 'is not' : 'is', null)
    .$if(opts.forUpdate === true, (q) => q.forUpdate())
    .executeTakeFirst();

export const findDefaultPipeline = (db: DealsDb) => db.selectFrom('pipelines').selectAll().where('isDefault', '=', true).where('deletedAt', 'is', null).executeTakeFirst();

export const stagesOf = (db: DealsDb, pipelineIds: readonly string[]): Promise<Stage[]> =>
  pipelineIds.length === 0 ? Promise.resolve([]) : db.selectFrom('pipelineStages').selectAll().where('pipelineId', 'in', pipelineIds).orderBy('pipelineId').orderBy('position').execute();

export const findStage = (db: DealsDb, id: string) => db.selectFrom('pipelineStages').selectAll().where('id', '=', id).executeTakeFirst();

export const insertPipeline = (db: DealsDb, row: Insertable<DealsTables['pipelines']>): Promise<Pipeline> => db.insertInto('pipelines').values(row).returningAll().executeTakeFirstOrThrow();

export const updatePipeline = (db: DealsDb, id: string, patch: Updateable<DealsTables['pipelines']>) =>
  db.updateTable('pipelines').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();

export const insertStage = (db: DealsDb, row: Insertable<PipelineStagesTable>) => db.insertInto('pipelineStages').values(row).execute();

export const updateStage = (db: DealsDb, id: string, patch: Updateable<PipelineStagesTable>) => db.updateTable('pipelineStages').set(patch).where('id', '=', id).execute();

export const deleteStages = (db: DealsDb, ids: readonly string[]) => (ids.length === 0 ? Promise.resolve() : db.deleteFrom('pipelineStages').where('id', 'in', ids).execute());

/** Stages among `ids` that a deal (live or deleted) or a history row still points at. */
export async function stagesInUse(db: DealsDb, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('pipelineStages as s')
    .select('s.id')
    .where('s.id', 'in', ids)
    .where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('deals').select('deals.id').whereRef('deals.stageId', '=', 's.id')),
        eb.exists(eb.selectFrom('dealStageHistory as h').select('h.id').where((w) => w.or([w('h.toStageId', '=', w.ref('s.id')), w('h.fromStageId', '=', w.ref('s.id'))]))),
      ]),
    )
    .execute();
  return rows.map((r) => r.id);
}

export const liveDealCountIn = async (db: DealsDb, pipelineId: string) =>
  Number((await db.selectFrom('deals').select((eb) => eb.fn.countAll().as('n')).where('pipelineId', '=', pipelineId).where('deletedAt', 'is', null).executeTakeFirstOrThrow()).n);

// ---- deals

/** Standard fields of deals for filters and sorts (custom fields come from their definitions). */
export const DEAL_FIELDS: Record<string, ListField> = {
  name: { expr: sql`deals.name`, kind: 'text', sort: { expr: sql`lower(deals.name)`, cast: 'text' } },
  amount: { expr: sql`deals.amount`, kind: 'number' },
  currency: { expr: sql`deals.currency::text`, kind: 'text' },
  closeDate: { expr: sql`deals.close_date`, kind: 'date' },
  pipelineId: { expr: sql`deals.pipeline_id`, kind: 'uuid' },
  stageId: { expr: sql`deals.stage_id`, kind: 'uuid' },
  companyId: { expr: sql`deals.company_id`, kind: 'uuid' },
  ownerId: { expr: sql`deals.owner_id`, kind: 'uuid' },
  createdAt: { expr: sql`deals.created_at`, kind: 'timestamp', sort: { expr: sql`deals.created_at`, cast: 'timestamptz' } },
  updatedAt: { expr: sql`deals.updated_at`, kind: 'timestamp', sort: { expr: sql`deals.updated_at`, cast: 'timestamptz' } },
  stageChangedAt: { expr: sql`deals.stage_changed_at`, kind: 'timestamp', sort: { expr: sql`deals.stage_changed_at`, cast: 'timestamptz' } },
};

/** Full-text document of a deal (matches the GIN expression index of the search migration). */
export const DEAL_SEARCH_DOCUMENT = sql`to_tsvector('simple', deals.name)`;

export interface DealFilter {
  pipelineId?: string;
  stageId?: string;
  status?: StageKind;
  ownerId?: string;
  companyId?: string;
  contactId?: string;
  q?: string;
  amountMin?: string;
  amountMax?: string;
  closeDateFrom?: string;
  closeDateTo?: string;
  ids?: readonly string[];
  search?: string;
  conditions?: RawBuilder<boolean>[];
  deleted?: boolean;
}

function dealSelect(db: DealsDb) {
  return db
    .selectFrom('deals')
    .select([
      'deals.id',
      'deals.name',
      'deals.amount',
      'deals.currency',
      sql<string | null>`deals.close_date::text`.as('closeDate'),
      'deals.pipelineId',
      'deals.stageId',
      'deals.stageChangedAt',
      'deals.companyId',
      'deals.ownerId',
      'deals.custom',
      'deals.createdBy',
      'deals.updatedBy',
      'deals.createdAt',
      'deals.updatedAt',
      'deals.deletedAt',
      // A correlated subquery built with Kysely so the tenant schema is applied to it.
      (eb) =>
        sql<string[]>`array(${eb.selectFrom('dealContacts as dc').select(sql`dc.contact_id::text`.as('c')).whereRef('dc.dealId', '=', 'deals.id').orderBy('dc.contactId')})`.as('contactIds'),
    ]);
}

export const findDeal = (db: DealsDb, scope: InScope, id: string, opts: { deleted?: boolean; forUpdate?: boolean } = {}): Promise<Deal | undefined> =>
  dealSelect(db)
    .where('deals.id', '=', id)
    .where('deals.deletedAt', opts.deleted ? 'is not' : 'is', null)
    .where(scope)
    .$if(opts.forUpdate === true, (q) => q.forUpdate())
    .executeTakeFirst();

export async function listDeals(db: DealsDb, scope: InScope, filter: DealFilter, sort: Sort, limit: number, after?: After): Promise<Array<Deal & { sortValue: string[] }>> {
  return dealSelect(db)
    .select(sortValueColumn(sort))
    .where('deals.deletedAt', filter.deleted ? 'is not' : 'is', null)
    .where(scope)
    .$if(filter.ids !== undefined, (q) => q.where('deals.id', 'in', filter.ids!.length ? filter.ids! : ['00000000-0000-0000-0000-000000000000']))
    .$if(filter.pipelineId !== undefined, (q) => q.where('deals.pipelineId', '=', filter.pipelineId!))
    .$if(filter.stageId !== undefined, (q) => q.where('deals.stageId', '=', filter.stageId!))
    .$if(filter.status !== undefined, (q) => q.where('deals.stageId', 'in', (eb) => eb.selectFrom('pipelineStages').select('pipelineStages.id').where('pipelineStages.kind', '=', filter.status!)))
    .$if(filter.ownerId !== undefined, (q) => q.where('deals.ownerId', '=', filter.ownerId!))
    .$if(filter.companyId !== undefined, (q) => q.where('deals.companyId', '=', filter.companyId!))
    .$if(filter.contactId !== undefined, (q) =>
      q.where('deals.id', 'in', (eb) => eb.selectFrom('dealContacts').select('dealContacts.dealId').where('dealContacts.contactId', '=', filter.contactId!)),
    )
    .$if(filter.amountMin !== undefined, (q) => q.where('deals.amount', '>=', filter.amountMin!))
    .$if(filter.amountMax !== undefined, (q) => q.where('deals.amount', '<=', filter.amountMax!))
    .$if(filter.closeDateFrom !== undefined, (q) => q.where(sql`deals.close_date`, '>=', sql`${filter.closeDateFrom!}::date`))
    .$if(filter.closeDateTo !== undefined, (q) => q.where(sql`deals.close_date`, '<=', sql`${filter.closeDateTo!}::date`))
    .$if(filter.q !== undefined, (q) => q.where('deals.name', 'ilike', `%${escapeLike(filter.q!)}%`))
    .$if(filter.search !== undefined, (q) => q.where(sql<boolean>`${DEAL_SEARCH_DOCUMENT} @@ to_tsquery('simple', ${filter.search!})`))
    .$if((filter.conditions ?? []).length > 0, (q) => q.where(sql<boolean>`${sql.join(filter.conditions!, sql` and `)}`))
    .$if(after !== undefined, (q) => q.where(afterCondition(sort, after!, sql.ref('deals.id'))))
    .$call((q) => orderBySort(q, sort, 'deals.id'))
    .limit(limit)
    .execute();
}

export const insertDeal = (db: DealsDb, row: Insertable<DealsTable>) => db.insertInto('deals').values(row).execute();

export const updateDeal = (db: DealsDb, id: string, patch: Updateable<DealsTable>) => db.updateTable('deals').set(patch).where('id', '=', id).execute();

export const setDealDeleted = (db: DealsDb, scope: InScope, id: string, deleted: boolean, by: string, at: Date) =>
  db
    .updateTable('deals')
    .set({ deletedAt: deleted ? at : null, updatedBy: by, updatedAt: at })
    .where('id', '=', id)
    .where('deletedAt', deleted ? 'is' : 'is not', null)
    .where(scope)
    .returning('id')
    .executeTakeFirst();

export async function setDealContacts(db: DealsDb, dealId: string, contactIds: readonly string[]): Promise<void> {
  await db.deleteFrom('dealContacts').where('dealId', '=', dealId).execute();
  if (contactIds.length > 0) await db.insertInto('dealContacts').values(contactIds.map((contactId) => ({ dealId, contactId }))).execute();
}

/** Ids among `ids` that are live contacts of this tenant. */
export const liveContactIds = async (db: DealsDb, ids: readonly string[]) =>
  ids.length === 0 ? [] : (await db.selectFrom('contacts').select('id').where('id', 'in', ids).where('deletedAt', 'is', null).execute()).map((r) => r.id);

export const liveCompanyExists = async (db: DealsDb, id: string) => (await db.selectFrom('companies').select('id').where('id', '=', id).where('deletedAt', 'is', null).executeTakeFirst()) !== undefined;

export const insertStageChange = (db: DealsDb, row: Insertable<DealsTables['dealStageHistory']>) => db.insertInto('dealStageHistory').values(row).execute();

export const stageHistory = (db: DealsDb, dealId: string) =>
  db
    .selectFrom('dealStageHistory as h')
    .innerJoin('pipelineStages as t', 't.id', 'h.toStageId')
    .leftJoin('pipelineStages as f', 'f.id', 'h.fromStageId')
    .select(['h.id', 'h.fromStageId', 'f.name as fromStageName', 'h.toStageId', 't.name as toStageName', 'h.changedAt', 'h.changedBy'])
    .where('h.dealId', '=', dealId)
    .orderBy('h.changedAt')
    .orderBy('h.id')
    .execute();
