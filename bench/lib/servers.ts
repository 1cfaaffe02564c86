// Starts the servers under test as separate processes and waits until they
// answer. Node servers print "listening <port>"; others are polled.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface RunningServer {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

export const BENCH_DIR = join(import.meta.dirname, '..');
export const ROOT_DIR = join(BENCH_DIR, '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function stopper(child: ChildProcess) {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function collect(child: ChildProcess) {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return () => output.slice(-2000);
}

/** A Node server script that prints "listening <port>". */
export function startNodeServer(name: string, script: string, env: Record<string, string>, nodeArgs: string[] = [], timeoutMs = 60_000): Promise<RunningServer> {
  const child = spawn(process.execPath, [...nodeArgs, script], { cwd: ROOT_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // BENCH_SERVER_LOG: the server's whole output in a file (e.g. with --trace-gc-nvp in its node flags).
  // Appended: two servers at once (the fixed-rate phases) may share one file; --trace-gc lines carry the pid.
  if (env.BENCH_SERVER_LOG) child.stdout!.pipe(createWriteStream(env.BENCH_SERVER_LOG, { flags: 'a' }));
  const output = collect(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    child.stdout!.on('data', () => {
      const m = /listening (\d+)/.exec(output());
      if (!m) return;
      clearTimeout(timer);
      resolve({ name, pid: child.pid!, url: `http://127.0.0.1:${m[1]}`, stop: stopper(child) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${output()}`));
    });
  });
}

/** Any server on `port`, ready when GET readyPath answers 200. */
export async function startPolledServer(name: string, cmd: string, args: string[], opts: { cwd: string; env: Record<string, string>; port: number; readyPath: string }, timeoutMs = 60_000): Promise<RunningServer> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(url + opts.readyPath);
      if (res.ok) return { name, pid: child.pid!, url, stop: stopper(child) };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not answer within ${timeoutMs} ms:\n${output()}`);
}

/** Whether the seeds' Python stack can run here (Debian packages installed). */
export function seedsStackAvailable(): { ok: boolean; why?: string } {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import fastapi, uvicorn, sqlalchemy, asyncpg, jose, uvloop, httptools'], { encoding: 'utf8' });
  if (probe.error) return { ok: false, why: '/usr/bin/python3 not found' };
  if (probe.status !== 0) return { ok: false, why: `missing Debian packages (${probe.stderr.trim().split('\n').at(-1)}); apt-get install -y python3-fastapi python3-uvicorn python3-sqlalchemy python3-asyncpg python3-jose python3-uvloop python3-httptools` };
  return { ok: true };
}
