// What a request carries into services: who asks, in which tenant, and a
// database handle already scoped to that tenant's schema. Services take it as
// their first argument.
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
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

// Scoped instances of busy tenants, kept: `withSchema` builds a plugin whose
// transformer binds ~100 methods (6.5 KiB and a few µs on every request).
// Sharing one is safe: Kysely instances are immutable and the transformer's
// per-query state lives only during one synchronous transformNode call.
// Sized for the 10,000-tenant fleet with room: traffic spread over more tenants
// than the cap misses on every request, and each miss's 6.5 KiB lives a second
// or two, long enough to be copied into the old generation before it is garbage.
// With 1,000, the 10,000-tenant read's typical p99 at a fixed rate was 40-58 ms;
// with 12,000, 6-41 (bench/RESULTS.md, "Eleventh session"). It costs at most
// ~78 MB of heap (12,000 × 6.5 KiB), when every tenant is active.
const scoped = new LRUCache<string, TenantDb>({ max: 12_000 });
const baseIds = new WeakMap<Kysely<any>, number>();
let nextBaseId = 0;

/** The tenant-scoped view of the platform database (on the tenant's connection group, db/tenant-affinity.ts), or of a transaction on it. */
export function scopeToTenant(db: Kysely<any>, schemaName: string): TenantDb {
  const base = forTenant(db, assertSchemaName(schemaName));
  if (base.isTransaction) return base.withSchema(schemaName) as unknown as TenantDb;
  let id = baseIds.get(base);
  if (id === undefined) baseIds.set(base, (id = nextBaseId++));
  const key = `${id}:${schemaName}`;
  let tenantDb = scoped.get(key);
  if (!tenantDb) scoped.set(key, (tenantDb = base.withSchema(schemaName) as unknown as TenantDb));
  return tenantDb;
}
