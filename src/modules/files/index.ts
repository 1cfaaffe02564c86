import type { PlinthModule } from '../../platform/module.ts';
import * as createFiles from './migrations/20261123020000_create_files.ts';
import { filePermissions } from './permissions.ts';
import { fileRoutes } from './routes.ts';
import { prunePendingTask, thumbnailTask } from './tasks.ts';

export const filesModule: PlinthModule = {
  name: 'files',
  permissions: filePermissions,
  tenantMigrations: { '20261123020000_create_files': createFiles },
  tasks: [thumbnailTask, prunePendingTask],
  routes: fileRoutes,
};
