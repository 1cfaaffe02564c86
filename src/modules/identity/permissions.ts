import type { PermissionDef } from '../../platform/permissions.ts';

export const identityPermissions = [
  { key: 'identity.me.read', description: 'See your own account, role and permissions', roles: ['admin', 'member', 'viewer'] },
  { key: 'identity.policy.manage', description: "See and change the tenant's sign-in policy (MFA required for roles)", roles: ['admin'] },
  { key: 'identity.apiKeys.manage', description: 'Create, list and revoke API keys of this tenant', roles: ['admin'] },
  { key: 'identity.sessions.manage', description: 'Manage your own sign-in: sessions, password, MFA', roles: ['admin', 'member', 'viewer'] },
  { key: 'identity.members.invite', description: 'Invite people to this tenant (into roles not above your own), list and revoke invitations', roles: ['admin'] },
  { key: 'identity.members.read', description: "List the tenant's members with their roles and whom they report to", roles: ['admin', 'member'] },
  { key: 'identity.members.manage', description: "Change members' roles and reporting lines; remove members", roles: ['admin'] },
  { key: 'identity.roles.read', description: "See the tenant's roles and what each grants", roles: ['admin'] },
  { key: 'identity.roles.manage', description: 'Create, edit and delete roles (only with permissions you hold yourself)', roles: ['admin'] },
] as const satisfies readonly PermissionDef[];
