// The audit trail: a per-tenant, hash-chained, insert-only log written in the
// transaction of each change (see writer.ts), with list and verify routes.
import type { PlinthModule } from '../module.ts';
import * as createAuditLog from './migrations/20261123070000_create_audit_log.ts';
import * as auditAnchor from './migrations/20261123070500_audit_anchor.ts';
import { auditPurgeTask } from './retention.ts';
import { auditPermissions } from './permissions.ts';
import { auditRoutes } from './routes.ts';

export const auditModule: PlinthModule = {
  name: 'audit',
  permissions: auditPermissions,
  tenantMigrations: { '20261123070000_create_audit_log': createAuditLog, '20261123070500_audit_anchor': auditAnchor },
  tasks: [auditPurgeTask],
  routes: auditRoutes,
};
