import type { PlinthModule } from '../../platform/module.ts';
import { identityPermissions } from './permissions.ts';
import { identityRoutes } from './routes.ts';
import * as noAccountForeignKeys from './migrations/20261201000000_no_account_foreign_keys.ts';

export const identityModule: PlinthModule = {
  name: 'identity',
  permissions: identityPermissions,
  // Tenant tables hold account ids without foreign keys (see the migration).
  tenantMigrations: { '20261201000000_no_account_foreign_keys': noAccountForeignKeys },
  routes: identityRoutes,
};
