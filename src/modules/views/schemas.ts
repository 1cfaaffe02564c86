// The HTTP contract of saved views and CRM search.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';
import { SORT_PATTERN } from './filters.ts';

const ObjectName = Type.Union([Type.Literal('company'), Type.Literal('deal')]);
const Filters = Type.Array(Type.String({ maxLength: 300 }), { maxItems: 20, description: 'As the `filter` list parameter: `<field>:<op>[:<value>]`' });
const Sort = Type.String({ pattern: SORT_PATTERN, maxLength: 300 });
const Columns = Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100, description: 'Columns a client shows, in order (stored, not interpreted)' });
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const SavedView = Type.Object(
  {
    id: Uuid,
    accountId: Uuid,
    object: ObjectName,
    name: Type.String(),
    filters: Type.Array(Type.String()),
    sort: Nullable(Type.String()),
    search: Nullable(Type.String()),
    columns: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'SavedView' },
);

export const CreateView = Type.Object(
  { object: ObjectName, name: Name, filters: Type.Optional(Filters), sort: Type.Optional(Nullable(Sort)), search: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), columns: Type.Optional(Columns) },
  { additionalProperties: false },
);
export const UpdateView = Type.Object(
  { name: Type.Optional(Name), filters: Type.Optional(Filters), sort: Type.Optional(Nullable(Sort)), search: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), columns: Type.Optional(Columns) },
  { additionalProperties: false, minProperties: 1 },
);
export const ViewListQuery = Type.Object({ object: Type.Optional(ObjectName) }, { additionalProperties: false });
export const ViewList = Type.Object({ data: Type.Array(Type.Ref('SavedView')) });

export const SearchQuery = Type.Object({ q: Type.String({ minLength: 1, maxLength: 200 }), limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }) }, { additionalProperties: false });
export const SearchResult = Type.Object({
  companies: Type.Array(Type.Object({ id: Uuid, name: Type.String(), domain: Nullable(Type.String()) })),
  contacts: Type.Array(Type.Object({ id: Uuid, firstName: Type.String(), lastName: Nullable(Type.String()), email: Nullable(Type.String()) })),
  deals: Type.Array(Type.Object({ id: Uuid, name: Type.String(), amount: Nullable(Type.String()), currency: Nullable(Type.String()) })),
});
