import type { ColumnType, Selectable } from 'kysely';
import type { DealsTables } from '../deals/tables.ts';
import type { RecordType } from '../companies/tables.ts';

export type ActivityType = 'note' | 'task' | 'call' | 'meeting';
export type TaskStatus = 'todo' | 'in_progress' | 'done';

export interface ActivitiesTable {
  id: string;
  type: ActivityType;
  subject: string;
  body: string | null;
  status: TaskStatus | null;
  dueAt: Date | null;
  assigneeId: string | null;
  completedAt: Date | null;
  startsAt: Date | null;
  durationMinutes: number | null;
  outcome: string | null;
  location: string | null;
  occurredAt: Date;
  ownerId: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: ColumnType<Date, Date, Date>;
  deletedAt: Date | null;
}

export interface ActivityLinksTable {
  activityId: string;
  recordType: RecordType;
  recordId: string;
}

export type ActivitiesTables = DealsTables & {
  activities: ActivitiesTable;
  activityLinks: ActivityLinksTable;
};

export interface Link {
  type: RecordType;
  id: string;
}

export type Activity = Selectable<ActivitiesTable> & { links: Link[] };
