import type { PlinthModule } from '../../platform/module.ts';
import { reportPermissions } from './permissions.ts';
import { reportRoutes } from './routes.ts';

export const crmReportsModule: PlinthModule = {
  name: 'crm-reports',
  permissions: reportPermissions,
  routes: reportRoutes,
};
