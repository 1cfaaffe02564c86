// CRM reports. Each report has one definition that yields flat rows; the
// JSON and CSV answers are both built from those rows, so they cannot drift.
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import * as dealsRepo from '../deals/repository.ts';
import type { DealsTables } from '../deals/tables.ts';
import * as repo from './repository.ts';

const dealsDb = (db: RequestContext['db']): dealsRepo.DealsDb => db.withTables<DealsTables>();

export interface PipelineReportQuery {
  pipelineId?: string;
  at?: string;
  ownerId?: string;
}

/** One row per stage and currency (a stage without deals gives one row with count 0). */
export const PIPELINE_COLUMNS = ['stageId', 'stage', 'position', 'kind', 'probability', 'currency', 'count', 'amount', 'weightedAmount'] as const;
export type PipelineRow = { stageId: string; stage: string; position: number; kind: string; probability: number; currency: string | null; count: number; amount: string | null; weightedAmount: string | null };

export function createReportsService() {
  return {
    async pipeline(ctx: RequestContext, query: PipelineReportQuery): Promise<{ pipelineId: string; at: string; rows: PipelineRow[] }> {
      const db = dealsDb(ctx.db);
      const pipeline = query.pipelineId ? await dealsRepo.findPipeline(db, query.pipelineId) : await dealsRepo.findDefaultPipeline(db);
      if (!pipeline) throw new AppError('not_found', 'No such pipeline');
      const at = query.at ? new Date(query.at) : new Date();
      const [stages, totals] = await Promise.all([dealsRepo.stagesOf(db, [pipeline.id]), repo.pipelineAt(db, pipeline.id, at, query.ownerId)]);
      const rows = stages.flatMap((s) => {
        const base = { stageId: s.id, stage: s.name, position: s.position, kind: s.kind, probability: s.probability };
        const mine = totals.filter((t) => t.stageId === s.id);
        return mine.length === 0
          ? [{ ...base, currency: null, count: 0, amount: null, weightedAmount: null }]
          : mine.map((t) => ({ ...base, currency: t.currency, count: t.count, amount: t.amount, weightedAmount: t.weightedAmount }));
      });
      return { pipelineId: pipeline.id, at: at.toISOString(), rows };
    },
  };
}
