// Report queries. Pipeline state at a past date is rebuilt from the stage
// history (the last stage each deal entered on or before that date), never
// from the deals' current stage.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DealsDb } from '../deals/repository.ts';
import type { ScopeCondition as InScope } from '../../platform/record-scope.ts';

/**
 * The caller's record scope for reports as a condition on an owner column
 * (`ownerInScope(ctx, 'crm.reports.read', column)`); undefined when the
 * caller sees every record, so the full-tenant queries stay as they are.
 */
export type ReportScope = ((ownerColumn: string) => InScope) | undefined;

/** `and <alias>.id in (records of <table> in scope)`, built with Kysely so the tenant schema applies. */
function scopedIds(db: DealsDb, scope: ReportScope, table: 'deals' | 'activities', alias: string) {
  if (!scope) return sql``;
  const ids = (db as unknown as Kysely<any>).selectFrom(table).select(`${table}.id`).where(scope(`${table}.ownerId`));
  return sql`and ${sql.ref(`${alias}.id`)} in (${ids})`;
}

export interface StageTotalRow {
  stageId: string;
  currency: string | null;
  count: number;
  amount: string | null;
  weightedAmount: string | null;
}

export async function pipelineAt(db: DealsDb, scope: ReportScope, pipelineId: string, at: Date, ownerId?: string): Promise<StageTotalRow[]> {
  const current = db
    .selectFrom('dealStageHistory as h')
    .select(['h.dealId', 'h.toStageId'])
    .distinctOn('h.dealId')
    .where('h.changedAt', '<=', at)
    .orderBy('h.dealId')
    .orderBy('h.changedAt', 'desc')
    .orderBy('h.id', 'desc');
  return db
    .selectFrom(current.as('cs'))
    .innerJoin('pipelineStages as s', 's.id', 'cs.toStageId')
    .innerJoin('deals as d', 'd.id', 'cs.dealId')
    .where('s.pipelineId', '=', pipelineId)
    .where((eb) => eb.or([eb('d.deletedAt', 'is', null), eb('d.deletedAt', '>', at)]))
    .$if(ownerId !== undefined, (q) => q.where('d.ownerId', '=', ownerId!))
    .$if(scope !== undefined, (q) => q.where(scope!('d.ownerId')))
    .select([
      's.id as stageId',
      sql<string | null>`d.currency::text`.as('currency'),
      sql<number>`count(*)::int`.as('count'),
      sql<string | null>`sum(d.amount)::numeric(20, 2)::text`.as('amount'),
      sql<string | null>`sum(d.amount * s.probability / 100.0)::numeric(20, 2)::text`.as('weightedAmount'),
    ])
    .groupBy(['s.id', 'd.currency'])
    .orderBy('s.id')
    .orderBy('d.currency')
    .execute();
}

export interface OutcomeRow {
  /** 'all' for the total row, 'owner' for one owner's row (ownerId null = deals without owner). */
  scope: 'all' | 'owner';
  ownerId: string | null;
  won: number;
  lost: number;
  wonAmount: string | null;
  avgCycleDays: string | null;
}

/**
 * Deals that closed in [from, to): their stage at `to` is won or lost and
 * they entered it inside the range. Cycle length = entering the won stage
 * minus the deal's creation, averaged over won deals. The first row (scope 'all') is the total.
 */
