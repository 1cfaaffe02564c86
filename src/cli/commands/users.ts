// `plinth users ...`: platform administrators, and account support (reset MFA).
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
  users
    .command('reset-mfa')
    .description("Turn off an account's MFA (lost device) after verifying the person out of band: TOTP and recovery codes are deleted, the account signs in with its password and may enroll again. Audited in every tenant the account belongs to.")
    .argument('<email>')
    .action(async (email: string, _opts: unknown, cmd: Command) => {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new CliError(`"${email}" is not an email address`, EXIT.usage);
      const r = await withRuntime(async ({ database }) => {
        const [{ sql }, { randomUUID }, { scopeToTenant }, { recordAudit }] = await Promise.all([
          import('kysely'),
          import('node:crypto'),
          import('../../platform/context.ts'),
          import('../../platform/audit/writer.ts'),
        ]);
        const db = database.db;
        const account = await db.selectFrom('accounts').select(['id', 'email']).where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
        if (!account) throw new CliError(`No account with the email ${email}`, EXIT.failed);
        return db.transaction().execute(async (trx) => {
          const raw = trx.withoutPlugins();
          const totp = await sql`delete from mfa_totp where account_id = ${account.id}`.execute(raw);
          const codes = await sql`delete from mfa_recovery_codes where account_id = ${account.id}`.execute(raw);
          const tenants = await trx.selectFrom('memberships as m').innerJoin('tenants as t', 't.id', 'm.tenantId').select(['t.slug', 't.schemaName']).where('m.accountId', '=', account.id).execute();
          const source = { actorId: null, requestId: `cli-${randomUUID()}`, ip: null, userAgent: 'plinth-cli' };
          const wasEnabled = Number(totp.numAffectedRows ?? 0) > 0;
          for (const t of tenants) {
            await recordAudit(scopeToTenant(trx, t.schemaName), source, { action: 'auth.mfa.reset', targetType: 'account', targetId: account.id, details: { by: 'operator (plinth users reset-mfa)', mfaWasEnabled: wasEnabled, recoveryCodesDeleted: Number(codes.numAffectedRows ?? 0) } });
          }
          return { accountId: account.id, email: account.email, mfaWasEnabled: wasEnabled, auditedIn: tenants.map((t) => t.slug) };
        });
      });
      output(cmd, r, () => `${r.mfaWasEnabled ? 'MFA turned off' : 'MFA was not on'} for ${r.email}; audited in ${r.auditedIn.length} tenant(s)${r.auditedIn.length ? `: ${r.auditedIn.join(', ')}` : ''}`);
    });
  return users;
}
