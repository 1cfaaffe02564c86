import type { PermissionDef } from '../../platform/permissions.ts';

export const reportPermissions = [{ key: 'crm.reports.read', description: 'Run CRM reports and export them as CSV', roles: ['admin', 'member', 'viewer'], recordScope: true }] as const satisfies readonly PermissionDef[];
