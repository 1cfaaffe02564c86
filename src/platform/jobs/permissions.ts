import type { PermissionDef } from '../permissions.ts';

export const jobPermissions = [
  { key: 'jobs.failures.read', description: "List the tenant's permanently failed jobs", roles: ['admin'] },
  { key: 'jobs.failures.manage', description: "Retry or discard the tenant's failed jobs", roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
