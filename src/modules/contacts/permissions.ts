import type { PermissionDef } from '../../platform/permissions.ts';

export const contactPermissions = [
  { key: 'crm.contacts.read', description: 'List and view contacts', roles: ['admin', 'member', 'viewer'] },
  { key: 'crm.contacts.write', description: 'Create and update contacts', roles: ['admin', 'member'] },
  { key: 'crm.contacts.delete', description: 'Delete and restore contacts', roles: ['admin', 'member'] },
] as const satisfies readonly PermissionDef[];
