// The HTTP contract of contacts: one TypeBox schema per shape gives
// validation, TypeScript types and the OpenAPI document.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';
import { SORT_FIELDS } from './repository.ts';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Email = Type.String({ format: 'email', maxLength: 320 });
const Phone = Type.String({ maxLength: 40, pattern: '^[+0-9][0-9 ().-]{2,39}$' });
const JobTitle = Type.String({ maxLength: 200 });
const Emails = Type.Array(Email, { maxItems: 20, description: 'All emails of the person; `email` (or else the first) is the primary' });
const Phones = Type.Array(Phone, { maxItems: 20, description: 'All phones of the person; `phone` (or else the first) is the primary' });

export const Contact = Type.Object(
  {
    id: Uuid,
    firstName: Type.String(),
    lastName: Nullable(Type.String()),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    jobTitle: Nullable(Type.String()),
    emails: Type.Array(Type.String(), { description: 'Every email; the first is the primary `email`' }),
    phones: Type.Array(Type.String(), { description: 'Every phone; the first is the primary `phone`' }),
    companyId: Nullable(Uuid),
    ownerId: Nullable(Uuid),
    createdBy: Uuid,
    updatedBy: Uuid,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    deletedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Contact' },
);

export const CreateContact = Type.Object(
  {
    firstName: Name,
    lastName: Type.Optional(Nullable(Name)),
    email: Type.Optional(Nullable(Email)),
    phone: Type.Optional(Nullable(Phone)),
    jobTitle: Type.Optional(Nullable(JobTitle)),
    emails: Type.Optional(Emails),
    phones: Type.Optional(Phones),
    companyId: Type.Optional(Nullable(Uuid)),
    ownerId: Type.Optional(Nullable(Uuid, )),
  },
  { additionalProperties: false, description: 'ownerId defaults to the caller; null leaves the contact without owner. `email`/`phone` are the primary values of `emails`/`phones`.' },
);

export const UpdateContact = Type.Object(
  {
    firstName: Type.Optional(Name),
    lastName: Type.Optional(Nullable(Name)),
    email: Type.Optional(Nullable(Email)),
    phone: Type.Optional(Nullable(Phone)),
    jobTitle: Type.Optional(Nullable(JobTitle)),
    emails: Type.Optional(Emails),
    phones: Type.Optional(Phones),
    companyId: Type.Optional(Nullable(Uuid)),
    ownerId: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false, minProperties: 1, description: 'Fields to change; null clears an optional field.' },
);

const sortValues = SORT_FIELDS.flatMap((f) => [f, `-${f}`]);

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
    sort: Type.Enum(sortValues, { default: '-createdAt', description: 'Field to sort by; a leading - sorts descending. Ties break on id.' }),
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Exact email, case-insensitive' })),
    ownerId: Type.Optional(Uuid),
    companyId: Type.Optional(Uuid),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Text contained in the name or email' })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time' })),
    deleted: Type.Boolean({ default: false, description: 'List deleted contacts (the trash) instead of live ones' }),
  },
  { additionalProperties: false },
);

export const ContactPage = Type.Object({
  data: Type.Array(Type.Ref('Contact')),
  nextCursor: Nullable(Type.String()),
});
