import type { PermissionDef } from '../permissions.ts';

export const auditPermissions = [
  { key: 'audit.log.read', description: "Read and export the tenant's audit trail", roles: ['admin'] },
  { key: 'audit.log.verify', description: "Verify the audit trail's hash chain", roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
