import type { PlinthModule } from '../../platform/module.ts';
import * as searchAndViews from './migrations/20261123020400_search_and_views.ts';
import { viewPermissions } from './permissions.ts';
import { viewRoutes } from './routes.ts';

export const viewsModule: PlinthModule = {
  name: 'views',
  permissions: viewPermissions,
  tenantMigrations: { '20261123020400_search_and_views': searchAndViews },
  routes: viewRoutes,
};
