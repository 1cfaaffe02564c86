// `plinth check citus`: do the tenant migrations obey Citus schema-based
// sharding's rules (docs/scaling.md)? Applies them to a scratch schema in a
// rolled-back transaction and reads the catalog; exit 1 on any violation.
import { Command } from 'commander';
import { checkCitusReadiness } from '../../platform/tenancy/citus-check.ts';
import { EXIT, output, table, withRuntime } from '../runtime.ts';

export function checkCommand(): Command {
  const check = new Command('check').description('Checks of the code against the database');
  check
    .command('citus')
    .description('Check that the tenant migrations are ready for Citus schema-based sharding (foreign keys, key types, schema statements)')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await withRuntime(({ database, migrations }) => checkCitusReadiness(database.pool, migrations));
      output(cmd, r, () =>
        [
          `${migrations(r)}: ${r.tables} tables, ${r.foreignKeys} foreign keys, ${r.statements} statements checked`,
          r.violations.length ? table(r.violations.map((v) => ({ ...v })), ['rule', 'object', 'detail']) : 'ready: no violations',
        ].join('\n'),
      );
      if (r.violations.length) process.exitCode = EXIT.failed;
    });
  return check;
}

const migrations = (r: { schema: string }) => `tenant migrations applied to scratch schema ${r.schema} (rolled back)`;
