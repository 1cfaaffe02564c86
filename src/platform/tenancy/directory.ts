// Per-request lookups of tenants and memberships, answered from a short-lived
// in-process cache: every authenticated request needs both, and hitting
// `public` twice per request would double the round trips of a simple read.
// Writes through this process invalidate at once; other instances see a
// change within `ttlMs` (TENANT_CACHE_TTL_MS).
import type { Db } from '../db/database.ts';
import type { Role, Tenant } from '../db/public-tables.ts';
import { LRUCache } from 'lru-cache';

export interface TenantDirectory {
  bySlug(slug: string): Promise<Tenant | null>;
  byId(id: string): Promise<Tenant | null>;
  /** The role of an active account in a tenant, or null when it is not an active member. */
  roleOf(tenantId: string, accountId: string): Promise<Role | null>;
  invalidateTenant(tenant: Pick<Tenant, 'id' | 'slug'>): void;
  invalidateMembership(tenantId: string, accountId: string): void;
}

export function createTenantDirectory(db: Db, ttlMs: number): TenantDirectory {
  // Boxed because the cache cannot hold null, and "no such tenant" is worth caching too.
  const tenants = new LRUCache<string, { value: Tenant | null }>({ max: 10_000, ttl: Math.max(ttlMs, 1) });
  const roles = new LRUCache<string, { value: Role | null }>({ max: 50_000, ttl: Math.max(ttlMs, 1) });
  const cacheOn = ttlMs > 0;

  const load = async (column: 'slug' | 'id', value: string) => {
    const key = `${column}:${value}`;
    const hit = tenants.get(key);
    if (hit) return hit.value;
    const row = (await db.selectFrom('tenants').selectAll().where(column, '=', value).executeTakeFirst()) ?? null;
    if (cacheOn) tenants.set(key, { value: row });
    return row;
  };

  return {
    bySlug: (slug) => load('slug', slug),
    byId: (id) => load('id', id),
    async roleOf(tenantId, accountId) {
      const key = `${tenantId}:${accountId}`;
      const hit = roles.get(key);
      if (hit) return hit.value;
      const row = await db
        .selectFrom('memberships as m')
        .innerJoin('accounts as a', 'a.id', 'm.accountId')
        .select('m.role')
        .where('m.tenantId', '=', tenantId)
        .where('m.accountId', '=', accountId)
        .where('a.status', '=', 'active')
        .executeTakeFirst();
      const role = row?.role ?? null;
      if (cacheOn) roles.set(key, { value: role });
      return role;
    },
    invalidateTenant(tenant) {
      tenants.delete(`slug:${tenant.slug}`);
      tenants.delete(`id:${tenant.id}`);
    },
    invalidateMembership(tenantId, accountId) {
      roles.delete(`${tenantId}:${accountId}`);
    },
  };
}
