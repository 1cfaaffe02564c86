import type { PlinthModule } from '../../platform/module.ts';
import { identityPermissions } from './permissions.ts';
import { identityRoutes } from './routes.ts';

export const identityModule: PlinthModule = {
  name: 'identity',
  permissions: identityPermissions,
  routes: identityRoutes,
};
