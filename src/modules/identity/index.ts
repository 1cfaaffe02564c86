import type { PlinthModule } from '../../platform/module.ts';
import * as createRoles from './migrations/20261201000000_create_roles.ts';
import { identityPermissions } from './permissions.ts';
import { identityRoutes } from './routes.ts';
import { passwordResetTask } from './email-flows.ts';
import * as noAccountForeignKeys from './migrations/20261201000000_no_account_foreign_keys.ts';

export const identityModule: PlinthModule = {
  name: 'identity',
  permissions: identityPermissions,
  // Tenant tables hold account ids without foreign keys (see the migration).
  tenantMigrations: { '20261201000000_create_roles': createRoles, '20261201000000_no_account_foreign_keys': noAccountForeignKeys },
  routes: identityRoutes,
  tasks: [passwordResetTask],
};
