import type { PlinthModule } from '../../platform/module.ts';
import * as create from './migrations/20261123040000_create_webhooks.ts';
import { deliverTask } from './deliver.ts';
import { webhookPermissions } from './permissions.ts';
import { webhookRoutes } from './routes.ts';

export const webhooksModule: PlinthModule = {
  name: 'webhooks',
  permissions: webhookPermissions,
  tenantMigrations: { '20261123040000_create_webhooks': create },
  tasks: [deliverTask],
  routes: webhookRoutes,
};
