// `npm run migrate`: apply pending platform migrations, then bring every
// tenant schema up to date. Exits non-zero when a tenant fails.
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/platform/db/open.ts';
import { migratePlatform } from '../src/platform/db/platform-migrations.ts';
import { buildTenantMigrationSet } from '../src/platform/tenancy/tenant-migrations.ts';
import { migrateTenantsBehind } from '../src/platform/tenancy/fleet.ts';
import { modules } from '../src/modules/index.ts';
import { createPermissionRegistry } from '../src/platform/permissions.ts';
import { syncPermissionCatalogue } from '../src/platform/permission-catalogue.ts';

const config = loadConfig();
const database = await openDatabase(config, (m) => console.log(m));
try {
  const platform = await migratePlatform(database.db);
  console.log(`platform: ${platform.length ? platform.join(', ') : 'up to date'}`);
  const catalogue = await syncPermissionCatalogue(database.db, createPermissionRegistry(modules.flatMap((m) => (m.permissions ?? []).map((p) => ({ ...p, module: m.name })))));
  console.log(`permissions: ${catalogue.upserted} registered, ${catalogue.removed} removed`);
  const result = await migrateTenantsBehind(database.db, buildTenantMigrationSet(modules));
  console.log(`tenants migrated: ${result.migrated.length}, failed: ${result.failed.length}`);
  for (const f of result.failed) console.log(`  ${f.slug}: ${f.error}`);
  process.exitCode = result.failed.length ? 1 : 0;
} finally {
  await database.close();
}
