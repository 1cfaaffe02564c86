import type { PermissionDef } from '../../platform/permissions.ts';

// Starting an import needs the write permission of the object imported
// (crm.companies.write, ...); following imports needs this one.
export const importPermissions = [
  { key: 'crm.imports.read', description: 'Follow CSV imports: progress, counts and per-row errors', roles: ['admin', 'member'], recordScope: true },
] as const satisfies readonly PermissionDef[];
