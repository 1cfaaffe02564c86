// Business rules for activities (notes, tasks, calls, meetings) and record
// timelines. Fields belong to types: a note has no due date, a call has no
// status; sending one is a 400 rather than silently dropped.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { assertMember } from '../identity/members.ts';
import type { RecordType } from '../companies/tables.ts';
import { decodeCursor, parseSort, toPage } from '../views/keyset.ts';
import * as repo from './repository.ts';
import type { Platform } from '../../platform/module.ts';
import { ownerInScope } from '../../platform/record-scope.ts';
import { auditCrm } from '../companies/write-log.ts';
import { createNotifications } from '../notifications/service.ts';
import { UNSCOPED, type ScopeCondition as InScope } from '../../platform/record-scope.ts';
import type { ActivitiesTables, Activity, ActivityType, Link, TaskStatus } from './tables.ts';

export interface ActivityInput {
  type: ActivityType;
  subject: string;
  body?: string | null;
  status?: TaskStatus;
  dueAt?: string | null;
  assigneeId?: string | null;
  startsAt?: string | null;
  durationMinutes?: number | null;
  outcome?: string | null;
  location?: string | null;
  ownerId?: string | null;
  links?: Link[];
}

export interface ActivityListQuery extends repo.ActivityFilter {
  limit: number;
  cursor?: string;
  sort: string;
  deleted: boolean;
}

const activitiesDb = (db: RequestContext['db']): repo.ActivitiesDb => db.withTables<ActivitiesTables>();
const clean = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : v.trim() || null);
const date = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));

const FIELDS_OF: Record<ActivityType, readonly string[]> = {
  note: [],
  task: ['status', 'dueAt', 'assigneeId'],
  call: ['startsAt', 'durationMinutes', 'outcome'],
  meeting: ['startsAt', 'durationMinutes', 'location'],
};
const TYPED_FIELDS = ['status', 'dueAt', 'assigneeId', 'startsAt', 'durationMinutes', 'outcome', 'location'] as const;

function checkFieldsFor(type: ActivityType, input: Partial<ActivityInput>): void {
  const wrong = TYPED_FIELDS.filter((f) => input[f] !== undefined && input[f] !== null && !FIELDS_OF[type].includes(f));
  if (wrong.length > 0) {
    throw new AppError('validation_failed', `A ${type} has no ${wrong.join(', ')}`, { errors: wrong.map((f) => ({ in: 'body' as const, pointer: `/${f}`, detail: `not a field of a ${type}` })) });
  }
}

/**
 * Record scope of activities: an activity is the owner's and, for a task,
 * also its assignee's, so a task assigned to you is yours to see and update.
 */
const scope = (ctx: RequestContext, permission: 'read' | 'write' | 'delete'): InScope => {
  const key = `crm.activities.${permission}`;
  return (eb) => eb.or([ownerInScope(ctx, key, 'activities.ownerId')(eb), ownerInScope(ctx, key, 'activities.assigneeId')(eb)]);
};
const RECORD_READ = { company: 'crm.companies.read', contact: 'crm.contacts.read', deal: 'crm.deals.read' } as const;
const OWNER_COLUMN = { company: 'companies.ownerId', contact: 'contacts.ownerId', deal: 'deals.ownerId' } as const;

