// Business rules for deals. A deal always sits in a stage of its pipeline;
// every stage change (including the first) is a row in deal_stage_history,
// written in the same transaction as the change.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { diff, diffCustom, recordChange } from '../companies/changes.ts';
import { assertMember } from '../identity/members.ts';
import { decodeCursor, parseSort, toPage } from '../views/keyset.ts';
import { parseFilters, prefixTsQuery, resolverFor, sortableField } from '../views/filters.ts';
import * as repo from './repository.ts';
import type { Deal, DealsTables, Stage, StageKind } from './tables.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import { applyCustomValues, presentCustom } from '../custom-fields/values.ts';
import type { CustomField, CustomFieldsTables } from '../custom-fields/tables.ts';
import type { Platform } from '../../platform/module.ts';
import { ownerInScope } from '../../platform/record-scope.ts';
import { auditCrm, changedFields } from '../companies/write-log.ts';
// A deal the caller just wrote is read back unscoped: handed to another owner, an `own` scope no longer sees it.
import { UNSCOPED } from '../../platform/record-scope.ts';
import { createNotifications } from '../notifications/service.ts';

export interface DealInput {
  name: string;
  amount?: string | null;
  currency?: string | null;
  closeDate?: string | null;
  pipelineId?: string;
  stageId?: string;
  companyId?: string | null;
  ownerId?: string | null;
  contactIds?: string[];
  custom?: Record<string, unknown>;
}

export interface DealListQuery extends Omit<repo.DealFilter, 'ids' | 'conditions'> {
  filter?: string[];
  limit: number;
  cursor?: string;
  sort?: string;
  view?: string;
  deleted: boolean;
}

const dealsDb = (db: RequestContext['db']): repo.DealsDb => db.withTables<DealsTables>();
const customFieldsOf = (db: RequestContext['db']) => fieldsOf(db.withTables<CustomFieldsTables>(), 'deal');

/** A deal as the API shows it: custom values by field key. */
export type DealView = Omit<Deal, 'custom'> & { custom: Record<string, unknown> };
const present = (fields: readonly CustomField[], d: Deal): DealView => ({ ...d, custom: presentCustom(fields, d.custom) });
const bad = (pointer: string, detail: string, message = detail) => new AppError('validation_failed', message, { errors: [{ in: 'body', pointer, detail }] });
const unknownRef = (pointer: string, what: string) => new AppError('invalid_reference', `No such ${what} in this tenant`, { errors: [{ in: 'body', pointer, detail: `unknown ${what}` }] });

/** Calendar dates must exist (2026-02-30 passes the pattern, not this). */
function checkDate(value: string | null | undefined, pointer: string): void {
  if (!value) return;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) throw bad(pointer, 'not a calendar date');
}

async function resolveStage(db: repo.DealsDb, pipelineId: string | undefined, stageId: string | undefined): Promise<Stage> {
  if (stageId) {
    const stage = await repo.findStage(db, stageId);
    if (!stage || !(await repo.findPipeline(db, stage.pipelineId))) throw unknownRef('/stageId', 'stage');
    if (pipelineId && stage.pipelineId !== pipelineId) throw new AppError('invalid_reference', 'The stage belongs to another pipeline', { errors: [{ in: 'body', pointer: '/stageId', detail: 'not a stage of the pipeline' }] });
    return stage;
  }
  const pipeline = pipelineId ? await repo.findPipeline(db, pipelineId) : await repo.findDefaultPipeline(db);
  if (!pipeline) throw unknownRef('/pipelineId', 'pipeline');
  const [first] = await repo.stagesOf(db, [pipeline.id]);
  if (!first) throw unknownRef('/pipelineId', 'pipeline with stages');
  return first;
}

const scope = (ctx: RequestContext, permission: 'read' | 'write' | 'delete') => ownerInScope(ctx, `crm.deals.${permission}`, 'deals.ownerId');

