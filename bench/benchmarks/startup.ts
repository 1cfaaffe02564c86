// Startup: wall time from `npm start` to its "ready" line on a fresh data
// folder (embedded PostgreSQL initialised, demo tenant seeded) and again on
// the same folder; and the wall time of `npm test` (full mode only).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchResult } from './types.ts';
import { ROOT_DIR } from '../lib/servers.ts';

interface StartTiming {
  wallMs: number;
  /** What the process itself printed ("ready in N ms"). */
  reportedMs: number;
}

function stopGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function timeStart(env: NodeJS.ProcessEnv): Promise<StartTiming> {
  const t0 = performance.now();
  // Its own process group, so npm and the node it starts get the same SIGTERM (as Ctrl-C would).
  const child = spawn('npm', ['start'], { cwd: ROOT_DIR, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    return await new Promise<StartTiming>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start not ready within 120 s:\n${output.slice(-2000)}`)), 120_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /ready in (\d+) ms/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve({ wallMs: performance.now() - t0, reportedMs: Number(m[1]) });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited with ${code}:\n${output.slice(-2000)}`));
      });
    });
  } finally {
    stopGroup(child.pid!, 'SIGTERM');
    const kill = setTimeout(() => stopGroup(child.pid!, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(kill);
  }
}

async function timeNpmTest(): Promise<{ wallS: number; exitCode: number | null; summary: string }> {
  const t0 = performance.now();
  const child = spawn('npm', ['test'], { cwd: ROOT_DIR, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const summary = /^\s*Tests\s+(\d.+)$/m.exec(plain)?.[1]?.trim() ?? 'no summary';
  // Which tests failed, so that a failure in a timed run can be looked into.
  const failed = [...new Set(plain.match(/^\s*FAIL\s+.+$/gm)?.map((l) => l.trim().replace(/^FAIL\s+/, '')) ?? [])];
  if (failed.length) process.stderr.write(`npm test failures:\n${failed.map((f) => `  ${f}`).join('\n')}\n`);
  return { wallS: (performance.now() - t0) / 1000, exitCode, summary };
}

const median = (xs: StartTiming[]) => [...xs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(xs.length / 2)]!;

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-bench-start-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as `postgres` and must enter it
  return dir;
}

export async function startup(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 1 : 3;
  const dirs: string[] = [];
  const envFor = (dataDir: string): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, PLINTH_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    return env;
  };
  try {
    const fresh: StartTiming[] = [];
    const existing: StartTiming[] = [];
    for (let i = 0; i < runs; i++) {
      dirs.push(freshDataDir());
      ctx.log(`npm start on a fresh data folder (${i + 1} of ${runs})`);
      fresh.push(await timeStart(envFor(dirs.at(-1)!)));
    }
    for (let i = 0; i < runs; i++) {
      ctx.log(`npm start on an existing data folder (${i + 1} of ${runs})`);
      existing.push(await timeStart(envFor(dirs[0]!)));
    }
    const test = ctx.quick ? undefined : (ctx.log('npm test'), await timeNpmTest());
    const f = median(fresh);
    const e = median(existing);
    const rows = [
      { benchmark: 'startup', target: 'npm start, first run', values: { seconds: (f.wallMs / 1000).toFixed(2) }, ratio: `ready in ${f.reportedMs} ms by its own clock (initdb, migrations, demo tenant)` },
      { benchmark: 'startup', target: 'npm start, existing data', values: { seconds: (e.wallMs / 1000).toFixed(2) }, ratio: `ready in ${e.reportedMs} ms by its own clock` },
      test
        ? { benchmark: 'startup', target: 'npm test', values: { seconds: test.wallS.toFixed(1) }, ratio: `exit ${test.exitCode}; ${test.summary}` }
        : { benchmark: 'startup', target: 'npm test', values: { seconds: '-' }, ratio: 'skipped in --quick' },
    ];
    return {
      rows,
      notes: [
        `startup: median of ${runs} run(s), wall time from spawning \`npm start\` to its "ready" line (embedded PostgreSQL, PORT=0, the process's own "ready in" clock starts after Node loaded main.ts); npm test ${process.env.DATABASE_URL ? 'against DATABASE_URL' : 'with its embedded PostgreSQL'}.`,
      ],
      data: { fresh, existing, test },
    };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
