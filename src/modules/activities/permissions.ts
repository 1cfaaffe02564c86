import type { PermissionDef } from '../../platform/permissions.ts';

export const activityPermissions = [
  { key: 'crm.activities.read', description: 'List and view notes, tasks, calls and meetings, and record timelines', roles: ['admin', 'member', 'viewer'], recordScope: true },
  { key: 'crm.activities.write', description: 'Create and update notes, tasks, calls and meetings', roles: ['admin', 'member'], recordScope: true },
  { key: 'crm.activities.delete', description: 'Delete and restore activities', roles: ['admin', 'member'], recordScope: true },
] as const satisfies readonly PermissionDef[];
