// The permission registry: the source of truth for what permissions exist.
// Modules contribute permissions (with the system roles that hold them by
// default); routes name one of them in their config. At boot the registry is
// copied to `public.permissions` (permission-catalogue.ts) for SQL and tools;
// per-tenant roles (tenant table `roles`) map permission keys to a record scope.
import type { Role } from './db/public-tables.ts';
import { RECORD_SCOPES, type RecordScope } from './record-scope.ts';

/** The system roles every tenant has, from most to least powerful. */
export const ROLES: readonly Role[] = ['owner', 'admin', 'manager', 'member', 'viewer'];
export const isSystemRole = (key: string): key is Role => (ROLES as readonly string[]).includes(key);

export interface PermissionDef {
  /** `<area>.<resource>.<action>`, e.g. `crm.contacts.read`. */
  key: string;
  description: string;
  /**
   * System roles granted this permission by default. Owners hold every
   * permission; managers hold what members hold (and what names them).
   */
  roles: readonly Role[];
  /**
   * The permission covers records with an owner, so a role may grant it with
   * scope `own` or `team` (record-scope.ts). Managers get such permissions
   * with scope `team` by default; other system roles with `all`.
   */
  recordScope?: boolean;
}

/** A registered permission and the module that contributed it. */
export interface RegisteredPermission extends PermissionDef {
  module: string;
  resource: string;
  action: string;
}

/** Permission key → scope: what a role grants. */
export type Grants = ReadonlyMap<string, RecordScope>;

export interface PermissionRegistry {
  has(key: string): boolean;
  get(key: string): RegisteredPermission | undefined;
  all(): readonly RegisteredPermission[];
  /** The permissions a system role holds by default. */
  permissionsOf(role: Role): ReadonlySet<string>;
  /** The permissions a system role holds by default, with their scopes. */
  defaultGrants(role: Role): Grants;
}

const KEY_RE = /^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*){2}$/;
const SCOPE_RANK: Record<RecordScope, number> = { own: 0, team: 1, all: 2 };

/** True when scope `held` covers at least the records of `wanted`. */
export const scopeCovers = (held: RecordScope | undefined, wanted: RecordScope): boolean => held !== undefined && SCOPE_RANK[held] >= SCOPE_RANK[wanted];
export const isRecordScope = (s: unknown): s is RecordScope => (RECORD_SCOPES as readonly unknown[]).includes(s);

export function createPermissionRegistry(defs: ReadonlyArray<PermissionDef & { module?: string }>): PermissionRegistry {
  const byKey = new Map<string, RegisteredPermission>();
  for (const def of defs) {
    if (!KEY_RE.test(def.key)) throw new Error(`Permission "${def.key}" must look like area.resource.action`);
    if (byKey.has(def.key)) throw new Error(`Permission "${def.key}" is declared twice`);
    const [area, resource, action] = def.key.split('.') as [string, string, string];
    byKey.set(def.key, { ...def, module: def.module ?? area, resource, action });
  }
  const byRole = new Map<Role, Map<string, RecordScope>>(ROLES.map((role) => [role, new Map<string, RecordScope>()]));
  for (const def of byKey.values()) {
    byRole.get('owner')!.set(def.key, 'all');
    for (const role of def.roles) byRole.get(role)!.set(def.key, 'all');
    if (def.roles.includes('member') || def.roles.includes('manager')) byRole.get('manager')!.set(def.key, def.recordScope ? 'team' : 'all');
  }
  const keysByRole = new Map<Role, ReadonlySet<string>>([...byRole].map(([role, grants]) => [role, new Set(grants.keys())]));
  return {
    has: (key) => byKey.has(key),
    get: (key) => byKey.get(key),
    all: () => [...byKey.values()],
    permissionsOf: (role) => keysByRole.get(role)!,
    defaultGrants: (role) => byRole.get(role)!,
  };
}

/**
 * What a stored role grants. `stored` is the role's `permissions` column:
 * for a custom role the whole map; for a system role the tenant's changes to
 * the defaults (`null` revokes), so permissions added by a later release reach
 * existing tenants' system roles without touching their schemas. Owners always
 * hold everything. Unknown keys (a module removed) are ignored, and a scope
 * narrower than `all` only counts on record permissions.
 */
export function effectiveGrants(registry: PermissionRegistry, role: { key: string; system: boolean; permissions: Record<string, RecordScope | null> }): Map<string, RecordScope> {
  if (role.system && role.key === 'owner') return new Map(registry.defaultGrants('owner'));
  const grants = new Map<string, RecordScope>(role.system && isSystemRole(role.key) ? registry.defaultGrants(role.key) : []);
  for (const [key, scope] of Object.entries(role.permissions)) {
    const def = registry.get(key);
    if (!def) continue;
    if (scope === null) grants.delete(key);
    else if (isRecordScope(scope)) grants.set(key, def.recordScope ? scope : 'all');
  }
  return grants;
}

/** The `permissions` column that stores `grants` for a role (the difference to the defaults for a system role). */
export function storedGrants(registry: PermissionRegistry, role: { key: string; system: boolean }, grants: Grants): Record<string, RecordScope | null> {
  if (!role.system || !isSystemRole(role.key)) return Object.fromEntries([...grants].sort(([a], [b]) => a.localeCompare(b)));
  const defaults = registry.defaultGrants(role.key);
  const out: Record<string, RecordScope | null> = {};
  for (const key of new Set([...defaults.keys(), ...grants.keys()])) {
    const want = grants.get(key) ?? null;
    if (want !== (defaults.get(key) ?? null)) out[key] = want;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
