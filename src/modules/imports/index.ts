import type { PlinthModule } from '../../platform/module.ts';
import * as createImports from './migrations/20261201000200_create_imports.ts';
import { importPermissions } from './permissions.ts';
import { importRoutes } from './routes.ts';
import { importTask } from './run.ts';

export const importsModule: PlinthModule = {
  name: 'imports',
  permissions: importPermissions,
  tenantMigrations: { '20261201000200_create_imports': createImports },
  tasks: [importTask],
  routes: importRoutes,
};