export async function outcomes(db: DealsDb, scope: ReportScope, schema: string, range: { from: Date; to: Date; ownerId?: string; pipelineId?: string }): Promise<OutcomeRow[]> {
  const t = (n: string) => sql.id(schema, n);
  const { rows } = await sql<OutcomeRow>`
    with last as (
      select distinct on (h.deal_id) h.deal_id, h.to_stage_id, h.changed_at
      from ${t('deal_stage_history')} h where h.changed_at < ${range.to}
      order by h.deal_id, h.changed_at desc, h.id desc
    ), closed as (
      select d.owner_id, s.kind, d.amount, extract(epoch from (l.changed_at - d.created_at)) / 86400 as days
      from last l join ${t('pipeline_stages')} s on s.id = l.to_stage_id join ${t('deals')} d on d.id = l.deal_id
      where s.kind in ('won', 'lost') and l.changed_at >= ${range.from} and (d.deleted_at is null or d.deleted_at >= ${range.to})
        ${range.ownerId ? sql`and d.owner_id = ${range.ownerId}` : sql``}
        ${range.pipelineId ? sql`and s.pipeline_id = ${range.pipelineId}` : sql``}
        ${scopedIds(db, scope, 'deals', 'd')}
    )
    select case when grouping(owner_id) = 1 then 'all' else 'owner' end as scope, owner_id, count(*) filter (where kind = 'won')::int as won, count(*) filter (where kind = 'lost')::int as lost,
           (sum(amount) filter (where kind = 'won'))::numeric(20, 2)::text as won_amount,
           (avg(days) filter (where kind = 'won'))::numeric(10, 1)::text as avg_cycle_days
    from closed group by grouping sets ((owner_id), ()) order by grouping(owner_id) desc, owner_id nulls first`.execute(db);
  return rows;
}

export interface ConversionRow {
  stageId: string;
  reached: number;
}

/**
 * Per stage of a pipeline, how many deals created in [from, to) ever reached
 * it or a later stage (from stage history; entering a lost stage is not
 * progress). Conversion is computed from consecutive rows.
 */
export async function stageReach(db: DealsDb, scope: ReportScope, schema: string, pipelineId: string, range: { from: Date; to: Date; ownerId?: string }): Promise<ConversionRow[]> {
  const t = (n: string) => sql.id(schema, n);
  const { rows } = await sql<ConversionRow>`
    with furthest as (
      select h.deal_id, max(s.position) as position
      from ${t('deal_stage_history')} h join ${t('pipeline_stages')} s on s.id = h.to_stage_id join ${t('deals')} d on d.id = h.deal_id
      where s.pipeline_id = ${pipelineId} and s.kind <> 'lost' and d.created_at >= ${range.from} and d.created_at < ${range.to} and d.deleted_at is null
        ${range.ownerId ? sql`and d.owner_id = ${range.ownerId}` : sql``}
        ${scopedIds(db, scope, 'deals', 'd')}
      group by h.deal_id
    )
    select s.id as stage_id, (select count(*) from furthest f where f.position >= s.position)::int as reached
    from ${t('pipeline_stages')} s where s.pipeline_id = ${pipelineId} and s.kind <> 'lost' order by s.position`.execute(db);
  return rows;
}

export interface ActivityCountRow {
  scope: 'all' | 'owner';
  ownerId: string | null;
  notes: number;
  tasks: number;
  tasksDone: number;
  calls: number;
  meetings: number;
}

/** Activities that happened in [from, to) per owner; the first row (scope 'all') is the total. */
export async function activitiesPerOwner(db: DealsDb, scope: ReportScope, schema: string, range: { from: Date; to: Date; ownerId?: string }): Promise<ActivityCountRow[]> {
  const { rows } = await sql<ActivityCountRow>`
    select case when grouping(owner_id) = 1 then 'all' else 'owner' end as scope, owner_id, count(*) filter (where type = 'note')::int as notes, count(*) filter (where type = 'task')::int as tasks,
           count(*) filter (where type = 'task' and status = 'done')::int as tasks_done,
           count(*) filter (where type = 'call')::int as calls, count(*) filter (where type = 'meeting')::int as meetings
    from ${sql.id(schema, 'activities')} a
    where deleted_at is null and occurred_at >= ${range.from} and occurred_at < ${range.to}
      ${range.ownerId ? sql`and owner_id = ${range.ownerId}` : sql``}
      ${scopedIds(db, scope, 'activities', 'a')}
    group by grouping sets ((owner_id), ()) order by grouping(owner_id) desc, owner_id nulls first`.execute(db);
  return rows;
}
