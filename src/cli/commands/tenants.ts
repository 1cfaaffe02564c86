// `plinth tenants ...`: create, list, show, suspend, resume, rename, delete,
// export and the spare-schema pool.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { provisionTenant } from '../../platform/tenancy/provisioning.ts';
import { DROP_BATCH, deleteTenant, getTenant, listTenants, renameTenant, setTenantStatus, type TenantSummary } from '../../platform/tenancy/lifecycle.ts';
import { exportTenant } from '../../platform/tenancy/export.ts';
import { backupTenant, restoreTenant } from '../../platform/tenancy/backup.ts';
import { refillSpares, sparePoolStatus } from '../../platform/tenancy/spares.ts';
import { CliError, EXIT, formatBytes, output, parsePositiveInt, progressBar, table, withRuntime } from '../runtime.ts';

const row = (t: TenantSummary) => ({ slug: t.slug, name: t.displayName, status: t.status, version: t.schemaVersion ?? 'none', size: formatBytes(t.sizeBytes), error: t.migrationError ? 'migration failed' : '' });
const COLUMNS = ['slug', 'name', 'status', 'version', 'size', 'error'];

export function tenantsCommand(): Command {
  const tenants = new Command('tenants').description('Create, inspect, suspend, rename, export and delete tenants');

  tenants
    .command('create')
    .description('Create a tenant and its owner account (the owner password is printed once)')
    .argument('<slug>', 'lowercase letters, digits and hyphens; used in X-Tenant and subdomains')
    .requiredOption('--name <displayName>', 'display name')
    .requiredOption('--owner-email <email>', "owner's email (an existing account is reused with its password)")
    .option('--owner-password <password>', 'owner password (default: a generated one, printed once)')
    .action(async (slug: string, opts: { name: string; ownerEmail: string; ownerPassword?: string }, cmd: Command) => {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(opts.ownerEmail)) throw new CliError(`--owner-email "${opts.ownerEmail}" is not an email address`, EXIT.usage);
      if (opts.ownerPassword !== undefined && opts.ownerPassword.length < 8) throw new CliError('--owner-password needs at least 8 characters', EXIT.usage);
      const password = opts.ownerPassword ?? randomBytes(15).toString('base64url');
      const result = await withRuntime(async ({ database, migrations, directory }) => {
        const { ensureMember } = await import('../../modules/identity/service.ts');
        const started = performance.now();
        let existing = false;
        const tenant = await provisionTenant(database.db, migrations, { slug, displayName: opts.name }, async (trx, t) => {
          existing = Boolean(await trx.selectFrom('accounts').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', opts.ownerEmail.toLowerCase())).executeTakeFirst());
          await ensureMember(trx, { tenantId: t.id, email: opts.ownerEmail, displayName: opts.ownerEmail.split('@')[0]!, password, role: 'owner' });
        });
        // An API instance may hold "no such tenant" for the slug from an earlier request.
        await (await directory()).invalidateTenant(tenant);
        return { tenant, existing, ms: Math.round(performance.now() - started) };
      });
      const owner = { email: opts.ownerEmail, password: result.existing || opts.ownerPassword ? null : password, existingAccount: result.existing };
      output(cmd, { tenant: result.tenant, owner, durationMs: result.ms }, () =>
        [
          `created tenant "${result.tenant.slug}" (${result.tenant.displayName}) in ${result.ms} ms, schema ${result.tenant.schemaName}`,
          result.existing ? `owner: existing account ${opts.ownerEmail} (password unchanged)` : `owner: ${opts.ownerEmail}${owner.password ? `  password: ${owner.password}  (shown once: store it now)` : ''}`,
        ].join('\n'),
      );
    });

  tenants
    .command('list')
    .description('List tenants with status, schema version and size')
    .addOption(new Option('--status <status>', 'only tenants with this status').choices(['active', 'suspended']))
    .option('--limit <n>', 'at most this many', parsePositiveInt('--limit'), 100)
    .option('--offset <n>', 'skip this many (by slug order)', parsePositiveInt('--offset'), 0)
    .action(async (opts: { status?: 'active' | 'suspended'; limit: number; offset: number }, cmd: Command) => {
      const result = await withRuntime(({ database }) => listTenants(database.db, opts));
      output(cmd, result, () => `${table(result.tenants.map(row), COLUMNS)}\n${result.tenants.length} of ${result.total} tenant(s)`);
    });

  tenants
    .command('show')
    .description('Show one tenant')
    .argument('<slug>')
    .action(async (slug: string, _opts: unknown, cmd: Command) => {
      const t = await withRuntime(({ database }) => getTenant(database.db, slug));
      output(cmd, t, () =>
        [
          `slug:       ${t.slug}`,
          `name:       ${t.displayName}`,
          `id:         ${t.id}`,
          `status:     ${t.status}`,
          `schema:     ${t.schemaName} (${t.tables} tables, ${formatBytes(t.sizeBytes)})`,
          `version:    ${t.schemaVersion ?? 'none'}`,
          `members:    ${t.members}`,
          `created:    ${t.createdAt.toISOString()}`,
          ...(t.migrationError ? [`migration error: ${t.migrationError}`] : []),
        ].join('\n'),
      );
    });

  for (const [name, status, verb] of [['suspend', 'suspended', 'suspended'], ['resume', 'active', 'resumed']] as const) {
    tenants
      .command(name)
      .description(name === 'suspend' ? 'Suspend a tenant: every API instance answers 403 tenant_suspended at once' : 'Make a suspended tenant active again')
      .argument('<slug>')
      .action(async (slug: string, _opts: unknown, cmd: Command) => {
        const t = await withRuntime(async ({ database, directory }) => setTenantStatus(database.db, slug, status, await directory()));
        output(cmd, t, () => `${verb} tenant "${t.slug}"`);
      });
  }

  tenants
    .command('rename')
    .description('Change the slug and/or display name (the schema keeps its name)')
    .argument('<slug>')
    .option('--slug <newSlug>', 'new slug')
    .option('--name <displayName>', 'new display name')
    .action(async (slug: string, opts: { slug?: string; name?: string }, cmd: Command) => {
      if (opts.slug === undefined && opts.name === undefined) throw new CliError('give --slug and/or --name', EXIT.usage);
      const t = await withRuntime(async ({ database, directory }) => renameTenant(database.db, slug, { slug: opts.slug, displayName: opts.name }, await directory()));
      output(cmd, t, () => `tenant "${slug}" is now "${t.slug}" (${t.displayName})`);
    });

  tenants
    .command('export')
    .description('Write all of a tenant\'s data (every table, members) to one JSON file')
    .argument('<slug>')
    .option('--out <file>', 'file to write (default: PLINTH_DATA_DIR/exports/<slug>-<timestamp>.json)')
    .action(async (slug: string, opts: { out?: string }, cmd: Command) => {
      const r = await withRuntime(({ database, config }) => exportTenant(database.db, slug, opts.out ?? defaultExportFile(config.PLINTH_DATA_DIR, slug)));
      output(cmd, r, () => `exported ${r.rows} row(s) from ${r.tables} table(s) to ${r.file}`);
    });

  tenants
    .command('backup')
    .description('Write a restorable backup of a tenant (schema version, every table, members) to a file: JSON lines, gzip when the name ends in .gz')
    .argument('<slug>')
    .option('--out <file>', 'file to write (default: PLINTH_DATA_DIR/backups/<slug>-<timestamp>.jsonl.gz)')
    .action(async (slug: string, opts: { out?: string }, cmd: Command) => {
      let bar: ReturnType<typeof progressBar> | undefined;
      const r = await withRuntime(({ database, config }) =>
        backupTenant(database.db, slug, opts.out ?? defaultFile(config.PLINTH_DATA_DIR, 'backups', slug, 'jsonl.gz'), {
          onTable: (table, rows, done, total) => {
            bar ??= progressBar(cmd, total, `backing up ${total} tables`);
            bar.advance(`${table}: ${rows} rows`);
            if (done === total) bar.stop(`backed up ${total} tables`);
          },
        }),
      );
      output(cmd, r, () => `backed up ${r.rows} row(s) from ${r.tables} table(s) of "${slug}" (schema version ${r.version ?? 'none'}) to ${r.file}`);
    });

  tenants
    .command('restore')
    .description('Restore a backup as a new tenant (new id and schema; members re-attached; migrated to the current version), in one transaction')
    .argument('<file>', 'a file written by `tenants backup`')
    .requiredOption('--as <slug>', 'slug of the new tenant')
    .option('--name <displayName>', "display name (default: the backed-up tenant's)")
    .action(async (file: string, opts: { as: string; name?: string }, cmd: Command) => {
      if (!existsSync(file)) throw new CliError(`no file ${file}`, EXIT.usage);
      const r = await withRuntime(async ({ database, migrations, directory }) => {
        const restored = await restoreTenant(database.db, migrations, file, { slug: opts.as, displayName: opts.name });
        await (await directory()).invalidateTenant(restored.tenant);
        return restored;
      });
      output(cmd, r, () =>
        [
          `restored "${r.restoredFrom.slug}" (version ${r.restoredFrom.version ?? 'none'}) as "${r.tenant.slug}", schema ${r.tenant.schemaName}: ${r.rows} row(s) in ${r.tables} table(s)`,
          `members: ${r.members.attached} attached${r.members.created ? `, ${r.members.created} account(s) re-created without a password (they sign in after a password reset)` : ''}`,
          ...(r.migratedAfterRestore.length ? [`then migrated: ${r.migratedAfterRestore.join(', ')}`] : []),
        ].join('\n'),
      );
    });

  tenants
    .command('delete')
    .description('Delete a tenant and all its data (exports it first unless --no-export)')
    .argument('<slug>')
    .option('--yes', 'really delete (required)')
    .option('--no-export', 'skip the export before deleting')
    .option('--out <file>', 'export file (default: PLINTH_DATA_DIR/exports/<slug>-<timestamp>.json)')
    .action(async (slug: string, opts: { yes?: boolean; export: boolean; out?: string }, cmd: Command) => {
      if (!opts.yes) throw new CliError(`deleting tenant "${slug}" removes all its data: re-run with --yes`, EXIT.usage);
      const r = await withRuntime(async ({ database, config, directory }) => {
        const exported = opts.export ? await exportTenant(database.db, slug, opts.out ?? defaultExportFile(config.PLINTH_DATA_DIR, slug)) : null;
        let bar: ReturnType<typeof progressBar> | undefined;
        const deleted = await deleteTenant(database.db, slug, {
          directory: await directory(),
          // One step per batch of DROP_BATCH tables (one transaction each).
          onProgress: (done, total) => {
            bar ??= progressBar(cmd, Math.ceil(total / DROP_BATCH), `dropping ${total} tables, ${DROP_BATCH} per transaction`);
            bar.advance(`${done}/${total} tables`);
            if (done === total) bar.stop(`dropped ${total} tables`);
          },
        });
        return { ...deleted, export: exported };
      });
      output(cmd, r, () => `deleted tenant "${r.slug}" (${r.droppedTables} tables)${r.export ? `; export in ${r.export.file}` : ''}`);
    });

  const pool = tenants.command('pool').description('The pool of pre-migrated spare schemas that sign-up claims');
  pool
    .command('status')
    .description('How many spare schemas are ready, and how many are behind the code')
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await withRuntime(({ database, migrations }) => sparePoolStatus(database.db, migrations));
      output(cmd, s, () => `spare schemas: ${s.ready} ready, ${s.behind} behind`);
    });
  pool
    .command('refill')
    .description('Migrate spares that are behind, then create spares until --size are ready')
    .option('--size <n>', 'spares to keep ready (default TENANT_SPARE_POOL_SIZE)', parsePositiveInt('--size'))
    .action(async (opts: { size?: number }, cmd: Command) => {
      const r = await withRuntime(async ({ database, migrations, config }) => {
        let bar: ReturnType<typeof progressBar> | undefined;
        return refillSpares(database.db, migrations, {
          size: opts.size ?? config.TENANT_SPARE_POOL_SIZE,
          onProgress: (done, total) => {
            bar ??= progressBar(cmd, total, `creating ${total} spare schemas`);
            bar.advance();
            if (done === total) bar.stop(`created ${total} spare schemas`);
          },
        });
      });
      output(cmd, r, () => `spare schemas: ${r.created} created, ${r.migrated} migrated, ${r.ready} ready`);
    });

  return tenants;
}

const defaultFile = (dataDir: string, folder: string, slug: string, ext: string) => join(dataDir, folder, `${slug}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}.${ext}`);
const defaultExportFile = (dataDir: string, slug: string) => defaultFile(dataDir, 'exports', slug, 'json');
