import type { PermissionDef } from '../../platform/permissions.ts';

export const notificationPermissions = [
  { key: 'notifications.inbox.read', description: 'Read and manage your own notifications; receive them live', roles: ['admin', 'member', 'viewer'] },
  { key: 'notifications.messages.send', description: 'Send a notification to a member of the tenant', roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
