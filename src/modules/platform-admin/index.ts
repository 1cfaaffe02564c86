// The platform-admin API (/v1/platform/*): tenants of the whole installation,
// for accounts flagged as platform admins (`plinth users create-admin`). Its
// routes declare `platformPermission`, never a tenant permission.
import type { PlinthModule } from '../../platform/module.ts';
import { platformAdminRoutes } from './routes.ts';

export const platformAdminModule: PlinthModule = {
  name: 'platform-admin',
  routes: platformAdminRoutes,
};
