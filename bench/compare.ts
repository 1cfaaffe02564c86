// `node bench/compare.ts <git revision> [read|write] [--rounds N] [--requests N] [--sites] [--profile]`
// (--sites: also the functions that allocate most per request (--top N, default 25; --callers: each with its caller;
// --survivors: only what outlives a scavenge);
// --profile: CPU profiles of this tree and of the limit over the same requests,
// written to bench/results/profiles/ for bench/profile-summary.ts)
// The platform's own request path, this tree against another revision, in one
// process: both apps (and the bare limit's route) serve the reference read or
// write through app.inject against the same tenant, in interleaved rounds, and
// the report gives CPU µs per request (median of the rounds) and KiB allocated
// per request (V8's sampling heap profiler, counting collected objects too:
// allocation is deterministic where CPU time on a shared machine is not).
// inject leaves HTTP parsing and sockets out, so this isolates what Plinth's code
// costs; `npm run bench -- overhead` is the end-to-end measurement.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import pg from 'pg';
import { openBenchDatabase } from './lib/database.ts';
import { registerBareRoutes } from './baselines/bare-routes.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, BENCH_RATE_LIMITS, createBenchTenant } from './lib/fixtures.ts';
import { ROOT_DIR } from './lib/servers.ts';
import { loadConfig, readEnv } from '../src/config.ts';
import { createDatabase } from '../src/platform/db/database.ts';

const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '1500' }, sites: { type: 'boolean', default: false }, profile: { type: 'boolean', default: false }, top: { type: 'string' }, survivors: { type: 'boolean', default: false }, callers: { type: 'boolean', default: false } } });
const [rev, op = 'read'] = positionals;
if (!rev || (op !== 'read' && op !== 'write')) {
  process.stderr.write('usage: node bench/compare.ts <git revision> [read|write] [--rounds N] [--requests N]\n');
  process.exit(2);
}
const rounds = Number(opts.rounds);
const requests = Number(opts.requests);
const concurrency = 8;

