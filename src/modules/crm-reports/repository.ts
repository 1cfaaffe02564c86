// Report queries. Pipeline state at a past date is rebuilt from the stage
// history (the last stage each deal entered on or before that date), never
// from the deals' current stage.
import { sql } from 'kysely';
import type { DealsDb } from '../deals/repository.ts';

export interface StageTotalRow {
  stageId: string;
  currency: string | null;
  count: number;
  amount: string | null;
  weightedAmount: string | null;
}

export async function pipelineAt(db: DealsDb, pipelineId: string, at: Date, ownerId?: string): Promise<StageTotalRow[]> {
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
