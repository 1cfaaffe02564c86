// `plinth make ...`: code generators. Run in the project's root folder; they
// write source files and register them, so the result passes `npm test`
// and shows in /docs with no hand edits.
import { Command } from 'commander';
import { makeMigration } from '../scaffold/migration.ts';
import { makeModule, makePermission } from '../scaffold/module.ts';
import { output } from '../runtime.ts';

export function makeCommand(): Command {
  const make = new Command('make').description('Generate a module, a tenant migration or a permission (in the current folder: the project root)');

  make
    .command('module')
    .description('Generate src/modules/<name>/ (routes, schemas, service, repository, tables, first tenant migration, permissions, tests) and register it in src/modules/index.ts')
    .argument('<name>', 'plural, lowercase words joined by hyphens, e.g. support-tickets (the URL is /v1/<name>)')
    .option('--area <area>', 'first part of the permission keys (<area>.<resource>.<action>)', 'app')
    .action(async (name: string, opts: { area: string }, cmd: Command) => {
      const r = await makeModule(process.cwd(), name, { area: opts.area });
      output(cmd, r, () =>
        [
          `created ${r.folder}/ (${r.files.length} files) and registered it in ${r.registered}`,
          `routes:      ${r.routes.join(', ')}`,
          `permissions: ${r.permissions.join(', ')}`,
          `migration:   ${r.migration} (applied by \`plinth migrate up\` or on the next start)`,
          `next: npx vitest run ${r.folder}/`,
        ].join('\n'),
      );
    });

  make
    .command('migration')
    .description('Create a timestamped tenant migration in a module and register it (same as `migrate make`)')
    .argument('<module>', 'module folder under src/modules (or src/platform)')
    .argument('<name>', 'snake_case description, e.g. add_contact_score')
    .action(async (module: string, name: string, _opts: unknown, cmd: Command) => {
      const r = await makeMigration(process.cwd(), module, name);
      output(cmd, r, () => `created ${r.file}\nregistered ${r.name} in ${r.index}`);
    });

  make
    .command('permission')
    .description("Add a permission to a module's permissions.ts (owners hold every permission)")
    .argument('<module>', 'module folder under src/modules')
    .argument('<key>', 'resource.action (the module\'s area is prefixed) or area.resource.action')
    .option('--roles <roles>', 'comma-separated built-in roles that hold it: admin, member, viewer', 'admin')
    .option('--description <text>', 'what it allows')
    .action(async (module: string, key: string, opts: { roles: string; description?: string }, cmd: Command) => {
      const roles = opts.roles.split(',').map((r) => r.trim()).filter(Boolean);
      const r = await makePermission(process.cwd(), module, key, { roles, description: opts.description });
      output(cmd, r, () => `added ${r.permission} (roles: ${r.roles.join(', ')}) to ${r.file}\nuse it in a route: config: { permission: '${r.permission}' }`);
    });

  return make;
}
