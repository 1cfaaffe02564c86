import type { PermissionDef } from '../../platform/permissions.ts';

export const filePermissions = [
  { key: 'files.files.read', description: 'View files and download them', roles: ['admin', 'member', 'viewer'] },
  { key: 'files.files.write', description: 'Upload files', roles: ['admin', 'member'] },
  { key: 'files.files.delete', description: 'Delete files', roles: ['admin', 'member'] },
] as const satisfies readonly PermissionDef[];