// The other revision's tree, with this tree's node_modules.
const other = mkdtempSync(join(tmpdir(), 'plinth-compare-'));
execFileSync('sh', ['-c', `git archive ${JSON.stringify(rev)} | tar -x -C ${JSON.stringify(other)}`], { cwd: ROOT_DIR });
symlinkSync(join(ROOT_DIR, 'node_modules'), join(other, 'node_modules'));
const database = await openBenchDatabase(process.env.DATABASE_URL);
type Target = { inject: (o: object) => Promise<{ statusCode: number; body: string }>; headers: Record<string, string>; close(): Promise<void> };
try {
  const { tenant, ownerId } = await createBenchTenant(database.db, 'bench-compare', 10_000);
  const config = loadConfig({ ...readEnv(), DATABASE_URL: database.url, LOG_LEVEL: 'silent', ACCESS_TOKEN_TTL_SECONDS: '3600', JOBS_IN_API: 'false', ...BENCH_RATE_LIMITS });
  const plinth = async (root: string): Promise<Target> => {
    const { buildApp } = (await import(join(root, 'src', 'app.ts'))) as typeof import('../src/app.ts');
    const { db, pool } = createDatabase({ url: database.url, poolMax: 10, statementTimeoutMs: 0 });
    const app = await buildApp({ config, db, pool });
    await app.ready();
    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': tenant.slug }, payload: { email: BENCH_EMAIL, password: BENCH_PASSWORD } });
    const headers = { authorization: `Bearer ${(login.json() as { accessToken: string }).accessToken}`, 'x-tenant': tenant.slug };
    return { inject: (o) => app.inject(o), headers, close: async () => (await app.close(), await db.destroy()) };
  };
  // The limit's two routes (bench/baselines/bare.ts), in this process.
  const bare = async (): Promise<Target> => {
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    pool.on('error', () => {});
    const app = Fastify({ logger: false });
    registerBareRoutes(app, pool, tenant.schemaName, ownerId);
    await app.ready();
    return { inject: (o) => app.inject(o), headers: {}, close: async () => (await app.close(), await pool.end()) };
  };
  const targets: Record<string, Target> = { limit: await bare(), [rev]: await plinth(other), 'this tree': await plinth(ROOT_DIR) };
  const request = op === 'read' ? { method: 'GET', url: '/v1/contacts?limit=50' } : { method: 'POST', url: '/v1/contacts', payload: { firstName: 'Bench-write', lastName: 'Load', jobTitle: 'Benchmark' } };
  const run = async (t: Target, n: number) => {
    let i = 0;
    const t0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (i++ < n) {
          const r = await t.inject({ ...request, headers: t.headers });
          if (r.statusCode >= 300) throw new Error(`${r.statusCode} ${r.body.slice(0, 300)}`);
        }
      }),
    );
    const c = process.cpuUsage(t0);
    return (c.user + c.system) / n;
  };
  if (op === 'read') {
    const [a, b] = [targets[rev]!, targets['this tree']!];
    const same = (await a.inject({ ...request, headers: a.headers })).body === (await b.inject({ ...request, headers: b.headers })).body;
    process.stdout.write(`response bodies of ${rev} and this tree: ${same ? 'identical' : 'DIFFERENT'}\n`);
  }
  for (const t of Object.values(targets)) await run(t, 300); // warm-up
  const cpu: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) for (const [name, t] of Object.entries(targets)) (cpu[name] ??= []).push(await run(t, requests));
  const session = new Session();
  session.connect();
  const allocated: Record<string, number> = {};
  for (const [name, t] of Object.entries(targets)) {
    await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: !opts.survivors, includeObjectsCollectedByMajorGC: true } as never);
    await run(t, 500);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let bytes = 0;
    const sites = new Map<string, number>();
    const frame = (n: typeof profile.head) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(`file://${ROOT_DIR}/`, '')}:${n.callFrame.lineNumber + 1}`;
    // Built-ins (no script: Object.keys, bind...) are named with their caller.
    const walk = (n: typeof profile.head, caller: string) => {
      bytes += n.selfSize;
      const site = n.callFrame.url && !opts.callers ? frame(n) : `${frame(n)} < ${caller}`;
      sites.set(site, (sites.get(site) ?? 0) + n.selfSize);
      n.children.forEach((c) => walk(c, frame(n)));
    };
    walk(profile.head, '');
    allocated[name] = bytes / 500 / 1024;
    if (opts.sites && name !== rev) {
      process.stdout.write(`allocation sites of ${name} (KiB/request):\n`);
      for (const [site, b] of [...sites].sort((x, y) => y[1] - x[1]).slice(0, opts.top ? Number(opts.top) : 25)) process.stdout.write(`  ${(b / 500 / 1024).toFixed(1).padStart(6)}  ${site}\n`);
    }
  }
  if (opts.profile) {
    const dir = join(ROOT_DIR, 'bench', 'results', 'profiles');
    mkdirSync(dir, { recursive: true });
    for (const name of ['limit', 'this tree']) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      await run(targets[name]!, requests);
      const { profile } = await session.post('Profiler.stop');
      const file = join(dir, `compare-${op}-${name.replace(' ', '-')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stdout.write(`CPU profile of ${name}: ${file}\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`${op}: ${rounds} interleaved rounds of ${requests} requests, ${concurrency} at a time\n`);
  for (const name of Object.keys(targets)) {
    process.stdout.write(`  ${name.padEnd(12)} CPU ${median(cpu[name]!).toFixed(0).padStart(5)} µs/request (rounds: ${cpu[name]!.map((x) => x.toFixed(0)).join(' ')}), allocated ${allocated[name]!.toFixed(0)} KiB/request\n`);
  }
  const ratio = (a: string, b: string) => (median(cpu[a]!) / median(cpu[b]!)).toFixed(3);
  process.stdout.write(`  CPU this tree / ${rev}: ${ratio('this tree', rev)}; limit / ${rev}: ${ratio('limit', rev)}; limit / this tree: ${ratio('limit', 'this tree')}\n`);
  for (const t of Object.values(targets)) await t.close();
} catch (error) {
  // Dropping the database in `finally` makes the apps' LISTEN clients fail: say why first.
  process.stderr.write(`compare failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
  rmSync(other, { recursive: true, force: true });
}
