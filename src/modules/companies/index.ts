import type { PlinthModule } from '../../platform/module.ts';
import * as createCompanies from './migrations/20261123020000_create_companies.ts';
import * as duplicates from './migrations/20261123020600_duplicates.ts';
import { companyPermissions } from './permissions.ts';
import { companyRoutes } from './routes.ts';

export const companiesModule: PlinthModule = {
  name: 'companies',
  permissions: companyPermissions,
  tenantMigrations: { '20261123020000_create_companies': createCompanies, '20261123020600_duplicates': duplicates },
  routes: companyRoutes,
};
