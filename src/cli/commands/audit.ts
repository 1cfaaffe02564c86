// `plinth audit verify --tenant <slug>`: walks a tenant's hash-chained audit
// trail (as GET /v1/audit/verify does) and reports the first broken link.
// Exit 0 when the chain holds, 1 when it is broken.
import { Command } from 'commander';
import { CliError, EXIT, output, withRuntime } from '../runtime.ts';

export function auditCommand(): Command {
  const audit = new Command('audit').description("Tenants' audit trails");
  audit
    .command('verify')
    .description("Verify a tenant's audit trail hash chain; prints the first broken seq and exits 1 when it is broken")
    .requiredOption('--tenant <slug>', 'the tenant')
    .action(async (opts: { tenant: string }, cmd: Command) => {
      const slug = opts.tenant.trim().toLowerCase();
      if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) throw new CliError(`--tenant "${opts.tenant}" is not a tenant slug`, EXIT.usage);
      const result = await withRuntime(async ({ database }) => {
        const [{ verifyChain }, { scopeToTenant }, { AppError }] = await Promise.all([import('../../platform/audit/verify.ts'), import('../../platform/context.ts'), import('../../platform/errors.ts')]);
        const tenant = await database.db.selectFrom('tenants').select(['id', 'slug', 'schemaName']).where('slug', '=', slug).executeTakeFirst();
        if (!tenant) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
        const started = performance.now();
        const verdict = await verifyChain(scopeToTenant(database.db, tenant.schemaName));
        return { tenant: tenant.slug, ...verdict, durationMs: Math.round(performance.now() - started) };
      });
      output(cmd, result, () =>
        result.ok
          ? `audit trail of "${result.tenant}": ok, ${result.checked} row(s) checked in ${result.durationMs} ms`
          : `audit trail of "${result.tenant}": BROKEN at seq ${result.firstBrokenSeq}: ${result.reason} (${result.checked} row(s) before it hold)`,
      );
      if (!result.ok) process.exitCode = EXIT.failed;
    });
  return audit;
}
