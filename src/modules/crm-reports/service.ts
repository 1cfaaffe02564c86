// CRM reports. Each report has one definition that yields flat rows; the
// JSON and CSV answers are both built from those rows, so they cannot drift.
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import * as dealsRepo from '../deals/repository.ts';
import type { DealsTables } from '../deals/tables.ts';
import * as repo from './repository.ts';
import { ownerInScope, scopeOf } from '../../platform/record-scope.ts';

/** Reports count only the records in the caller's scope for `crm.reports.read` (own, team or all). */
const reportScope = (ctx: RequestContext): repo.ReportScope => (scopeOf(ctx, 'crm.reports.read') === 'all' ? undefined : (column) => ownerInScope(ctx, 'crm.reports.read', column));

const dealsDb = (db: RequestContext['db']): dealsRepo.DealsDb => db.withTables<DealsTables>();

export interface PipelineReportQuery {
  pipelineId?: string;
  at?: string;
  ownerId?: string;
}

/** One row per stage and currency (a stage without deals gives one row with count 0). */
export const PIPELINE_COLUMNS = ['stageId', 'stage', 'position', 'kind', 'probability', 'currency', 'count', 'amount', 'weightedAmount'] as const;
export type PipelineRow = { stageId: string; stage: string; position: number; kind: string; probability: number; currency: string | null; count: number; amount: string | null; weightedAmount: string | null };

export interface RangeQuery {
  from: string;
  to: string;
  ownerId?: string;
  pipelineId?: string;
}

export const OUTCOME_COLUMNS = ['scope', 'ownerId', 'won', 'lost', 'winRate', 'wonAmount', 'avgCycleDays'] as const;
export const CONVERSION_COLUMNS = ['stageId', 'stage', 'position', 'reached', 'conversionToNext'] as const;
export const ACTIVITY_COLUMNS = ['scope', 'ownerId', 'notes', 'tasks', 'tasksDone', 'calls', 'meetings'] as const;

function range(q: RangeQuery) {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (!(from < to)) throw new AppError('validation_failed', '`from` must be before `to`', { errors: [{ in: 'query', pointer: '/to', detail: 'not after from' }] });
  return { from, to, ownerId: q.ownerId, pipelineId: q.pipelineId };
}

/** a / b as a 4-decimal string, null when b is 0 (no data is not a 0 % rate). */
const ratio = (a: number, b: number) => (b === 0 ? null : (a / b).toFixed(4));

export function createReportsService() {
  return {
    /** Win rate, won amount and average cycle length of deals closed in the range, per owner, after a total row (scope 'all'). */
    async outcomes(ctx: RequestContext, q: RangeQuery) {
      const rows = await repo.outcomes(dealsDb(ctx.db), reportScope(ctx), ctx.tenant.schemaName, range(q));
      return { from: q.from, to: q.to, rows: rows.map((r) => ({ ...r, winRate: ratio(r.won, r.won + r.lost) })) };
    },

    /** Stage conversion of the deals created in the range: how many reached each stage, and the share that went on to the next. */
    async conversion(ctx: RequestContext, q: RangeQuery) {
      const db = dealsDb(ctx.db);
      const pipeline = q.pipelineId ? await dealsRepo.findPipeline(db, q.pipelineId) : await dealsRepo.findDefaultPipeline(db);
      if (!pipeline) throw new AppError('not_found', 'No such pipeline');
      const stages = (await dealsRepo.stagesOf(db, [pipeline.id])).filter((s) => s.kind !== 'lost');
      const reach = new Map((await repo.stageReach(db, reportScope(ctx), ctx.tenant.schemaName, pipeline.id, range(q))).map((r) => [r.stageId, r.reached]));
      const rows = stages.map((s, i) => {
        const reached = reach.get(s.id) ?? 0;
        const next = stages[i + 1];
        return { stageId: s.id, stage: s.name, position: s.position, reached, conversionToNext: next ? ratio(reach.get(next.id) ?? 0, reached) : null };
      });
      return { pipelineId: pipeline.id, from: q.from, to: q.to, rows };
    },

    /** Notes, tasks (and done tasks), calls and meetings that happened in the range, per owner, after a total row (scope 'all'). */
    async activities(ctx: RequestContext, q: RangeQuery) {
      return { from: q.from, to: q.to, rows: await repo.activitiesPerOwner(dealsDb(ctx.db), reportScope(ctx), ctx.tenant.schemaName, range(q)) };
    },

    async pipeline(ctx: RequestContext, query: PipelineReportQuery): Promise<{ pipelineId: string; at: string; rows: PipelineRow[] }> {
      const db = dealsDb(ctx.db);
      const pipeline = query.pipelineId ? await dealsRepo.findPipeline(db, query.pipelineId) : await dealsRepo.findDefaultPipeline(db);
      if (!pipeline) throw new AppError('not_found', 'No such pipeline');
      const at = query.at ? new Date(query.at) : new Date();
      const [stages, totals] = await Promise.all([dealsRepo.stagesOf(db, [pipeline.id]), repo.pipelineAt(db, reportScope(ctx), pipeline.id, at, query.ownerId)]);
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
