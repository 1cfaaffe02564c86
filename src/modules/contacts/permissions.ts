import type { PermissionDef } from '../../platform/permissions.ts';

export const contactPermissions = [
  { key: 'crm.contacts.read', description: 'List and view contacts', roles: ['admin', 'member', 'viewer'], recordScope: true },
  { key: 'crm.contacts.write', description: 'Create and update contacts', roles: ['admin', 'member'], recordScope: true },
  { key: 'crm.contacts.delete', description: 'Delete and restore contacts', roles: ['admin', 'member'], recordScope: true },
] as const satisfies readonly PermissionDef[];
