// `plinth roles ...`: a tenant's roles, and granting/revoking one permission
// of a role as the operator (audited with no actor, like any CLI change). The
// change reaches running API instances at once through the cache's
// invalidation bus (Redis or PostgreSQL NOTIFY).
import { Command, Option } from 'commander';
import { CliError, EXIT, output, table, withRuntime, type Runtime } from '../runtime.ts';
import type { AccessActor, AccessService } from '../../modules/identity/access-service.ts';
import type { RecordScope } from '../../platform/record-scope.ts';

const tenantOption = () => new Option('--tenant <slug>', 'the tenant (its slug)').makeOptionMandatory();

/** Runs `fn` with the access service of the CLI and the tenant as the operator acting on it. */
async function withAccess<T>(slug: string, fn: (access: AccessService, actor: AccessActor, rt: Runtime) => Promise<T>): Promise<T> {
  return withRuntime(async (rt) => {
    const [{ createAccessService }, { randomUUID }] = await Promise.all([import('../../modules/identity/access-service.ts'), import('node:crypto')]);
    const db = rt.database.db;
    const tenant = await db.selectFrom('tenants').selectAll().where('slug', '=', slug.toLowerCase()).executeTakeFirst();
    if (!tenant) throw new CliError(`No tenant "${slug}"`, EXIT.failed);
    if (tenant.schemaVersion !== rt.migrations.latest) throw new CliError(`Tenant "${slug}" is at schema version ${tenant.schemaVersion ?? 'none'}; run \`plinth migrate up\` first`, EXIT.failed);
    const access = createAccessService({ db, permissions: await rt.permissions(), directory: await rt.directory() });
    const actor: AccessActor = {
      tenant: { id: tenant.id, slug: tenant.slug, displayName: tenant.displayName, schemaName: tenant.schemaName },
      source: { actorId: null, requestId: `cli-${randomUUID()}`, ip: null, userAgent: 'plinth-cli' },
    };
    return fn(access, actor, rt);
  });
}

const grantsText = (permissions: Array<{ key: string; scope: RecordScope }>) => permissions.map((p) => (p.scope === 'all' ? p.key : `${p.key}:${p.scope}`)).join(', ');

export function rolesCommand(): Command {
  const roles = new Command('roles').description("A tenant's roles: list them, grant or revoke a permission");

  roles
    .command('list')
    .description('Roles of a tenant with their members and permissions (scope shown when narrower than all)')
    .addOption(tenantOption())
    .action(async (opts: { tenant: string }, cmd: Command) => {
      const list = await withAccess(opts.tenant, (access, actor) => access.listRoles(actor));
      output(cmd, list, () => table(list.map((r) => ({ key: r.key, name: r.name, system: r.system ? 'yes' : 'no', members: r.memberCount, permissions: grantsText(r.permissions) })), ['key', 'name', 'system', 'members', 'permissions']));
    });

  roles
    .command('grant')
    .description('Grant a permission to a role (or change its scope)')
    .argument('<role>', 'role key, e.g. manager or a custom role')
    .argument('<permission>', 'permission key (plinth permissions list)')
    .addOption(new Option('--scope <scope>', 'records covered (own, team, all); narrower than all only on record permissions').choices(['own', 'team', 'all']).default('all'))
    .addOption(tenantOption())
    .action(async (roleKey: string, permission: string, opts: { tenant: string; scope: RecordScope }, cmd: Command) => {
      const role = await withAccess(opts.tenant, async (access, actor) => {
        const found = await access.findRoleByKey(actor, roleKey);
        if (!found) throw new CliError(`Tenant "${opts.tenant}" has no role "${roleKey}"`, EXIT.usage);
        return access.updateRole(actor, found.id, { grant: { key: permission, scope: opts.scope } });
      });
      output(cmd, role, () => `role "${role.key}" of ${opts.tenant} now grants ${permission}${opts.scope === 'all' ? '' : ` (scope ${opts.scope})`}`);
    });

  roles
    .command('revoke')
    .description('Revoke a permission from a role')
    .argument('<role>', 'role key')
    .argument('<permission>', 'permission key')
    .addOption(tenantOption())
    .action(async (roleKey: string, permission: string, opts: { tenant: string }, cmd: Command) => {
      const role = await withAccess(opts.tenant, async (access, actor) => {
        const found = await access.findRoleByKey(actor, roleKey);
        if (!found) throw new CliError(`Tenant "${opts.tenant}" has no role "${roleKey}"`, EXIT.usage);
        return access.updateRole(actor, found.id, { revoke: permission });
      });
      output(cmd, role, () => `role "${role.key}" of ${opts.tenant} no longer grants ${permission}`);
    });

  return roles;
}
