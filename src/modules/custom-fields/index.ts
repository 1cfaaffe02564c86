import type { PlinthModule } from '../../platform/module.ts';
import * as createCustomFields from './migrations/20261123020300_create_custom_fields.ts';
import { customFieldPermissions } from './permissions.ts';
import { customFieldRoutes } from './routes.ts';
import { sortIndexTask } from './sort-index.ts';

export const customFieldsModule: PlinthModule = {
  name: 'custom-fields',
  permissions: customFieldPermissions,
  tenantMigrations: { '20261123020300_create_custom_fields': createCustomFields },
  tasks: [sortIndexTask],
  routes: customFieldRoutes,
};
