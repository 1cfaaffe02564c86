// The HTTP contract of custom field definitions.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

const DateTime = Type.String({ format: 'date-time' });
const ObjectName = Type.Union([Type.Literal('company'), Type.Literal('deal')]);
const FieldTypeSchema = Type.Union(['text', 'number', 'date', 'boolean', 'select', 'multi_select', 'currency', 'relation'].map((t) => Type.Literal(t)));
const Key = Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'API name used in `custom` objects, filters and sorts (snake_case)' });
const Label = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Options = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 200, description: 'Choices of select and multi_select fields' });

export const CustomField = Type.Object(
  {
    id: Uuid,
    object: ObjectName,
    key: Type.String(),
    label: Type.String(),
    type: FieldTypeSchema,
    options: Type.Array(Type.String()),
    currency: Nullable(Type.String()),
    target: Nullable(Type.String()),
    required: Type.Boolean(),
    position: Type.Integer(),
    createdBy: Uuid,
    updatedBy: Uuid,
    createdAt: DateTime,
    updatedAt: DateTime,
    deletedAt: Nullable(DateTime),
  },
  { $id: 'CustomField' },
);

export const CreateCustomField = Type.Object(
  {
    object: ObjectName,
    key: Key,
    label: Label,
    type: FieldTypeSchema,
    options: Type.Optional(Options),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code of a currency field' })),
    target: Type.Optional(Type.Union([Type.Literal('company'), Type.Literal('contact'), Type.Literal('deal')], { description: 'Object a relation field points at' })),
    required: Type.Optional(Type.Boolean()),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

export const UpdateCustomField = Type.Object(
  { key: Type.Optional(Key), label: Type.Optional(Label), options: Type.Optional(Options), required: Type.Optional(Type.Boolean()), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })) },
  { additionalProperties: false, minProperties: 1, description: 'The type and object are fixed; renaming the key keeps the stored values.' },
);

export const CustomFieldListQuery = Type.Object({ object: Type.Optional(ObjectName), deleted: Type.Boolean({ default: false }) }, { additionalProperties: false });
export const CustomFieldList = Type.Object({ data: Type.Array(Type.Ref('CustomField')) });

/** The `custom` property of companies and deals: field key → value. */
export const CustomValues = Type.Record(Type.String(), Type.Unknown(), { description: 'Custom field values by field key (see /v1/custom-fields); null clears one on update' });
