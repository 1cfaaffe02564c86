import type { PermissionDef } from '../../platform/permissions.ts';

export const viewPermissions = [
  { key: 'crm.views.manage', description: 'Save, change and delete your own list views', roles: ['admin', 'member', 'viewer'] },
  { key: 'crm.search.read', description: 'Search companies, people and deals (each only if you may read it)', roles: ['admin', 'member', 'viewer'] },
] as const satisfies readonly PermissionDef[];
