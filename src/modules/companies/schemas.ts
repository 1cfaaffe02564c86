// The HTTP contract of companies.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';
import { FIELDS } from './repository.ts';
import { SORT_PATTERN } from '../views/filters.ts';
import { CustomValues } from '../custom-fields/schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Domain = Type.String({ maxLength: 255, description: 'Stored normalised: "https://www.Acme.com/x" becomes "acme.com"' });
const Text = Type.String({ maxLength: 500 });
const Employees = Type.Integer({ minimum: 0, maximum: 10_000_000 });

export const Company = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    domain: Nullable(Type.String()),
    industry: Nullable(Type.String()),
    employees: Nullable(Type.Integer()),
    address: Nullable(Type.String()),
    custom: CustomValues,
    ownerId: Nullable(Uuid),
    createdBy: Uuid,
    updatedBy: Uuid,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    deletedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Company' },
);

export const CreateCompany = Type.Object(
  {
    name: Name,
    domain: Type.Optional(Nullable(Domain)),
    industry: Type.Optional(Nullable(Text)),
    employees: Type.Optional(Nullable(Employees)),
    address: Type.Optional(Nullable(Text)),
    ownerId: Type.Optional(Nullable(Uuid)),
    custom: Type.Optional(CustomValues),
  },
  { additionalProperties: false, description: 'ownerId defaults to the caller; null leaves the company without owner.' },
);

export const UpdateCompany = Type.Object(
  {
    name: Type.Optional(Name),
    domain: Type.Optional(Nullable(Domain)),
    industry: Type.Optional(Nullable(Text)),
    employees: Type.Optional(Nullable(Employees)),
    address: Type.Optional(Nullable(Text)),
    ownerId: Type.Optional(Nullable(Uuid)),
    custom: Type.Optional(CustomValues),
  },
  { additionalProperties: false, minProperties: 1, description: 'Fields to change; null clears an optional field.' },
);

export const CompanyListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
    sort: Type.Optional(Type.String({ pattern: SORT_PATTERN, maxLength: 300, description: `Default -createdAt. Up to 4 comma-separated fields, a leading - sorts descending; ties break on id. Fields: ${Object.keys(FIELDS).join(', ')}, custom.<key>` })),
    filter: Type.Optional(
      Type.Array(Type.String({ maxLength: 300 }), { maxItems: 20, description: 'Repeatable `<field>:<op>[:<value>]`, ops eq, neq, in (a,b), gt, gte, lt, lte, contains, empty, not_empty; fields as for sort' }),
    ),
    view: Type.Optional(Uuid),
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Full-text (prefix) search over name and domain' })),
    domain: Type.Optional(Type.String({ maxLength: 255, description: 'Exact domain (normalised before comparing)' })),
    ownerId: Type.Optional(Uuid),
    industry: Type.Optional(Type.String({ maxLength: 500 })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text contained in the name or domain' })),
    deleted: Type.Boolean({ default: false, description: 'List deleted companies (the trash) instead of live ones' }),
  },
  { additionalProperties: false },
);

export const CompanyPage = Type.Object({ data: Type.Array(Type.Ref('Company')), nextCursor: Nullable(Type.String()) });
