// Per-request lookups of tenants and of a member's permission set, answered
// from the two-level cache (platform/cache): every authenticated request
// needs both, and hitting the database twice per request would double the
// round trips of a simple read. Changes invalidate the entries on every
// instance at once (Redis pub/sub or PostgreSQL NOTIFY); TENANT_CACHE_TTL_MS
// bounds an entry's life as a backstop (0: no cache).
import { sql } from 'kysely';
import { LRUCache } from 'lru-cache';
import { forTenant, type Db } from '../db/database.ts';
import type { Tenant } from '../db/public-tables.ts';
import { assertSchemaName } from './schema-name.ts';
import type { CacheStore } from '../cache/cache.ts';
import { effectiveGrants, isSystemRole, type Grants, type PermissionRegistry } from '../permissions.ts';
import type { RecordScope } from '../record-scope.ts';

/** What a member may do in a tenant: their role and each permission with its record scope. */
export interface MemberAccess {
  role: string;
  permissions: ReadonlySet<string>;
  /** Only the permissions held with a scope narrower than `all` (Actor.scopes). */
  scopes: ReadonlyMap<string, RecordScope>;
  grants: Grants;
}

export interface TenantDirectory {
  /** `fresh`: read the database, not the cache (and cache what it holds now). */
  bySlug(slug: string, fresh?: boolean): Promise<Tenant | null>;
  byId(id: string, fresh?: boolean): Promise<Tenant | null>;
  /** The permission set of an active account in a tenant, or null when it is not an active member. */
  access(tenant: Pick<Tenant, 'id' | 'schemaName'>, accountId: string): Promise<MemberAccess | null>;
  /** The role of an active account in a tenant, or null when it is not an active member. */
  roleOf(tenantId: string, accountId: string): Promise<string | null>;
  /** After a tenant changed (status, slug, deletion): on every instance, once the change committed. */
  invalidateTenant(tenant: Pick<Tenant, 'id' | 'slug'>): Promise<void>;
  /** After a membership changed (role, removal, account disabled). */
  invalidateMembership(tenantId: string, accountId: string): Promise<void>;
  /** After a role of the tenant changed: every member's permission set. */
  invalidateRoles(tenantId: string): Promise<void>;
}

// Members with the same role and grants share one frozen MemberAccess: at
// 10,000 tenants the cache would otherwise hold 10,000 copies of the same
// few permission sets (about 6 KB each), and a larger heap makes every full
// garbage collection slower.
const interned = new LRUCache<string, MemberAccess>({ max: 10_000 });

export function memberAccess(role: string, grants: Grants): MemberAccess {
  const signature = `${role}\u0000${[...grants].map(([key, scope]) => `${key}:${scope}`).join(',')}`;
  const hit = interned.get(signature);
  if (hit) return hit;
  const scopes = new Map([...grants].filter(([, scope]) => scope !== 'all'));
  const access = Object.freeze({ role, grants, permissions: new Set(grants.keys()), scopes });
  interned.set(signature, access);
  return access;
}

const PLATFORM_NS = '_';

export function createTenantDirectory(db: Db, cache: CacheStore, permissions: PermissionRegistry): TenantDirectory {
  // Named `directory`, not after tenants: /metrics keeps the word out of its labels.
  const tenants = cache.cache<Tenant | null>('directory', {
    // A tenant is held under its slug and under its id: 30,000 entries cover a fleet of 15,000 read both ways.
    max: 30_000,
    decode: (raw) => {
      const t = raw as (Omit<Tenant, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string }) | null;
      return t && { ...t, createdAt: new Date(t.createdAt), updatedAt: new Date(t.updatedAt) };
    },
  });
  const accessCache = cache.cache<MemberAccess | null>('access', {
    max: 50_000,
    encode: (a) => a && { role: a.role, grants: [...a.grants] },
    decode: (raw) => {
      const a = raw as { role: string; grants: Array<[string, RecordScope]> } | null;
      return a && memberAccess(a.role, new Map(a.grants));
    },
  });

  const load = (column: 'slug' | 'id', value: string, fresh = false) =>
    tenants[fresh ? 'reload' : 'get'](PLATFORM_NS, `${column}:${value}`, async () => (await db.selectFrom('tenants').selectAll().where(column, '=', value).executeTakeFirst()) ?? null);

  const access: TenantDirectory['access'] = (tenant, accountId) =>
    accessCache.get(tenant.id, accountId, async () => {
      const schema = assertSchemaName(tenant.schemaName);
      type Row = { role: string; system: boolean | null; permissions: Record<string, RecordScope | null> | null };
      const query = (withRoles: boolean) => sql<Row>`
        select m.role, ${withRoles ? sql`r.system, r.permissions` : sql`null::boolean as system, null::jsonb as permissions`}
        from public.memberships m
        join public.accounts a on a.id = m.account_id and a.status = 'active'
        ${withRoles ? sql`left join ${sql.id(schema, 'roles')} r on r.key = m.role` : sql``}
        where m.tenant_id = ${tenant.id} and m.account_id = ${accountId}`.execute(forTenant(db, schema));
      // A schema not yet migrated to per-tenant roles (the refresh path does not wait for it): system defaults.
      const { rows } = await query(true).catch((error: unknown) => {
        if ((error as { code?: string }).code === '42P01') return query(false);
        throw error;
      });
      const row = rows[0];
      if (!row) return null;
      const stored = { key: row.role, system: row.system ?? isSystemRole(row.role), permissions: row.permissions ?? {} };
      return memberAccess(row.role, effectiveGrants(permissions, stored));
    });

  return {
    bySlug: (slug, fresh) => load('slug', slug, fresh),
    byId: (id, fresh) => load('id', id, fresh),
    access,
    async roleOf(tenantId, accountId) {
      const tenant = await load('id', tenantId);
      return tenant ? ((await access(tenant, accountId))?.role ?? null) : null;
    },
    async invalidateTenant(tenant) {
      await Promise.all([tenants.invalidate(PLATFORM_NS, `slug:${tenant.slug}`), tenants.invalidate(PLATFORM_NS, `id:${tenant.id}`)]);
    },
    invalidateMembership: (tenantId, accountId) => accessCache.invalidate(tenantId, accountId),
    invalidateRoles: (tenantId) => accessCache.invalidate(tenantId),
  };
}
