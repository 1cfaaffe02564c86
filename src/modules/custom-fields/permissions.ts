import type { PermissionDef } from '../../platform/permissions.ts';

export const customFieldPermissions = [
  { key: 'crm.customFields.read', description: 'See the custom field definitions of CRM objects', roles: ['admin', 'member', 'viewer'] },
  { key: 'crm.customFields.manage', description: 'Define, rename and delete custom fields', roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
