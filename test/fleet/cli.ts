// Runs the real `plinth` entry point (src/cli/main.ts) on the test database,
// with the pinned Node (vitest's own process.execPath).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { inject } from 'vitest';

export const CLI = resolve(import.meta.dirname, '../../src/cli/main.ts');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

export function plinth(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: opts.cwd, env: { ...process.env, DATABASE_URL: inject('databaseUrl'), TENANT_SPARE_POOL_SIZE: '0', ...opts.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr, json: () => JSON.parse(stdout) });
      },
    );
  });
}
