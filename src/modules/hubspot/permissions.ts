import type { PermissionDef } from '../../platform/permissions.ts';

export const hubspotPermissions = [
  { key: 'integrations.hubspot.read', description: 'See the HubSpot connection status, sync runs and conflicts', roles: ['admin'] },
  { key: 'integrations.hubspot.manage', description: 'Connect or disconnect HubSpot, start syncs and resolve conflicts', roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
