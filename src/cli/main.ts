#!/usr/bin/env node
// `plinth` (npx plinth / npm run plinth --): see ./program.ts for the commands.
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { EXIT, reportError } from './runtime.ts';

const json = process.argv.includes('--json');
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed the message (or the help / version).
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = reportError(error, json);
  }
}
