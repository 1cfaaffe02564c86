import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTenantMigrationSet, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { provisionTenant } from '../../src/platform/tenancy/provisioning.ts';
import { modules } from '../../src/modules/index.ts';
import { createDatabase, type Db } from '../../src/platform/db/database.ts';
import { testConfig, uniqueSlug } from '../helpers.ts';
import { plinth } from './cli.ts';

let db: Db;
let full: TenantMigrationSet;
let older: TenantMigrationSet;

beforeAll(() => {
  db = createDatabase({ url: testConfig().DATABASE_URL!, poolMax: 4, statementTimeoutMs: 0 }).db;
  full = buildTenantMigrationSet(modules);
  // The code's set without its last migration: a tenant provisioned with it is one step behind.
  const names = full.names.slice(0, -1);
  older = { names, latest: names.at(-1) ?? null, migrations: Object.fromEntries(names.map((n) => [n, full.migrations[n]!])) };
});
afterAll(async () => {
  await db?.destroy();
});

describe('plinth migrate', () => {
  it('status counts tenants per version; up brings a behind tenant to the latest and is a no-op the second time', { timeout: 60_000 }, async () => {
    const t = await provisionTenant(db, older, { slug: uniqueSlug('behind'), displayName: 'Behind' });
    const status = await plinth(['migrate', 'status', '--json']);
    const s = status.json();
    expect(s.latest).toBe(full.latest);
    expect(s.versions.find((v: { version: string }) => v.version === older.latest).tenants).toBeGreaterThanOrEqual(1);
    expect(s.behind).toBeGreaterThanOrEqual(1);

    const up = await plinth(['migrate', 'up', '--tenant', t.slug, '--concurrency', '2', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.json()).toMatchObject({ migrated: [t.slug], failed: [], latest: full.latest });
    const row = await db.selectFrom('tenants').select('schemaVersion').where('id', '=', t.id).executeTakeFirstOrThrow();
    expect(row.schemaVersion).toBe(full.latest);

    const again = await plinth(['migrate', 'up', '--tenant', t.slug]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^tenants: 0 migrated, 0 failed, 0 not started, 1 already at/);
  });

  it('down refuses without --yes; bad numbers are usage errors', async () => {
    const down = await plinth(['migrate', 'down']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('--yes');
    const bad = await plinth(['migrate', 'up', '--concurrency', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--concurrency must be a whole number');
  });

  it('make writes a timestamped migration and registers it in the module index', async () => {
    const root = mkdtempSync(join(tmpdir(), 'plinth-make-'));
    const dir = join(root, 'src', 'modules', 'widgets');
    mkdirSync(join(dir, 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'migrations', '20260101000000_create_widgets.ts'), 'export async function up() {}\nexport async function down() {}\n');
    writeFileSync(
      join(dir, 'index.ts'),
      "import * as createWidgets from './migrations/20260101000000_create_widgets.ts';\n\nexport const widgetsModule = {\n  name: 'widgets',\n  tenantMigrations: { '20260101000000_create_widgets': createWidgets },\n};\n",
    );
    const run = await plinth(['migrate', 'make', 'widgets', 'add_widget_score', '--json'], { cwd: root });
    expect(run.code, run.stderr).toBe(0);
    const { name, file } = run.json();
    expect(name).toMatch(/^\d{14}_add_widget_score$/);
    expect(readdirSync(join(dir, 'migrations'))).toContain(`${name}.ts`);
    expect(file).toBe(join('src', 'modules', 'widgets', 'migrations', `${name}.ts`));
    const index = readFileSync(join(dir, 'index.ts'), 'utf8');
    expect(index).toContain(`import * as addWidgetScore from './migrations/${name}.ts';`);
    const mod = (await import(join(dir, 'index.ts'))) as { widgetsModule: { tenantMigrations: Record<string, { up: unknown; down: unknown }> } };
    expect(Object.keys(mod.widgetsModule.tenantMigrations)).toEqual(['20260101000000_create_widgets', name]);
    expect(buildTenantMigrationSet([mod.widgetsModule as never]).latest).toBe(name);

    expect((await plinth(['migrate', 'make', 'nope', 'x'], { cwd: root })).code).toBe(2);
    expect((await plinth(['migrate', 'make', 'widgets', 'Bad-Name'], { cwd: root })).code).toBe(2);
  });
});
