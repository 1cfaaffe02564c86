// What a request carries into services: who asks, in which tenant, and a
// database handle already scoped to that tenant's schema. Services take it as
// their first argument.
import type { Kysely } from 'kysely';
import { assertSchemaName } from './tenancy/schema-name.ts';
import { forTenant } from './db/database.ts';
import type { RecordScope } from './record-scope.ts';

export interface TenantRef {
  id: string;
  slug: string;
  displayName: string;
  schemaName: string;
}

export interface Actor {
  accountId: string;
  /** Key of the member's role in this tenant (a system role or a custom one). */
  role: string;
  permissions: ReadonlySet<string>;
  /** Record scope per permission where the role narrows it below `all` (see record-scope.ts). */
  scopes?: ReadonlyMap<string, RecordScope>;
  /** The login session of the access token (absent for tokens without one). */
  sessionId?: string;
  /** Set when the caller authenticated with an API key (of the account `accountId` created). */
  apiKeyId?: string;
}

/**
 * Kysely scoped with `withSchema(tenant schema)`: every table reference is
 * schema-qualified in the SQL, so no `SET search_path` is ever issued and the
 * code stays correct behind PgBouncer in transaction mode. Modules add their
 * table types with `db.withTables<ModuleTables>()`.
 */
export type TenantDb = Kysely<Record<never, never>>;

export interface RequestContext {
  requestId: string;
  tenant: TenantRef;
  actor: Actor;
  db: TenantDb;
  /** Where the request comes from (recorded in the audit trail). */
  client?: { ip: string; userAgent: string | null };
}

/** Context of a public, tenant-scoped route (login): a tenant, no actor yet. */
export interface PublicContext {
  requestId: string;
  tenant: TenantRef;
}

/** The tenant-scoped view of the platform database (on the tenant's connection group, db/tenant-affinity.ts), or of a transaction on it. */
export const scopeToTenant = (db: Kysely<any>, schemaName: string): TenantDb => forTenant(db, assertSchemaName(schemaName)).withSchema(schemaName) as unknown as TenantDb;
