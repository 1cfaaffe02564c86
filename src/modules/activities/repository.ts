// Data access for activities, their links and record timelines.
import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { afterCondition, orderBySort, sortValueColumn, type After, type Sort, type SortableField } from '../views/keyset.ts';
import type { RecordType } from '../companies/tables.ts';
import type { ScopeCondition as InScope } from '../../platform/record-scope.ts';
import type { ActivitiesTable, ActivitiesTables, Activity, ActivityType, Link, TaskStatus } from './tables.ts';

export type ActivitiesDb = Kysely<ActivitiesTables>;

export const SORT_FIELDS: Record<string, SortableField> = {
  createdAt: { expr: sql`activities.created_at`, cast: 'timestamptz' },
  occurredAt: { expr: sql`activities.occurred_at`, cast: 'timestamptz' },
  dueAt: { expr: sql`coalesce(activities.due_at, 'infinity'::timestamptz)`, cast: 'timestamptz' },
};

export interface ActivityFilter {
  type?: ActivityType;
  status?: TaskStatus;
  assigneeId?: string;
  ownerId?: string;
  recordType?: RecordType;
  recordId?: string;
  dueBefore?: string;
  deleted?: boolean;
}

function activitySelect(db: ActivitiesDb) {
  return db
    .selectFrom('activities')
    .selectAll('activities')
    .select((eb) =>
      sql<Link[]>`coalesce((${eb
        .selectFrom('activityLinks as l')
        .select(sql`jsonb_agg(jsonb_build_object('type', l.record_type, 'id', l.record_id) order by l.record_type, l.record_id)`.as('j'))
        .whereRef('l.activityId', '=', 'activities.id')}), '[]'::jsonb)`.as('links'),
    );
}

export const findActivity = (db: ActivitiesDb, scope: InScope, id: string, opts: { deleted?: boolean; forUpdate?: boolean } = {}): Promise<Activity | undefined> =>
  activitySelect(db)
    .where('activities.id', '=', id)
    .where(scope)
    .where('activities.deletedAt', opts.deleted ? 'is not' : 'is', null)
    .$if(opts.forUpdate === true, (q) => q.forUpdate())
    .executeTakeFirst();

export async function listActivities(db: ActivitiesDb, scope: InScope, filter: ActivityFilter, sort: Sort, limit: number, after?: After): Promise<Array<Activity & { sortValue: string[] }>> {
  return activitySelect(db)
    .select(sortValueColumn(sort))
    .where(scope)
    .where('activities.deletedAt', filter.deleted ? 'is not' : 'is', null)
    .$if(filter.type !== undefined, (q) => q.where('activities.type', '=', filter.type!))
    .$if(filter.status !== undefined, (q) => q.where('activities.status', '=', filter.status!))
    .$if(filter.assigneeId !== undefined, (q) => q.where('activities.assigneeId', '=', filter.assigneeId!))
    .$if(filter.ownerId !== undefined, (q) => q.where('activities.ownerId', '=', filter.ownerId!))
    .$if(filter.dueBefore !== undefined, (q) => q.where('activities.dueAt', '<', new Date(filter.dueBefore!)))
    .$if(filter.recordId !== undefined, (q) =>
      q.where('activities.id', 'in', (eb) =>
        eb
          .selectFrom('activityLinks')
          .select('activityLinks.activityId')
          .where('activityLinks.recordId', '=', filter.recordId!)
          .$if(filter.recordType !== undefined, (s) => s.where('activityLinks.recordType', '=', filter.recordType!)),
      ),
    )
    .$if(after !== undefined, (q) => q.where(afterCondition(sort, after!, sql.ref('activities.id'))))
    .$call((q) => orderBySort(q, sort, 'activities.id'))
    .limit(limit)
    .execute();
}

export const insertActivity = (db: ActivitiesDb, row: Insertable<ActivitiesTable>) => db.insertInto('activities').values(row).execute();

export const updateActivity = (db: ActivitiesDb, id: string, patch: Updateable<ActivitiesTable>) => db.updateTable('activities').set(patch).where('id', '=', id).execute();

export const setActivityDeleted = (db: ActivitiesDb, scope: InScope, id: string, deleted: boolean, by: string, at: Date) =>
  db
    .updateTable('activities')
    .set({ deletedAt: deleted ? at : null, updatedBy: by, updatedAt: at })
    .where('id', '=', id)
    .where(scope)
    .where('deletedAt', deleted ? 'is' : 'is not', null)
    .returning('id')
    .executeTakeFirst();

export async function setLinks(db: ActivitiesDb, activityId: string, links: readonly Link[]): Promise<void> {
  await db.deleteFrom('activityLinks').where('activityId', '=', activityId).execute();
  if (links.length > 0) await db.insertInto('activityLinks').values(links.map((l) => ({ activityId, recordType: l.type, recordId: l.id }))).execute();
}

const TABLE_OF = { company: 'companies', contact: 'contacts', deal: 'deals' } as const;

/** Live records of one type among `ids` (within the caller's scope when given). */
export async function liveRecordIds(db: ActivitiesDb, type: RecordType, ids: readonly string[], scope?: InScope): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom(TABLE_OF[type])
    .select('id')
    .where('id', 'in', ids)
    .where('deletedAt', 'is', null)
    .$if(scope !== undefined, (q) => q.where(scope!))
    .execute();
  return new Set(rows.map((r) => r.id));
}

export interface TimelineKey {
  kind: 'activity' | 'change';
  id: string;
  at: Date;
}

/**
 * The record's timeline, newest first: its live activities (at their
 * occurred_at) merged with its field changes, keyset-paged on (at, id).
 */
export async function timeline(db: ActivitiesDb, scope: InScope, type: RecordType, recordId: string, limit: number, after?: { at: string; id: string }): Promise<TimelineKey[]> {
  const activities = db
    .selectFrom('activities')
    .innerJoin('activityLinks', 'activityLinks.activityId', 'activities.id')
    .where(scope)
    .select([sql<'activity' | 'change'>`'activity'`.as('kind'), 'activities.id as id', 'activities.occurredAt as at'])
    .where('activityLinks.recordType', '=', type)
    .where('activityLinks.recordId', '=', recordId)
    .where('activities.deletedAt', 'is', null);
  const changes = db
    .selectFrom('recordChanges')
    .select([sql<'activity' | 'change'>`'change'`.as('kind'), 'recordChanges.id as id', 'recordChanges.changedAt as at'])
    .where('recordChanges.recordType', '=', type)
    .where('recordChanges.recordId', '=', recordId);
  return db
    .selectFrom(activities.unionAll(changes).as('t'))
    .selectAll()
    .$if(after !== undefined, (q) => q.where(sql<boolean>`(t.at, t.id) < (${after!.at}::timestamptz, ${after!.id}::uuid)`))
    .orderBy('t.at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(limit)
    .execute();
}

export const changesByIds = (db: ActivitiesDb, ids: readonly string[]) =>
  ids.length === 0 ? Promise.resolve([]) : db.selectFrom('recordChanges').selectAll().where('id', 'in', ids).execute();

export const activitiesByIds = (db: ActivitiesDb, ids: readonly string[]): Promise<Activity[]> =>
  ids.length === 0 ? Promise.resolve([]) : activitySelect(db).where('activities.id', 'in', ids).execute();
