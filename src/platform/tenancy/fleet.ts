// Fleet-wide tenant schema upkeep used at boot and by `npm run migrate`.
// (The CLI issue grows this into bounded-parallel, resumable fleet runs.)
import type { Db } from '../db/database.ts';
import { listTenantSchemasBehind, migrateTenant } from './provisioning.ts';
import type { TenantMigrationSet } from './tenant-migrations.ts';

export interface FleetResult {
  migrated: string[];
  failed: Array<{ slug: string; error: string }>;
}

export async function migrateTenantsBehind(db: Db, migrations: TenantMigrationSet): Promise<FleetResult> {
  const behind = await listTenantSchemasBehind(db, migrations);
  const result: FleetResult = { migrated: [], failed: [] };
  for (const tenant of behind) {
    try {
      await migrateTenant(db, migrations, tenant.schemaName);
      result.migrated.push(tenant.slug);
    } catch (error) {
      result.failed.push({ slug: tenant.slug, error: (error as Error).message });
    }
  }
  return result;
}
