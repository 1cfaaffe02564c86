import type { PlinthModule } from '../../platform/module.ts';
import * as createRoles from './migrations/20261201000000_create_roles.ts';
import { identityPermissions } from './permissions.ts';
import { identityRoutes } from './routes.ts';
import { passwordResetTask } from './email-flows.ts';

export const identityModule: PlinthModule = {
  name: 'identity',
  permissions: identityPermissions,
  tenantMigrations: { '20261201000000_create_roles': createRoles },
  routes: identityRoutes,
  tasks: [passwordResetTask],
};
