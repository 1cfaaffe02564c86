import type { PermissionDef } from '../../platform/permissions.ts';

export const dealPermissions = [
  { key: 'crm.deals.read', description: 'List and view deals, pipelines and stage history', roles: ['admin', 'member', 'viewer'], recordScope: true },
  { key: 'crm.deals.write', description: 'Create and update deals (including moving them between stages)', roles: ['admin', 'member'], recordScope: true },
  { key: 'crm.deals.delete', description: 'Delete and restore deals', roles: ['admin', 'member'], recordScope: true },
  { key: 'crm.pipelines.manage', description: 'Create, change and delete pipelines and their stages', roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
