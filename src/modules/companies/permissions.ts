import type { PermissionDef } from '../../platform/permissions.ts';

export const companyPermissions = [
  { key: 'crm.companies.read', description: 'List and view companies', roles: ['admin', 'member', 'viewer'], recordScope: true },
  { key: 'crm.companies.write', description: 'Create and update companies', roles: ['admin', 'member'], recordScope: true },
  { key: 'crm.companies.delete', description: 'Delete, restore and merge companies', roles: ['admin', 'member'], recordScope: true },
  { key: 'crm.merges.undo', description: 'Undo a merge of companies or people', roles: ['admin', 'member'] },
] as const satisfies readonly PermissionDef[];