export function createDealsService(deps: Pick<Platform, 'db' | 'events'> & Partial<Platform>) {
  const notifications = deps.mail && deps.realtime ? createNotifications(deps as Platform) : null;
  /** A deal handed to someone else tells them (in-app and live at commit, email if they chose it). */
  const notifyOwner = async (trx: Parameters<Platform['events']['publish']>[0], ctx: RequestContext, deal: { id: string; name: string }, ownerId: string | null) => {
    if (!notifications || !ownerId || ownerId === ctx.actor.accountId) return;
    await notifications.notify(trx, ctx, { accountId: ownerId, kind: 'crm.deal.assigned', title: `Deal assigned to you: ${deal.name}`, link: `/v1/deals/${deal.id}` });
  };
  const checkRefs = async (ctx: RequestContext, db: repo.DealsDb, input: Partial<DealInput>) => {
    await assertMember(deps.db, ctx, input.ownerId, '/ownerId');
    if (input.companyId && !(await repo.liveCompanyExists(db, input.companyId))) throw unknownRef('/companyId', 'company');
    if (input.contactIds) {
      const found = new Set(await repo.liveContactIds(db, input.contactIds));
      const i = input.contactIds.findIndex((id) => !found.has(id));
      if (i >= 0) throw unknownRef(`/contactIds/${i}`, 'contact');
    }
    checkDate(input.closeDate, '/closeDate');
  };

  const get = async (ctx: RequestContext, id: string): Promise<DealView> => {
    const deal = await repo.findDeal(dealsDb(ctx.db), scope(ctx, 'read'), id);
    if (!deal) throw new AppError('not_found', 'No such deal');
    return present(await customFieldsOf(ctx.db), deal);
  };

  return {
    get,

    async create(ctx: RequestContext, input: DealInput): Promise<DealView> {
      if (input.amount != null && !input.currency) throw bad('/currency', 'required with an amount');
      const ownerId = input.ownerId === undefined ? ctx.actor.accountId : input.ownerId;
      const id = uuidv7();
      const fields = await customFieldsOf(ctx.db);
      const created = await ctx.db.transaction().execute(async (trx) => {
        const db = dealsDb(trx);
        await checkRefs(ctx, db, { ...input, ownerId });
        const custom = await applyCustomValues(trx, fields, {}, input.custom, { creating: true });
        const stage = await resolveStage(db, input.pipelineId, input.stageId);
        const now = new Date();
        const by = ctx.actor.accountId;
        await repo.insertDeal(db, {
          id,
          name: input.name.trim(),
          amount: input.amount ?? null,
          currency: input.currency ?? null,
          closeDate: input.closeDate ?? null,
          pipelineId: stage.pipelineId,
          stageId: stage.id,
          stageChangedAt: now,
          companyId: input.companyId ?? null,
          ownerId,
          custom: JSON.stringify(custom),
          createdBy: by,
          updatedBy: by,
          createdAt: now,
          updatedAt: now,
          deletedAt: null,
        });
        const contactIds = [...new Set(input.contactIds ?? [])];
        await repo.setDealContacts(db, id, contactIds);
        await repo.insertStageChange(db, { id: uuidv7(), dealId: id, fromStageId: null, toStageId: stage.id, changedAt: now, changedBy: by });
        await recordChange(trx, { recordType: 'deal', recordId: id, action: 'created', by, at: now });
        const created = (await repo.findDeal(db, UNSCOPED, id))!;
        await deps.events.publish(trx, ctx, 'crm.deal.created', { id, name: created.name, pipelineId: created.pipelineId, stageId: created.stageId, ownerId: created.ownerId, amount: created.amount, currency: created.currency });
        await notifyOwner(trx, ctx, created, ownerId);
        await auditCrm(trx, ctx, { type: 'deal', action: 'created', id, before: null, after: created });
        return created;
      });
      return present(fields, created);
    },

    async list(ctx: RequestContext, query: DealListQuery) {
      const fields = await customFieldsOf(ctx.db);
      const resolve = resolverFor(repo.DEAL_FIELDS, fields);
      const sort = parseSort(query.sort ?? '-createdAt', (name) => sortableField(resolve(name)));
      const conditions = parseFilters(query.filter, resolve);
      const after = query.cursor ? decodeCursor(query.cursor, sort) : undefined;
      const { limit: _l, cursor: _c, sort: _s, filter: _f, view: _v, search, ...filter } = query;
      const tsquery = search === undefined ? undefined : (prefixTsQuery(search) ?? undefined);
      const rows = await repo.listDeals(dealsDb(ctx.db), scope(ctx, 'read'), { ...filter, q: filter.q?.trim() || undefined, conditions, search: tsquery }, sort, query.limit + 1, after);
      const page = toPage(rows, query.limit, sort);
      return { data: page.data.map((d) => present(fields, d)), nextCursor: page.nextCursor };
    },

    async update(ctx: RequestContext, id: string, patch: Partial<DealInput>): Promise<DealView> {
      const fields = await customFieldsOf(ctx.db);
      const updated = await ctx.db.transaction().execute(async (trx) => {
        const db = dealsDb(trx);
        const before = await repo.findDeal(db, scope(ctx, 'write'), id, { forUpdate: true });
        if (!before) throw new AppError('not_found', 'No such deal');
        await checkRefs(ctx, db, patch);
        const amount = patch.amount === undefined ? before.amount : patch.amount;
        const currency = patch.currency === undefined ? before.currency : patch.currency;
        if (amount !== null && !currency) throw bad('/currency', 'required with an amount');
        const now = new Date();
        const by = ctx.actor.accountId;
        let stage: Stage | undefined;
        if (patch.stageId !== undefined || (patch.pipelineId !== undefined && patch.pipelineId !== before.pipelineId)) {
          stage = await resolveStage(db, patch.pipelineId ?? (patch.stageId ? undefined : before.pipelineId), patch.stageId);
        }
        const changes = {
          ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
          ...(patch.amount !== undefined ? { amount: patch.amount } : {}),
          ...(patch.currency !== undefined ? { currency: patch.currency } : {}),
          ...(patch.closeDate !== undefined ? { closeDate: patch.closeDate } : {}),
          ...(patch.companyId !== undefined ? { companyId: patch.companyId } : {}),
          ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
          ...(stage && stage.id !== before.stageId ? { pipelineId: stage.pipelineId, stageId: stage.id, stageChangedAt: now } : {}),
        };
        const custom = patch.custom === undefined ? undefined : await applyCustomValues(trx, fields, before.custom, patch.custom, { creating: false });
        await repo.updateDeal(db, id, { ...changes, ...(custom ? { custom: JSON.stringify(custom) } : {}), updatedBy: by, updatedAt: now });
        const changed: Record<string, [unknown, unknown]> = {
          ...diff(before, changes, ['updatedAt', 'updatedBy', 'stageChangedAt']),
          ...(custom ? diffCustom(presentCustom(fields, before.custom), presentCustom(fields, custom)) : {}),
        };
        if (patch.contactIds) {
          const next = [...new Set(patch.contactIds)].sort();
          await repo.setDealContacts(db, id, next);
          if (JSON.stringify(next) !== JSON.stringify(before.contactIds)) changed.contactIds = [before.contactIds, next];
        }
        if (stage && stage.id !== before.stageId) {
          await repo.insertStageChange(db, { id: uuidv7(), dealId: id, fromStageId: before.stageId, toStageId: stage.id, changedAt: now, changedBy: by });
        }
        if (Object.keys(changed).length > 0) await recordChange(trx, { recordType: 'deal', recordId: id, action: 'updated', changes: changed, by, at: now });
        const after = (await repo.findDeal(db, UNSCOPED, id))!;
        await deps.events.publish(trx, ctx, 'crm.deal.updated', { id, changes: changedFields(before, after, ['updatedAt', 'updatedBy', 'stageChangedAt']) });
        if (stage && stage.id !== before.stageId) {
          const from = (await repo.findStage(db, before.stageId))!;
          await deps.events.publish(trx, ctx, 'crm.deal.stage_changed', { id, pipelineId: stage.pipelineId, fromStageId: before.stageId, toStageId: stage.id, fromStage: from.name, toStage: stage.name, kind: stage.kind, changedBy: by });
        }
        if (after.ownerId !== before.ownerId) await notifyOwner(trx, ctx, after, after.ownerId);
        await auditCrm(trx, ctx, { type: 'deal', action: 'updated', id, before: before, after: after });
        return after;
      });
      return present(fields, updated);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        const now = new Date();
        if (!(await repo.setDealDeleted(dealsDb(trx), scope(ctx, 'delete'), id, true, ctx.actor.accountId, now))) throw new AppError('not_found', 'No such deal');
        await recordChange(trx, { recordType: 'deal', recordId: id, action: 'deleted', by: ctx.actor.accountId, at: now });
        await deps.events.publish(trx, ctx, 'crm.deal.deleted', { id });
        await auditCrm(trx, ctx, { type: 'deal', action: 'deleted', id, before: { deletedAt: null }, after: { deletedAt: now } });
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<DealView> {
      await ctx.db.transaction().execute(async (trx) => {
        const now = new Date();
        if (!(await repo.setDealDeleted(dealsDb(trx), scope(ctx, 'delete'), id, false, ctx.actor.accountId, now))) throw new AppError('not_found', 'No deleted deal with this id');
        await recordChange(trx, { recordType: 'deal', recordId: id, action: 'restored', by: ctx.actor.accountId, at: now });
        await deps.events.publish(trx, ctx, 'crm.deal.restored', { id });
        await auditCrm(trx, ctx, { type: 'deal', action: 'restored', id, before: { deletedAt: 'set' }, after: { deletedAt: null } });
      });
      return get(ctx, id);
    },

    async stageHistory(ctx: RequestContext, id: string) {
      const db = dealsDb(ctx.db);
      if (!(await repo.findDeal(db, scope(ctx, 'read'), id))) throw new AppError('not_found', 'No such deal');
      return { data: (await repo.stageHistory(db, id)).map((h) => ({ ...h, changedAt: h.changedAt.toISOString() })) };
    },
  };
}

export type { StageKind };
