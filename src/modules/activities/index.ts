import type { PlinthModule } from '../../platform/module.ts';
import * as createActivities from './migrations/20261123020200_create_activities.ts';
import { activityPermissions } from './permissions.ts';
import { activityRoutes } from './routes.ts';

export const activitiesModule: PlinthModule = {
  name: 'activities',
  permissions: activityPermissions,
  tenantMigrations: { '20261123020200_create_activities': createActivities },
  routes: activityRoutes,
};
