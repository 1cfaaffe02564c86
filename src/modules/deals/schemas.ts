// The HTTP contract of pipelines and deals.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';
import { DEAL_FIELDS } from './repository.ts';
import { SORT_PATTERN } from '../views/filters.ts';
import { CustomValues } from '../custom-fields/schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const DateTime = Type.String({ format: 'date-time' });
const Kind = Type.Union([Type.Literal('open'), Type.Literal('won'), Type.Literal('lost')]);
export const Amount = Type.String({ pattern: '^\\d{1,16}(\\.\\d{1,2})?$', description: 'Decimal string, at most 2 decimals: "12500.00"' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
const DateOnly = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });

const StageView = Type.Object({ id: Uuid, name: Type.String(), position: Type.Integer(), probability: Type.Integer(), kind: Kind });

export const Pipeline = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    isDefault: Type.Boolean(),
    stages: Type.Array(StageView),
    createdBy: Nullable(Uuid),
    updatedBy: Nullable(Uuid),
    createdAt: DateTime,
    updatedAt: DateTime,
    deletedAt: Nullable(DateTime),
  },
  { $id: 'Pipeline' },
);

const StageInput = Type.Object(
  {
    id: Type.Optional(Uuid),
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    probability: Type.Integer({ minimum: 0, maximum: 100 }),
    kind: Kind,
  },
  { additionalProperties: false },
);
const Stages = Type.Array(StageInput, { minItems: 1, maxItems: 50, description: 'All stages in order; send a stage id to keep (and rename) that stage, omit it to add one. Stages left out are removed.' });

export const CreatePipeline = Type.Object({ name: Name, stages: Stages }, { additionalProperties: false });
export const UpdatePipeline = Type.Object(
  { name: Type.Optional(Name), isDefault: Type.Optional(Type.Literal(true)), stages: Type.Optional(Stages) },
  { additionalProperties: false, minProperties: 1 },
);
export const PipelineListQuery = Type.Object({ deleted: Type.Boolean({ default: false }) }, { additionalProperties: false });
export const PipelineList = Type.Object({ data: Type.Array(Type.Ref('Pipeline')) });

export const Deal = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    amount: Nullable(Type.String()),
    currency: Nullable(Type.String()),
    closeDate: Nullable(Type.String()),
    pipelineId: Uuid,
    stageId: Uuid,
    stageChangedAt: DateTime,
    companyId: Nullable(Uuid),
    ownerId: Nullable(Uuid),
    contactIds: Type.Array(Uuid),
    custom: CustomValues,
    createdBy: Uuid,
    updatedBy: Uuid,
    createdAt: DateTime,
    updatedAt: DateTime,
    deletedAt: Nullable(DateTime),
  },
  { $id: 'Deal' },
);

const ContactIds = Type.Array(Uuid, { maxItems: 100, description: 'People on the deal (replaces the list on update)' });

export const CreateDeal = Type.Object(
  {
    name: Name,
    amount: Type.Optional(Nullable(Amount)),
    currency: Type.Optional(Nullable(Currency)),
    closeDate: Type.Optional(Nullable(DateOnly)),
    pipelineId: Type.Optional(Uuid),
    stageId: Type.Optional(Uuid),
    companyId: Type.Optional(Nullable(Uuid)),
    ownerId: Type.Optional(Nullable(Uuid)),
    contactIds: Type.Optional(ContactIds),
    custom: Type.Optional(CustomValues),
  },
  { additionalProperties: false, description: 'pipelineId defaults to the default pipeline, stageId to its first stage, ownerId to the caller.' },
);

export const UpdateDeal = Type.Object(
  {
    name: Type.Optional(Name),
    amount: Type.Optional(Nullable(Amount)),
    currency: Type.Optional(Nullable(Currency)),
    closeDate: Type.Optional(Nullable(DateOnly)),
    pipelineId: Type.Optional(Uuid),
    stageId: Type.Optional(Uuid),
    companyId: Type.Optional(Nullable(Uuid)),
    ownerId: Type.Optional(Nullable(Uuid)),
    contactIds: Type.Optional(ContactIds),
    custom: Type.Optional(CustomValues),
  },
  { additionalProperties: false, minProperties: 1, description: 'Changing stageId (or pipelineId) writes a stage history row.' },
);

export const DealListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 1024 })),
    sort: Type.Optional(Type.String({ pattern: SORT_PATTERN, maxLength: 300, description: `Default -createdAt. Up to 4 comma-separated fields, a leading - sorts descending; ties break on id. Fields: ${Object.keys(DEAL_FIELDS).join(', ')}, custom.<key>` })),
    filter: Type.Optional(
      Type.Array(Type.String({ maxLength: 300 }), { maxItems: 20, description: 'Repeatable `<field>:<op>[:<value>]`, ops eq, neq, in (a,b), gt, gte, lt, lte, contains, empty, not_empty; fields as for sort' }),
    ),
    view: Type.Optional(Uuid),
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Full-text (prefix) search over the name' })),
    pipelineId: Type.Optional(Uuid),
    stageId: Type.Optional(Uuid),
    status: Type.Optional(Kind),
    ownerId: Type.Optional(Uuid),
    companyId: Type.Optional(Uuid),
    contactId: Type.Optional(Uuid),
    amountMin: Type.Optional(Amount),
    amountMax: Type.Optional(Amount),
    closeDateFrom: Type.Optional(DateOnly),
    closeDateTo: Type.Optional(DateOnly),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text contained in the name' })),
    deleted: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export const DealPage = Type.Object({ data: Type.Array(Type.Ref('Deal')), nextCursor: Nullable(Type.String()) });

export const StageHistory = Type.Object({
  data: Type.Array(
    Type.Object({ id: Uuid, fromStageId: Nullable(Uuid), fromStageName: Nullable(Type.String()), toStageId: Uuid, toStageName: Type.String(), changedAt: DateTime, changedBy: Nullable(Uuid) }),
  ),
});
