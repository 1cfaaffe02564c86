import type { PlinthModule } from '../../platform/module.ts';
import { identityPermissions } from './permissions.ts';
import { identityRoutes } from './routes.ts';
import { passwordResetTask } from './email-flows.ts';

export const identityModule: PlinthModule = {
  name: 'identity',
  permissions: identityPermissions,
  routes: identityRoutes,
  tasks: [passwordResetTask],
};
