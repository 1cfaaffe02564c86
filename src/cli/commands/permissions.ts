// `plinth permissions list`: the registry the modules build, with the roles
// that hold each permission by default.
import { Command } from 'commander';
import { createPermissionRegistry, ROLES } from '../../platform/permissions.ts';
import { output, table } from '../runtime.ts';

export function permissionsCommand(): Command {
  const permissions = new Command('permissions').description('The permission registry');
  permissions
    .command('list')
    .description('Every registered permission and the built-in roles that hold it')
    .action(async (_opts: unknown, cmd: Command) => {
      const { modules } = await import('../../modules/index.ts');
      const registry = createPermissionRegistry(modules.flatMap((m) => m.permissions ?? []));
      const list = [...registry.all()]
        .sort((a, b) => a.key.localeCompare(b.key))
        .map((p) => ({ key: p.key, description: p.description, roles: ROLES.filter((r) => registry.permissionsOf(r).has(p.key)) }));
      output(cmd, list, () => table(list.map((p) => ({ ...p, roles: p.roles.join(',') })), ['key', 'roles', 'description']));
    });
  return permissions;
}
