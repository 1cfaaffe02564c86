import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

export const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false });

export const PlatformTenant = Type.Object(
  {
    id: Uuid,
    slug: Type.String(),
    displayName: Type.String(),
    status: Type.Enum(['active', 'suspended']),
    schemaName: Type.String(),
    schemaVersion: Nullable(Type.String()),
    migrationError: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    sizeBytes: Type.Integer(),
  },
  { $id: 'PlatformTenant' },
);

export const TenantList = Type.Object({ total: Type.Integer(), tenants: Type.Array(Type.Ref('PlatformTenant')) });

export const ListTenantsQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(['active', 'suspended'])),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
);

export const CreateTenant = Type.Object(
  {
    slug: Type.String({ minLength: 1, maxLength: 40 }),
    displayName: Type.String({ minLength: 1, maxLength: 200 }),
    ownerEmail: Type.String({ format: 'email', maxLength: 254 }),
    ownerPassword: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const CreatedTenant = Type.Object({
  tenant: Type.Ref('PlatformTenant'),
  owner: Type.Object({ email: Type.String(), existingAccount: Type.Boolean(), password: Nullable(Type.String({ description: 'Generated password, shown once (null when given or when the account existed)' })) }),
});

export const RenameTenant = Type.Object(
  { slug: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })), displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false, minProperties: 1 },
);

export const DeleteQuery = Type.Object({ export: Type.Boolean({ default: true, description: 'Write an export file under PLINTH_DATA_DIR/exports first' }) }, { additionalProperties: false });

export const DeletedTenant = Type.Object({ slug: Type.String(), droppedTables: Type.Integer(), exportFile: Nullable(Type.String()) });

export const PlatformLogin = Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const PlatformToken = Type.Object({ accessToken: Type.String(), tokenType: Type.Literal('Bearer'), expiresIn: Type.Integer() });

export const FleetStatusSchema = Type.Object({
  latest: Nullable(Type.String()),
  total: Type.Integer(),
  upToDate: Type.Integer(),
  behind: Type.Integer(),
  versions: Type.Array(Type.Object({ version: Nullable(Type.String()), tenants: Type.Integer(), current: Type.Boolean() })),
  failed: Type.Array(Type.Object({ slug: Type.String(), schemaVersion: Nullable(Type.String()), error: Type.String(), failedAt: Nullable(Type.String({ format: 'date-time' })) })),
});
