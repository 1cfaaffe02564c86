import type { PlinthModule } from '../module.ts';
import { dailyFanoutTask } from './fanout.ts';
import { sparesRefillTask } from '../tenancy/spares.ts';
import { jobPermissions } from './permissions.ts';
import { jobRoutes } from './routes.ts';

/** The jobs area as a module: its permissions, its failure-list routes and its platform crons. */
export const jobsModule: PlinthModule = {
  name: 'jobs',
  permissions: jobPermissions,
  tasks: [dailyFanoutTask, sparesRefillTask],
  routes: jobRoutes,
};
