// The `plinth` command tree. Commands live in ./commands/, one file per area.
import { Command } from 'commander';
import { tenantsCommand } from './commands/tenants.ts';
import { migrateCommand } from './commands/migrate.ts';
import { usersCommand } from './commands/users.ts';
import { permissionsCommand } from './commands/permissions.ts';
import { auditCommand } from './commands/audit.ts';
import { rolesCommand } from './commands/roles.ts';
import { makeCommand } from './commands/make.ts';
import { checkCommand } from './commands/check.ts';
import { version } from '../version.ts';

export function buildProgram(): Command {
  const program = new Command('plinth')
    .description('Operate a Plinth installation: tenants, fleet migrations, users, permissions.\nDatabase: DATABASE_URL, else the embedded PostgreSQL in PLINTH_DATA_DIR (as npm start).')
    .version(version)
    .option('--json', 'machine-readable output on stdout (errors as JSON on stderr)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed (or partly failed), 2 bad usage or input.')
    .enablePositionalOptions(false);
  program.addCommand(tenantsCommand());
  program.addCommand(migrateCommand());
  program.addCommand(usersCommand());
  program.addCommand(permissionsCommand());
  program.addCommand(auditCommand());
  program.addCommand(rolesCommand());
  program.addCommand(makeCommand());
  program.addCommand(checkCommand());
  // Every command and sub-command: usage errors exit 2, --help exits 0.
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}
