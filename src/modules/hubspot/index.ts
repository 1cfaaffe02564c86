import type { PlinthModule } from '../../platform/module.ts';
import * as create from './migrations/20261201120000_create_hubspot.ts';
import { hubspotPermissions } from './permissions.ts';
import { hubspotRoutes } from './routes.ts';
import { syncTask } from './tasks.ts';

export const hubspotModule: PlinthModule = {
  name: 'hubspot',
  permissions: hubspotPermissions,
  tenantMigrations: { '20261201120000_create_hubspot': create },
  tasks: [syncTask],
  routes: hubspotRoutes,
};
