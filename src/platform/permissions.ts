// The permission registry. Modules contribute permissions (with the built-in
// roles that hold them by default); routes name one of them in their config.
// Per-tenant custom roles (a later issue) plug in at `permissionsOf`.
import type { Role } from './db/public-tables.ts';

export const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];

export interface PermissionDef {
  /** `<area>.<resource>.<action>`, e.g. `crm.contacts.read`. */
  key: string;
  description: string;
  /** Built-in roles granted this permission. Owners hold every permission. */
  roles: readonly Role[];
}

export interface PermissionRegistry {
  has(key: string): boolean;
  all(): readonly PermissionDef[];
  permissionsOf(role: Role): ReadonlySet<string>;
}

const KEY_RE = /^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*){2}$/;

export function createPermissionRegistry(defs: readonly PermissionDef[]): PermissionRegistry {
  const byKey = new Map<string, PermissionDef>();
  for (const def of defs) {
    if (!KEY_RE.test(def.key)) throw new Error(`Permission "${def.key}" must look like area.resource.action`);
    if (byKey.has(def.key)) throw new Error(`Permission "${def.key}" is declared twice`);
    byKey.set(def.key, def);
  }
  const byRole = new Map<Role, Set<string>>(ROLES.map((role) => [role, new Set<string>()]));
  for (const def of byKey.values()) {
    byRole.get('owner')!.add(def.key);
    for (const role of def.roles) byRole.get(role)!.add(def.key);
  }
  return {
    has: (key) => byKey.has(key),
    all: () => [...byKey.values()],
    permissionsOf: (role) => byRole.get(role)!,
  };
}
