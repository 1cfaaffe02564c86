// `plinth users ...`: platform administrators.
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { CliError, EXIT, output, withRuntime } from '../runtime.ts';

export function usersCommand(): Command {
  const users = new Command('users').description('Accounts across tenants');
  users
    .command('create-admin')
    .description('Create a platform-admin account (or flag an existing one): it may use /v1/platform/* (all tenants), not tenant data')
    .argument('<email>')
    .option('--name <displayName>', 'display name')
    .option('--password <password>', 'password (default: generated and printed once for a new account)')
    .action(async (email: string, opts: { name?: string; password?: string }, cmd: Command) => {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new CliError(`"${email}" is not an email address`, EXIT.usage);
      if (opts.password !== undefined && opts.password.length < 8) throw new CliError('--password needs at least 8 characters', EXIT.usage);
      const generated = randomBytes(15).toString('base64url');
      const r = await withRuntime(async ({ database }) => {
        const { createPlatformAdmin } = await import('../../modules/platform-admin/admins.ts');
        const exists = await database.db.selectFrom('accounts').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
        return createPlatformAdmin(database.db, { email, displayName: opts.name, password: opts.password ?? (exists ? undefined : generated) });
      });
      const password = r.created && !opts.password ? generated : null;
      output(cmd, { ...r, password }, () =>
        r.created ? `created platform admin ${r.email}${password ? `  password: ${password}  (shown once: store it now)` : ''}` : `account ${r.email} is now a platform admin${opts.password ? ' (password changed)' : ''}`,
      );
    });
  return users;
}
