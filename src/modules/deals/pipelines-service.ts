// Pipelines and their ordered stages, configurable per tenant. A stage list
// is replaced as a whole (order = array order); stages keep their id when the
// caller sends it, so deals and history stay attached across renames.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import * as repo from './repository.ts';
import { auditCrm } from '../companies/write-log.ts';
import type { DealsTables, Pipeline, Stage, StageKind } from './tables.ts';

export interface StageInput {
  id?: string;
  name: string;
  probability: number;
  kind: StageKind;
}

export type PipelineView = Pipeline & { stages: Array<Pick<Stage, 'id' | 'name' | 'position' | 'probability' | 'kind'>> };

const dealsDb = (db: RequestContext['db']): repo.DealsDb => db.withTables<DealsTables>();

const view = (p: Pipeline, stages: Stage[]): PipelineView => ({
  ...p,
  stages: stages.filter((s) => s.pipelineId === p.id).map(({ id, name, position, probability, kind }) => ({ id, name, position, probability, kind })),
});

function checkStages(stages: readonly StageInput[]): void {
  const seen = new Set<string>();
  stages.forEach((s, i) => {
    const key = s.name.trim().toLowerCase();
    if (seen.has(key)) throw new AppError('validation_failed', `Two stages are named "${s.name.trim()}"`, { errors: [{ in: 'body', pointer: `/stages/${i}/name`, detail: 'duplicate stage name' }] });
    seen.add(key);
  });
  if (!stages.some((s) => s.kind === 'open')) {
    throw new AppError('validation_failed', 'A pipeline needs at least one open stage', { errors: [{ in: 'body', pointer: '/stages', detail: 'no open stage' }] });
  }
}

async function writeStages(ctx: RequestContext, db: repo.DealsDb, pipelineId: string, stages: readonly StageInput[], existing: readonly Stage[], now: Date): Promise<void> {
  const byId = new Map(existing.map((s) => [s.id, s]));
  stages.forEach((s, i) => {
    if (s.id && !byId.has(s.id)) throw new AppError('invalid_reference', 'The stage is not a stage of this pipeline', { errors: [{ in: 'body', pointer: `/stages/${i}/id`, detail: 'unknown stage' }] });
  });
  const kept = new Set(stages.map((s) => s.id).filter(Boolean));
  const removed = existing.filter((s) => !kept.has(s.id)).map((s) => s.id);
  const inUse = await repo.stagesInUse(db, removed);
  if (inUse.length > 0) {
    const names = existing.filter((s) => inUse.includes(s.id)).map((s) => s.name);
    throw new AppError('stage_in_use', `Deals are or were in the stages ${names.join(', ')}: move them before removing the stages`);
  }
  await repo.deleteStages(db, removed);
  for (const [position, s] of stages.entries()) {
    const fields = { name: s.name.trim(), probability: s.probability, kind: s.kind, position, updatedBy: ctx.actor.accountId, updatedAt: now };
    if (s.id) await repo.updateStage(db, s.id, fields);
    else await repo.insertStage(db, { id: uuidv7(), pipelineId, ...fields, createdBy: ctx.actor.accountId, createdAt: now });
  }
}

export function createPipelinesService() {
  const get = async (ctx: RequestContext, id: string, opts: { deleted?: boolean } = {}): Promise<PipelineView> => {
    const db = dealsDb(ctx.db);
    const p = await repo.findPipeline(db, id, opts);
    if (!p) throw new AppError('not_found', 'No such pipeline');
    return view(p, await repo.stagesOf(db, [p.id]));
  };

  return {
    get,

    async list(ctx: RequestContext, query: { deleted: boolean }): Promise<{ data: PipelineView[] }> {
      const db = dealsDb(ctx.db);
      const pipelines = await repo.listPipelines(db, query);
      const stages = await repo.stagesOf(db, pipelines.map((p) => p.id));
      return { data: pipelines.map((p) => view(p, stages)) };
    },

    async create(ctx: RequestContext, input: { name: string; stages: StageInput[] }): Promise<PipelineView> {
      checkStages(input.stages);
      if (input.stages.some((s) => s.id)) throw new AppError('validation_failed', 'New stages have no id', { errors: [{ in: 'body', pointer: '/stages', detail: 'omit id on create' }] });
      const id = await ctx.db.transaction().execute(async (trx) => {
        const db = dealsDb(trx);
        const now = new Date();
        const p = await repo.insertPipeline(db, { id: uuidv7(), name: input.name.trim(), isDefault: false, createdBy: ctx.actor.accountId, updatedBy: ctx.actor.accountId, createdAt: now, updatedAt: now, deletedAt: null });
        await writeStages(ctx, db, p.id, input.stages, [], now);
        await auditCrm(trx, ctx, { type: 'pipeline', action: 'created', id: p.id, before: null, after: { name: p.name, stages: await repo.stagesOf(db, [p.id]) } });
        return p.id;
      });
      return get(ctx, id);
    },

    async update(ctx: RequestContext, id: string, patch: { name?: string; isDefault?: true; stages?: StageInput[] }): Promise<PipelineView> {
      if (patch.stages) checkStages(patch.stages);
      await ctx.db.transaction().execute(async (trx) => {
        const db = dealsDb(trx);
        const p = await repo.findPipeline(db, id, { forUpdate: true });
        if (!p) throw new AppError('not_found', 'No such pipeline');
        const now = new Date();
        if (patch.isDefault && !p.isDefault) await db.updateTable('pipelines').set({ isDefault: false }).where('isDefault', '=', true).execute();
        await repo.updatePipeline(db, id, {
          ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
          ...(patch.isDefault ? { isDefault: true } : {}),
          updatedBy: ctx.actor.accountId,
          updatedAt: now,
        });
        const stagesBefore = await repo.stagesOf(db, [id]);
        if (patch.stages) await writeStages(ctx, db, id, patch.stages, stagesBefore, now);
        const after = await repo.findPipeline(db, id);
        await auditCrm(trx, ctx, { type: 'pipeline', action: 'updated', id, before: { name: p.name, isDefault: p.isDefault, stages: stagesBefore }, after: { name: after!.name, isDefault: after!.isDefault, stages: await repo.stagesOf(db, [id]) } });
      });
      return get(ctx, id);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        const db = dealsDb(trx);
        const p = await repo.findPipeline(db, id, { forUpdate: true });
        if (!p) throw new AppError('not_found', 'No such pipeline');
        if (p.isDefault) throw new AppError('conflict', 'The default pipeline cannot be deleted: make another one the default first');
        const n = await repo.liveDealCountIn(db, id);
        if (n > 0) throw new AppError('conflict', `${n} deals are in this pipeline: move or delete them first`);
        const now = new Date();
        await repo.updatePipeline(db, id, { deletedAt: now, updatedBy: ctx.actor.accountId, updatedAt: now });
        await auditCrm(trx, ctx, { type: 'pipeline', action: 'deleted', id, before: { deletedAt: null }, after: { deletedAt: now } });
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<PipelineView> {
      await ctx.db.transaction().execute(async (trx) => {
        const db = dealsDb(trx);
        const p = await repo.findPipeline(db, id, { deleted: true, forUpdate: true });
        if (!p) throw new AppError('not_found', 'No deleted pipeline with this id');
        await repo.updatePipeline(db, id, { deletedAt: null, updatedBy: ctx.actor.accountId, updatedAt: new Date() });
        await auditCrm(trx, ctx, { type: 'pipeline', action: 'restored', id, before: { deletedAt: p.deletedAt }, after: { deletedAt: null } });
      });
      return get(ctx, id);
    },
  };
}
