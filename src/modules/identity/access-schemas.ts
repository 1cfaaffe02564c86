// The HTTP contract of roles and members.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

export const RoleKey = Type.String({ pattern: '^[a-z][a-z0-9-]{0,39}$', description: 'Lowercase letters, digits and dashes; system roles: owner, admin, manager, member, viewer' });
const Scope = Type.Union([Type.Literal('own'), Type.Literal('team'), Type.Literal('all')], {
  description: 'Records covered: own (owned by the member), team (theirs and their reports’, transitively), all. Narrower than all only on record permissions.',
});

export const Grant = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 100, description: 'A permission key (GET /v1/permissions lists them)' }), scope: Type.Optional(Scope) },
  { additionalProperties: false },
);

export const Role = Type.Object({
  id: Uuid,
  key: Type.String(),
  name: Type.String(),
  description: Type.String(),
  system: Type.Boolean({ description: 'System roles exist in every tenant and cannot be deleted; the owner role cannot be changed' }),
  permissions: Type.Array(Type.Object({ key: Type.String(), scope: Scope })),
  memberCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Description = Type.String({ maxLength: 500 });

export const CreateRole = Type.Object(
  { key: RoleKey, name: Name, description: Type.Optional(Description), permissions: Type.Array(Grant, { maxItems: 1000 }) },
  { additionalProperties: false, description: 'You can only grant permissions you hold, at a scope no wider than yours.' },
);

export const UpdateRole = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description), permissions: Type.Optional(Type.Array(Grant, { maxItems: 1000, description: 'Replaces every grant of the role' })) },
  { additionalProperties: false, minProperties: 1 },
);

export const Member = Type.Object({
  accountId: Uuid,
  email: Type.String(),
  displayName: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  role: Type.String(),
  reportsTo: Nullable(Uuid),
  createdAt: Type.String({ format: 'date-time' }),
});

export const MemberPage = Type.Object({ data: Type.Array(Member), nextCursor: Nullable(Type.String()) });

export const MembersQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    cursor: Type.Optional(Type.String({ format: 'uuid', description: 'nextCursor of the previous page' })),
    role: Type.Optional(RoleKey),
    reportsTo: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const AccountParams = Type.Object({ accountId: Uuid }, { additionalProperties: false });

export const UpdateMember = Type.Object(
  {
    role: Type.Optional(RoleKey),
    reportsTo: Type.Optional(Nullable(Uuid, )),
  },
  { additionalProperties: false, minProperties: 1, description: 'You can only give roles whose permissions you hold, and only change members whose role you could give. reportsTo: a member of this tenant (no cycles); null clears it.' },
);
