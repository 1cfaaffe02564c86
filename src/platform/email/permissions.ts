import type { PermissionDef } from '../permissions.ts';

export const emailPermissions = [
  { key: 'email.settings.read', description: "View the tenant's email branding and templates", roles: ['admin'] },
  { key: 'email.settings.manage', description: "Change the tenant's email branding and template overrides", roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
