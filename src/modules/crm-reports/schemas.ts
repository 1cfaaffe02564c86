// The HTTP contract of CRM reports.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

export const PipelineReportQuery = Type.Object(
  {
    pipelineId: Type.Optional(Uuid),
    at: Type.Optional(Type.String({ format: 'date-time', description: 'Point in time (default now): each deal counts in the stage it was in at that moment' })),
    ownerId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const PipelineReport = Type.Object({
  pipelineId: Uuid,
  at: Type.String({ format: 'date-time' }),
  rows: Type.Array(
    Type.Object({
      stageId: Uuid,
      stage: Type.String(),
      position: Type.Integer(),
      kind: Type.String(),
      probability: Type.Integer(),
      currency: Nullable(Type.String()),
      count: Type.Integer(),
      amount: Nullable(Type.String({ description: 'Sum of the deals\' current amounts, decimal string' })),
      weightedAmount: Nullable(Type.String({ description: 'Sum of amount × stage probability' })),
    }),
  ),
});

export const CsvText = Type.String({ description: 'text/csv with a header row; same rows and numbers as the JSON report' });

export const RangeQuery = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'Start of the range (inclusive)' }),
    to: Type.String({ format: 'date-time', description: 'End of the range (exclusive)' }),
    ownerId: Type.Optional(Uuid),
    pipelineId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const Scope = Type.Union([Type.Literal('all'), Type.Literal('owner')], { description: "'all' is the total row (first); 'owner' one owner's row (ownerId null: records without owner)" });

export const OutcomesReport = Type.Object({
  from: Type.String(),
  to: Type.String(),
  rows: Type.Array(
    Type.Object({
      scope: Scope,
      ownerId: Nullable(Uuid),
      won: Type.Integer(),
      lost: Type.Integer(),
      winRate: Nullable(Type.String({ description: 'won / (won + lost), 4 decimals; null without closed deals' })),
      wonAmount: Nullable(Type.String()),
      avgCycleDays: Nullable(Type.String({ description: 'Average days from creation to won' })),
    }),
  ),
});

export const ConversionReport = Type.Object({
  pipelineId: Uuid,
  from: Type.String(),
  to: Type.String(),
  rows: Type.Array(
    Type.Object({
      stageId: Uuid,
      stage: Type.String(),
      position: Type.Integer(),
      reached: Type.Integer({ description: 'Deals created in the range that reached this stage or a later one' }),
      conversionToNext: Nullable(Type.String({ description: 'Share of them that reached the next stage, 4 decimals' })),
    }),
  ),
});

export const ActivitiesReport = Type.Object({
  from: Type.String(),
  to: Type.String(),
  rows: Type.Array(
    Type.Object({ scope: Scope, ownerId: Nullable(Uuid), notes: Type.Integer(), tasks: Type.Integer(), tasksDone: Type.Integer(), calls: Type.Integer(), meetings: Type.Integer() }),
  ),
});
