// `plinth migrate ...`: fleet status, up (bounded, resumable, canary), down
// (the last step), make (a new timestamped tenant migration in a module).
import { Command } from 'commander';
import { fleetStatus, migrateFleet, migrateFleetDown, type FleetRunOptions } from '../../platform/tenancy/fleet.ts';
import { makeMigration } from '../scaffold/migration.ts';
import { CliError, EXIT, output, parsePositiveInt, progressBar, table, withRuntime } from '../runtime.ts';

interface RunFlags {
  concurrency: number;
  continueOnError?: boolean;
  lockTimeout: number;
  statementTimeout: number;
  tenant?: string[];
}

const runOptions = (cmd: Command) =>
  cmd
    .option('--concurrency <n>', 'tenants migrated at the same time', parsePositiveInt('--concurrency'), 4)
    .option('--continue-on-error', 'keep going after a tenant fails (default: stop starting new tenants)')
    .option('--lock-timeout <ms>', 'lock_timeout of each tenant transaction', parsePositiveInt('--lock-timeout'), 5000)
    .option('--statement-timeout <ms>', 'statement_timeout of each tenant transaction', parsePositiveInt('--statement-timeout'), 60_000)
    .option('--tenant <slug...>', 'only these tenants');

const fleetOptions = (flags: RunFlags, cmd: Command, label: string): FleetRunOptions & { finish(): void } => {
  let bar: ReturnType<typeof progressBar> | undefined;
  return {
    concurrency: Math.max(1, flags.concurrency),
    continueOnError: Boolean(flags.continueOnError),
    lockTimeoutMs: flags.lockTimeout,
    statementTimeoutMs: flags.statementTimeout,
    slugs: flags.tenant,
    onProgress: ({ total, slug, error }) => {
      bar ??= progressBar(cmd, total, `${label} ${total} tenant(s)`);
      bar.advance(error ? `${slug} failed` : slug);
    },
    finish: () => bar?.stop('done'),
  };
};

const failureLines = (failed: Array<{ slug: string; error: string }>) => failed.map((f) => `  FAILED ${f.slug}: ${f.error}`);

export function migrateCommand(): Command {
  const migrate = new Command('migrate').description('Tenant schema migrations across the fleet');

  migrate
    .command('status')
    .description('Tenants per schema version and the failed ones (one query on public.tenants)')
    .option('--failed-limit <n>', 'failures listed per version', parsePositiveInt('--failed-limit'), 100)
    .action(async (opts: { failedLimit: number }, cmd: Command) => {
      const s = await withRuntime(({ database, migrations }) => fleetStatus(database.db, migrations, { failedLimit: opts.failedLimit }));
      output(cmd, s, () =>
        [
          `code is at ${s.latest ?? '(no tenant migrations)'}: ${s.upToDate} of ${s.total} tenant(s) up to date, ${s.behind} behind, ${s.failed.length} failed`,
          table(s.versions.map((v) => ({ version: v.version ?? 'none', tenants: v.tenants, current: v.current ? 'yes' : '' })), ['version', 'tenants', 'current']),
          ...failureLines(s.failed.map((f) => ({ slug: f.slug, error: f.error }))),
        ].join('\n'),
      );
      if (s.failed.length > 0) process.exitCode = EXIT.failed;
    });

  runOptions(migrate.command('up'))
    .description('Apply pending tenant migrations to every tenant that is behind (platform migrations first)')
    .option('--canary <n>', 'migrate only the first N tenants that are behind, then stop', parsePositiveInt('--canary'))
    .action(async (flags: RunFlags & { canary?: number }, cmd: Command) => {
      const opts = fleetOptions(flags, cmd, 'migrating');
      const run = await withRuntime(
        async ({ database, migrations, platformApplied: platform }) => {
          const r = await migrateFleet(database.db, migrations, { ...opts, canary: flags.canary });
          opts.finish();
          return { platform, latest: migrations.latest, ...r };
        },
        { poolMax: flags.concurrency + 2 },
      );
      output(cmd, run, () =>
        [
          `tenants: ${run.migrated.length} migrated, ${run.failed.length} failed, ${run.skipped} not started, ${run.upToDate} already at ${run.latest ?? 'none'} (${run.durationMs} ms)`,
          ...failureLines(run.failed),
          ...(run.skipped > 0 ? [`stopped at the first failure; re-run to resume (add --continue-on-error to go past failures)`] : []),
        ].join('\n'),
      );
      if (run.failed.length > 0) process.exitCode = EXIT.failed;
    });

  runOptions(migrate.command('down'))
    .description("Revert the latest tenant migration (its down()) on every tenant at the latest version")
    .option('--yes', 'really revert (required)')
    .action(async (flags: RunFlags & { yes?: boolean }, cmd: Command) => {
      if (!flags.yes) throw new CliError('migrate down reverts the latest tenant migration on every tenant (the API then answers 503 for them until older code runs): re-run with --yes', EXIT.usage);
      const opts = fleetOptions(flags, cmd, 'reverting');
      const run = await withRuntime(
        async ({ database, migrations }) => {
          const r = await migrateFleetDown(database.db, migrations, opts);
          opts.finish();
          return r;
        },
        { poolMax: flags.concurrency + 2 },
      );
      output(cmd, run, () => [`reverted ${run.reverted ?? '(nothing)'} on ${run.migrated.length} tenant(s), now at ${run.version ?? 'none'}; ${run.failed.length} failed`, ...failureLines(run.failed)].join('\n'));
      if (run.failed.length > 0) process.exitCode = EXIT.failed;
    });

  migrate
    .command('make')
    .description('Create src/modules/<module>/migrations/<timestamp>_<name>.ts and register it in the module index')
    .argument('<module>', 'module folder under src/modules (or src/platform)')
    .argument('<name>', 'snake_case description, e.g. add_contact_score')
    .action(async (module: string, name: string, _opts: unknown, cmd: Command) => {
      const r = await makeMigration(process.cwd(), module, name);
      output(cmd, r, () => `created ${r.file}\nregistered ${r.name} in ${r.index}`);
    });

  return migrate;
}

