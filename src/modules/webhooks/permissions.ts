import type { PermissionDef } from '../../platform/permissions.ts';

export const webhookPermissions = [
  { key: 'webhooks.endpoints.manage', description: 'Register, list and remove webhook endpoints and read their delivery log', roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
