// Types of the platform tables in the `public` schema (camelCase: the Kysely
// CamelCasePlugin maps them to snake_case columns).
import type { ColumnType, Generated, Selectable } from 'kysely';

export type TenantStatus = 'active' | 'suspended';
export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface TenantsTable {
  id: string;
  slug: string;
  displayName: string;
  schemaName: string;
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>;
  /** Name of the last tenant migration applied to this tenant's schema. */
  schemaVersion: string | null;
  createdAt: ColumnType<Date, Date | undefined, never>;
  updatedAt: ColumnType<Date, Date | undefined, Date>;
}

export interface AccountsTable {
  id: string;
  email: string;
  displayName: string;
  passwordHash: string;
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined, 'active' | 'disabled'>;
  createdAt: ColumnType<Date, Date | undefined, never>;
  updatedAt: ColumnType<Date, Date | undefined, Date>;
  /** When the account proved it receives mail at `email` (verification link, invitation, reset). */
  emailVerifiedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface MembershipsTable {
  tenantId: string;
  accountId: string;
  role: Role;
  createdAt: ColumnType<Date, Date | undefined, never>;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  publicJwk: ColumnType<Record<string, unknown>, string, string>;
  privateJwk: ColumnType<Record<string, unknown>, string, string>;
  createdAt: Generated<Date>;
  retiredAt: Date | null;
}

export interface PublicDatabase {
  tenants: TenantsTable;
  accounts: AccountsTable;
  memberships: MembershipsTable;
  signingKeys: SigningKeysTable;
}

export type Tenant = Selectable<TenantsTable>;
export type Account = Selectable<AccountsTable>;
