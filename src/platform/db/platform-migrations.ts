// Platform migrations: the `public` schema, run with Kysely's own Migrator
// (one set, one lock, at boot).
import { Migrator, sql, type Migration } from 'kysely';
import type { Db } from './database.ts';
import * as core from './migrations/20261123000000_platform_core.ts';
import * as identitySessions from './migrations/20261123030000_identity_sessions.ts';
import * as tenantFleet from './migrations/20261123060000_tenant_fleet.ts';
import * as loginThrottle from './migrations/20261123070000_login_throttle.ts';
import * as auditInsertOnly from './migrations/20261123070100_audit_insert_only.ts';
import * as mfa from './migrations/20261123070200_mfa.ts';
import * as tenantAuthPolicy from './migrations/20261123070300_tenant_auth_policy.ts';
import * as apiKeys from './migrations/20261123070400_api_keys.ts';
import * as auditPurge from './migrations/20261123070500_audit_purge.ts';
import * as pgTrgm from './migrations/20261123080000_pg_trgm.ts';
import * as rolesAndHierarchy from './migrations/20261201000000_roles_and_hierarchy.ts';
import * as emailFlows from './migrations/20261201120000_email_flows.ts';
import * as secretKeys from './migrations/20261201100000_secret_keys.ts';
import * as socketIoAttachments from './migrations/20261201130000_socket_io_attachments.ts';
import * as dropSocketIoAttachments from './migrations/20261203000000_drop_socket_io_attachments.ts';

export const platformMigrations: Record<string, Migration> = {
  '20261123000000_platform_core': core,
  '20261123030000_identity_sessions': identitySessions,
  '20261123060000_tenant_fleet': tenantFleet,
  '20261123070000_login_throttle': loginThrottle,
  '20261123070100_audit_insert_only': auditInsertOnly,
  '20261123070200_mfa': mfa,
  '20261123070300_tenant_auth_policy': tenantAuthPolicy,
  '20261123070400_api_keys': apiKeys,
  '20261123070500_audit_purge': auditPurge,
  '20261123080000_pg_trgm': pgTrgm,
  '20261201000000_roles_and_hierarchy': rolesAndHierarchy,
  '20261201120000_email_flows': emailFlows,
  '20261201100000_secret_keys': secretKeys,
  '20261201130000_socket_io_attachments': socketIoAttachments,
  '20261203000000_drop_socket_io_attachments': dropSocketIoAttachments,
};

export async function migratePlatform(db: Db): Promise<string[]> {
  // Kysely's Migrator lists every table of the database to find its own
  // bookkeeping table: 30+ s with thousands of tenant schemas. One query
  // tells whether anything is pending; the Migrator only runs when it is.
  const { rows } = await sql<{ name: string }>`select name from plinth_platform_migrations`.execute(db).catch(() => ({ rows: [] as Array<{ name: string }> }));
  const applied = new Set(rows.map((r) => r.name));
  if (Object.keys(platformMigrations).every((name) => applied.has(name))) return [];
  const migrator = new Migrator({
    db: db.withoutPlugins(),
    provider: { getMigrations: async () => platformMigrations },
    migrationTableName: 'plinth_platform_migrations',
    migrationLockTableName: 'plinth_platform_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error(`Platform migration failed: ${(error as Error).message}`, { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
