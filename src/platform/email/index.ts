import type { PlinthModule } from '../module.ts';
import * as email from './migrations/20261123010000_email.ts';
import { emailPermissions } from './permissions.ts';
import { emailRoutes } from './routes.ts';
import { sendEmailTask } from './send-task.ts';

/** Email as a module: the outbox and branding tables, the send task, branding/template routes. */
export const emailModule: PlinthModule = {
  name: 'email',
  permissions: emailPermissions,
  tenantMigrations: { '20261123010000_email': email },
  tasks: [sendEmailTask],
  routes: emailRoutes,
};