export function createActivitiesService(deps: Pick<Platform, 'db' | 'events'> & Partial<Platform>) {
  const notifications = deps.mail && deps.realtime ? createNotifications(deps as Platform) : null;
  /** A task handed to someone else tells them (in-app, live at commit; email if they chose it). */
  const notifyAssignee = async (trx: Parameters<Platform['events']['publish']>[0], ctx: RequestContext, a: Activity) => {
    if (!notifications || a.type !== 'task' || !a.assigneeId || a.assigneeId === ctx.actor.accountId) return;
    await notifications.notify(trx, ctx, { accountId: a.assigneeId, kind: 'crm.task.assigned', title: `Task assigned to you: ${a.subject}`, link: `/v1/activities/${a.id}` });
  };
  const completed = async (trx: Parameters<Platform['events']['publish']>[0], ctx: RequestContext, a: Activity) =>
    deps.events.publish(trx, ctx, 'crm.activity.completed', { id: a.id, type: a.type, subject: a.subject, completedAt: a.completedAt!.toISOString() });
  const checkLinks = async (db: repo.ActivitiesDb, links: readonly Link[]) => {
    for (const type of ['company', 'contact', 'deal'] as const) {
      const wanted = links.filter((l) => l.type === type).map((l) => l.id);
      const found = await repo.liveRecordIds(db, type, wanted);
      const i = links.findIndex((l) => l.type === type && !found.has(l.id));
      if (i >= 0) throw new AppError('invalid_reference', `No such ${type} in this tenant`, { errors: [{ in: 'body', pointer: `/links/${i}/id`, detail: `unknown ${type}` }] });
    }
  };
  const uniqueLinks = (links: readonly Link[]) => [...new Map(links.map((l) => [`${l.type}:${l.id}`, l])).values()];

  const get = async (ctx: RequestContext, id: string): Promise<Activity> => {
    const a = await repo.findActivity(activitiesDb(ctx.db), scope(ctx, 'read'), id);
    if (!a) throw new AppError('not_found', 'No such activity');
    return a;
  };

  return {
    get,

    async create(ctx: RequestContext, input: ActivityInput): Promise<Activity> {
      checkFieldsFor(input.type, input);
      const ownerId = input.ownerId === undefined ? ctx.actor.accountId : input.ownerId;
      await assertMember(deps.db, ctx, ownerId, '/ownerId');
      await assertMember(deps.db, ctx, input.assigneeId, '/assigneeId');
      const id = uuidv7();
      return ctx.db.transaction().execute(async (trx) => {
        const db = activitiesDb(trx);
        const links = uniqueLinks(input.links ?? []);
        await checkLinks(db, links);
        const now = new Date();
        const status = input.type === 'task' ? (input.status ?? 'todo') : null;
        const startsAt = date(input.startsAt) ?? null;
        await repo.insertActivity(db, {
          id,
          type: input.type,
          subject: input.subject.trim(),
          body: clean(input.body) ?? null,
          status,
          dueAt: date(input.dueAt) ?? null,
          assigneeId: input.assigneeId ?? null,
          completedAt: status === 'done' ? now : null,
          startsAt,
          durationMinutes: input.durationMinutes ?? null,
          outcome: clean(input.outcome) ?? null,
          location: clean(input.location) ?? null,
          occurredAt: startsAt ?? now,
          ownerId,
          createdBy: ctx.actor.accountId,
          updatedBy: ctx.actor.accountId,
          createdAt: now,
          updatedAt: now,
          deletedAt: null,
        });
        await repo.setLinks(db, id, links);
        const created = (await repo.findActivity(db, UNSCOPED, id))!;
        await deps.events.publish(trx, ctx, 'crm.activity.created', { id, type: created.type, subject: created.subject, ownerId: created.ownerId, assigneeId: created.assigneeId, links: created.links });
        if (created.status === 'done') await completed(trx, ctx, created);
        await notifyAssignee(trx, ctx, created);
        await auditCrm(trx, ctx, { type: 'activity', action: 'created', id, before: null, after: created });
        return created;
      });
    },

    async list(ctx: RequestContext, query: ActivityListQuery) {
      const sort = parseSort(query.sort, repo.SORT_FIELDS);
      const after = query.cursor ? decodeCursor(query.cursor, sort) : undefined;
      const { limit: _l, cursor: _c, sort: _s, ...filter } = query;
      const rows = await repo.listActivities(activitiesDb(ctx.db), scope(ctx, 'read'), filter, sort, query.limit + 1, after);
      return toPage(rows, query.limit, sort);
    },

    async update(ctx: RequestContext, id: string, patch: Partial<Omit<ActivityInput, 'type'>>): Promise<Activity> {
      await assertMember(deps.db, ctx, patch.ownerId, '/ownerId');
      await assertMember(deps.db, ctx, patch.assigneeId, '/assigneeId');
      return ctx.db.transaction().execute(async (trx) => {
        const db = activitiesDb(trx);
        const before = await repo.findActivity(db, scope(ctx, 'write'), id, { forUpdate: true });
        if (!before) throw new AppError('not_found', 'No such activity');
        checkFieldsFor(before.type, patch);
        const now = new Date();
        const startsAt = date(patch.startsAt);
        await repo.updateActivity(db, id, {
          ...(patch.subject !== undefined ? { subject: patch.subject.trim() } : {}),
          ...(patch.body !== undefined ? { body: clean(patch.body) } : {}),
          ...(patch.status !== undefined ? { status: patch.status, completedAt: patch.status === 'done' ? (before.completedAt ?? now) : null } : {}),
          ...(patch.dueAt !== undefined ? { dueAt: date(patch.dueAt) } : {}),
          ...(patch.assigneeId !== undefined ? { assigneeId: patch.assigneeId } : {}),
          ...(startsAt !== undefined ? { startsAt, occurredAt: startsAt ?? before.createdAt } : {}),
          ...(patch.durationMinutes !== undefined ? { durationMinutes: patch.durationMinutes } : {}),
          ...(patch.outcome !== undefined ? { outcome: clean(patch.outcome) } : {}),
          ...(patch.location !== undefined ? { location: clean(patch.location) } : {}),
          ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
          updatedBy: ctx.actor.accountId,
          updatedAt: now,
        });
        if (patch.links) {
          const links = uniqueLinks(patch.links);
          await checkLinks(db, links);
          await repo.setLinks(db, id, links);
        }
        const after = (await repo.findActivity(db, UNSCOPED, id))!;
        if (after.status === 'done' && before.status !== 'done') await completed(trx, ctx, after);
        if (after.assigneeId !== before.assigneeId) await notifyAssignee(trx, ctx, after);
        await auditCrm(trx, ctx, { type: 'activity', action: 'updated', id, before, after });
        return after;
      });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        const now = new Date();
        if (!(await repo.setActivityDeleted(activitiesDb(trx), scope(ctx, 'delete'), id, true, ctx.actor.accountId, now))) throw new AppError('not_found', 'No such activity');
        await auditCrm(trx, ctx, { type: 'activity', action: 'deleted', id, before: { deletedAt: null }, after: { deletedAt: now } });
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<Activity> {
      await ctx.db.transaction().execute(async (trx) => {
        if (!(await repo.setActivityDeleted(activitiesDb(trx), scope(ctx, 'delete'), id, false, ctx.actor.accountId, new Date()))) throw new AppError('not_found', 'No deleted activity with this id');
        await auditCrm(trx, ctx, { type: 'activity', action: 'restored', id, before: { deletedAt: 'set' }, after: { deletedAt: null } });
      });
      return get(ctx, id);
    },

    /** Activities and field changes of one live record, newest first. */
    async timeline(ctx: RequestContext, type: RecordType, recordId: string, query: { limit: number; cursor?: string }) {
      const db = activitiesDb(ctx.db);
      // The record must be in the caller's read scope for its object; the timeline shows the activities in theirs.
      if ((await repo.liveRecordIds(db, type, [recordId], ownerInScope(ctx, RECORD_READ[type], OWNER_COLUMN[type]))).size === 0) throw new AppError('not_found', `No such ${type}`);
      const after = query.cursor ? decodeTimelineCursor(query.cursor) : undefined;
      const keys = await repo.timeline(db, scope(ctx, 'read'), type, recordId, query.limit + 1, after);
      const page = keys.slice(0, query.limit);
      const [activities, changes] = await Promise.all([
        repo.activitiesByIds(db, page.filter((k) => k.kind === 'activity').map((k) => k.id)),
        repo.changesByIds(db, page.filter((k) => k.kind === 'change').map((k) => k.id)),
      ]);
      const activityById = new Map(activities.map((a) => [a.id, a]));
      const changeById = new Map(changes.map((c) => [c.id, { ...c, changedAt: c.changedAt.toISOString() }]));
      const last = page.at(-1);
      return {
        data: page.map((k) =>
          k.kind === 'activity' ? { kind: 'activity' as const, at: k.at.toISOString(), activity: activityById.get(k.id)! } : { kind: 'change' as const, at: k.at.toISOString(), change: changeById.get(k.id)! },
        ),
        nextCursor: keys.length > query.limit && last ? Buffer.from(JSON.stringify({ at: last.at.toISOString(), id: last.id })).toString('base64url') : null,
      };
    },
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeTimelineCursor(cursor: string): { at: string; id: string } {
  try {
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { at?: unknown; id?: unknown };
    if (typeof body.at === 'string' && !Number.isNaN(Date.parse(body.at)) && typeof body.id === 'string' && UUID_RE.test(body.id)) return { at: body.at, id: body.id };
  } catch {
    // fall through
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API issued');
}
