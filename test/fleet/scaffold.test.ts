// `plinth make module|migration|permission` on a temporary copy of the
// project (node_modules symlinked): the generated module must type-check
// with the whole project and pass its own generated tests against the real
// database, with no hand edits. Also checks the generators' refusals.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let copy: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const exec = (args: string[], opts: { timeout?: number; env?: Record<string, string> } = {}): Promise<Run> =>
  new Promise((done) => {
    execFile(process.execPath, args, { cwd: copy, env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 60_000, maxBuffer: 20 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

/** The copy's own CLI, run in the copy (as a developer would in their checkout). */
const plinth = (...args: string[]) => exec([join(copy, 'src/cli/main.ts'), ...args]);

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'plinth-scaffold-'));
  for (const entry of ['src', 'test', 'package.json', 'tsconfig.json', 'vitest.config.ts', 'eslint.config.js']) {
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, filter: (p) => !p.includes(`${'/'}.plinth`) });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // Type-check what the copy holds (the repo's config also includes bench/ and scripts/).
  writeFileSync(join(copy, 'tsconfig.scaffold.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src', 'test'] }));
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('plinth make', () => {
  it('generates a module that type-checks, registers itself and passes its generated tests', async () => {
    const made = await plinth('make', 'module', 'gadgets', '--area', 'shop', '--json');
    expect(made.code, made.stderr).toBe(0);
    const r = JSON.parse(made.stdout) as { files: string[]; permissions: string[]; migration: string };
    expect(r.permissions).toEqual(['shop.gadgets.read', 'shop.gadgets.write', 'shop.gadgets.delete']);
    for (const f of ['index.ts', 'routes.ts', 'schemas.ts', 'service.ts', 'repository.ts', 'tables.ts', 'permissions.ts', 'gadgets.test.ts', `migrations/${r.migration}.ts`]) {
      expect(r.files).toContain(`src/modules/gadgets/${f}`);
    }
    expect(readFileSync(join(copy, 'src/modules/index.ts'), 'utf8')).toMatch(/import \{ gadgetsModule \} from '\.\/gadgets\/index\.ts';[\s\S]*gadgetsModule\];/);

    // The two other generators, on the generated module.
    const perm = await plinth('make', 'permission', 'gadgets', 'gadgets.export', '--roles', 'admin,member', '--json');
    expect(perm.code, perm.stderr).toBe(0);
    expect(JSON.parse(perm.stdout)).toMatchObject({ permission: 'shop.gadgets.export', roles: ['owner', 'admin', 'member'] });
    const mig = await plinth('make', 'migration', 'gadgets', 'add_gadget_colour', '--json');
    expect(mig.code, mig.stderr).toBe(0);
    const listed = await plinth('permissions', 'list', '--json');
    expect((JSON.parse(listed.stdout) as Array<{ key: string }>).map((p) => p.key)).toEqual(expect.arrayContaining([...r.permissions, 'shop.gadgets.export']));

    const tsc = await exec([join(copy, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.scaffold.json'], { timeout: 150_000 });
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);

    const lint = await exec([join(copy, 'node_modules/eslint/bin/eslint.js'), 'src/modules/gadgets/', 'src/modules/index.ts'], { timeout: 120_000 });
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);

    // Its tests, with a database of their own on the same server.
    const vitest = await exec([join(copy, 'node_modules/vitest/vitest.mjs'), 'run', 'src/modules/gadgets/'], { timeout: 150_000, env: { DATABASE_URL: inject('databaseUrl'), CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } });
    const out = vitest.stdout + vitest.stderr;
    expect(vitest.code, out).toBe(0);
    const passed = /Tests\s+(\d+) passed/.exec(out);
    expect(Number(passed?.[1]), out).toBeGreaterThanOrEqual(20);
    expect(out).not.toMatch(/skipped|failed/i);
  }, 300_000);

  it('refuses bad names, existing modules and duplicate permissions without writing anything', async () => {
    const before = readFileSync(join(copy, 'src/modules/index.ts'), 'utf8');
    const runs: Array<Promise<{ run: Run; args: readonly string[]; message: RegExp }>> = [];
    for (const [args, message] of [
      [['make', 'module', 'Bad_Name'], /lowercase words joined by hyphens/],
      [['make', 'module', 'contacts'], /already exists/],
      [['make', 'permission', 'contacts', 'contacts.read'], /already exists/],
      [['make', 'permission', 'contacts', 'contacts.archive', '--roles', 'superuser'], /unknown role/],
      [['make', 'migration', 'nowhere', 'add_x'], /no module "nowhere"/],
    ] as const) {
      runs.push(plinth(...args).then((run) => ({ run, args, message })));
    }
    for (const { run, args, message } of await Promise.all(runs)) {
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(readFileSync(join(copy, 'src/modules/index.ts'), 'utf8')).toBe(before);
    expect(existsSync(join(copy, 'src/modules/Bad_Name'))).toBe(false);
  }, 120_000);
});
