// The HTTP contract of activities and timelines.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';
import { SORT_FIELDS } from './repository.ts';

const DateTime = Type.String({ format: 'date-time' });
const ActivityTypeSchema = Type.Union([Type.Literal('note'), Type.Literal('task'), Type.Literal('call'), Type.Literal('meeting')]);
const Status = Type.Union([Type.Literal('todo'), Type.Literal('in_progress'), Type.Literal('done')]);
export const RecordTypeSchema = Type.Union([Type.Literal('company'), Type.Literal('contact'), Type.Literal('deal')]);
const Subject = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' });
const Body = Type.String({ maxLength: 20_000 });
const Short = Type.String({ maxLength: 500 });
const Minutes = Type.Integer({ minimum: 0, maximum: 10_000 });
const LinkSchema = Type.Object({ type: RecordTypeSchema, id: Uuid }, { additionalProperties: false });
const Links = Type.Array(LinkSchema, { maxItems: 100, description: 'Companies, people (contacts) and deals this activity is about (replaces the list on update)' });

export const Activity = Type.Object(
  {
    id: Uuid,
    type: ActivityTypeSchema,
    subject: Type.String(),
    body: Nullable(Type.String()),
    status: Nullable(Status),
    dueAt: Nullable(DateTime),
    assigneeId: Nullable(Uuid),
    completedAt: Nullable(DateTime),
    startsAt: Nullable(DateTime),
    durationMinutes: Nullable(Type.Integer()),
    outcome: Nullable(Type.String()),
    location: Nullable(Type.String()),
    occurredAt: DateTime,
    ownerId: Nullable(Uuid),
    links: Type.Array(LinkSchema),
    createdBy: Uuid,
    updatedBy: Uuid,
    createdAt: DateTime,
    updatedAt: DateTime,
    deletedAt: Nullable(DateTime),
  },
  { $id: 'Activity' },
);

const common = {
  subject: Subject,
  body: Type.Optional(Nullable(Body)),
  ownerId: Type.Optional(Nullable(Uuid)),
  links: Type.Optional(Links),
  status: Type.Optional(Status),
  dueAt: Type.Optional(Nullable(DateTime)),
  assigneeId: Type.Optional(Nullable(Uuid)),
  startsAt: Type.Optional(Nullable(DateTime)),
  durationMinutes: Type.Optional(Nullable(Minutes)),
  outcome: Type.Optional(Nullable(Short)),
  location: Type.Optional(Nullable(Short)),
};

export const CreateActivity = Type.Object(
  { type: ActivityTypeSchema, ...common },
  { additionalProperties: false, description: 'Tasks take status (default todo), dueAt, assigneeId; calls take startsAt, durationMinutes, outcome; meetings startsAt, durationMinutes, location.' },
);

export const UpdateActivity = Type.Object({ ...common, subject: Type.Optional(Subject) }, { additionalProperties: false, minProperties: 1 });

export const ActivityListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 1024 })),
    sort: Type.Enum(Object.keys(SORT_FIELDS).flatMap((f) => [f, `-${f}`]), { default: '-occurredAt' }),
    type: Type.Optional(ActivityTypeSchema),
    status: Type.Optional(Status),
    assigneeId: Type.Optional(Uuid),
    ownerId: Type.Optional(Uuid),
    recordType: Type.Optional(RecordTypeSchema),
    recordId: Type.Optional(Uuid),
    dueBefore: Type.Optional(DateTime),
    deleted: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export const ActivityPage = Type.Object({ data: Type.Array(Type.Ref('Activity')), nextCursor: Nullable(Type.String()) });

export const TimelineQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), cursor: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);

const Change = Type.Object({
  id: Uuid,
  recordType: RecordTypeSchema,
  recordId: Uuid,
  action: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('deleted'), Type.Literal('restored')]),
  changes: Type.Record(Type.String(), Type.Array(Type.Unknown()), { description: 'field → [before, after]' }),
  changedBy: Nullable(Uuid),
  changedAt: DateTime,
});

export const Timeline = Type.Object({
  data: Type.Array(
    Type.Union([
      Type.Object({ kind: Type.Literal('activity'), at: DateTime, activity: Type.Ref('Activity') }),
      Type.Object({ kind: Type.Literal('change'), at: DateTime, change: Change }),
    ]),
  ),
  nextCursor: Nullable(Type.String()),
});
