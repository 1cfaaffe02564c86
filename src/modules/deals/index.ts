import type { PlinthModule } from '../../platform/module.ts';
import * as createDeals from './migrations/20261123020100_create_deals.ts';
import * as dealSortIndexes from './migrations/20261123020500_deal_sort_indexes.ts';
import { dealPermissions } from './permissions.ts';
import { dealRoutes } from './routes.ts';

export const dealsModule: PlinthModule = {
  name: 'deals',
  permissions: dealPermissions,
  tenantMigrations: { '20261123020100_create_deals': createDeals, '20261123020500_deal_sort_indexes': dealSortIndexes },
  routes: dealRoutes,
};
