import type { PlinthModule } from '../../platform/module.ts';
import * as create from './migrations/20261123030000_create_notifications.ts';
import { notificationPermissions } from './permissions.ts';
import { notificationRoutes } from './routes.ts';

export const notificationsModule: PlinthModule = {
  name: 'notifications',
  permissions: notificationPermissions,
  tenantMigrations: { '20261123030000_create_notifications': create },
  routes: notificationRoutes,
};
