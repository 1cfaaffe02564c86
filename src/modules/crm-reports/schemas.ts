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
