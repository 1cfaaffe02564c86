// `node bench/gc-probe.ts [--targets limit,plinth] [--rate 585] [--seconds 10] [--top 15] [--depth 3] [--plinth-tree DIR]`
// (--plinth-tree: run Plinth from another checkout, e.g. a `git worktree` of an older commit)
// What the young generation promotes per request, Plinth against the limit: the
// reference read at a fixed rate over real HTTP (128 connections, after 3 s flat
// out), each server run with --trace-gc-nvp (scavenges, their pauses and the
// bytes they promote) and a sampling heap profile of the objects that outlived a
// scavenge, by allocation site (bench/lib/survivor-sampling.ts). An object that
// outlives a request and then a scavenge is copied, promoted, and collected only
// by a full mark-compact: bench/README.md, "Garbage collection".
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { openBenchDatabase } from './lib/database.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, BENCH_RATE_LIMITS, createBenchTenant, loginOverHttp } from './lib/fixtures.ts';
import { BENCH_DIR, ROOT_DIR, startNodeServer } from './lib/servers.ts';
import { runLoad } from './lib/load.ts';

const { values: opts } = parseArgs({ options: { targets: { type: 'string', default: 'limit,plinth' }, rate: { type: 'string', default: '585' }, seconds: { type: 'string', default: '10' }, top: { type: 'string', default: '15' }, depth: { type: 'string', default: '3' }, 'plinth-tree': { type: 'string' } } });
const dir = mkdtempSync(join(tmpdir(), 'plinth-gc-probe-'));
const database = await openBenchDatabase(process.env.DATABASE_URL);
type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
try {
  const { tenant, ownerId } = await createBenchTenant(database.db, 'bench-gc', 10_000);
  const env = { DATABASE_URL: database.url, LOG_LEVEL: 'silent', DB_POOL_MAX: '10', ACCESS_TOKEN_TTL_SECONDS: '3600', JOBS_IN_API: 'false', ...BENCH_RATE_LIMITS };
  for (const name of opts.targets.split(',')) {
    if (name !== 'limit' && name !== 'plinth') throw new Error(`unknown target ${name}: limit or plinth`);
    const log = join(dir, `${name}.log`);
    const probe = { BENCH_SERVER_LOG: log, HEAP_OUT: join(dir, `${name}.heapprofile`) };
    const args = ['--import', join(BENCH_DIR, 'lib', 'survivor-sampling.ts'), '--trace-gc-nvp'];
    const server =
      name === 'plinth'
        ? await startNodeServer('plinth', join(opts['plinth-tree'] ? join(opts['plinth-tree'], 'bench') : BENCH_DIR, 'servers', 'plinth.ts'), { ...env, ...probe }, args)
        : await startNodeServer('limit', join(BENCH_DIR, 'baselines', 'bare.ts'), { ...env, ...probe, BENCH_SCHEMA: tenant.schemaName, BENCH_OWNER: ownerId }, args);
    try {
      const headers: Record<string, string> = name === 'plinth' ? { authorization: `Bearer ${await loginOverHttp(server.url, tenant.slug, BENCH_EMAIL, BENCH_PASSWORD)}`, 'x-tenant': tenant.slug } : {};
      const plan = { url: server.url, method: 'GET' as const, path: '/v1/contacts?limit=50', headers: {}, headerSets: [headers], connections: 128, maxRequests: 10_000_000 };
      await runLoad({ ...plan, durationS: 3 }, 'wrk');
      await new Promise((r) => setTimeout(r, 500));
      const linesBefore = readFileSync(log, 'utf8').split('\n').length;
      process.kill(server.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 200));
      const r = await runLoad({ ...plan, durationS: Number(opts.seconds), ratePerS: Number(opts.rate) }, 'wrk');
      process.kill(server.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
      const lines = readFileSync(log, 'utf8').split('\n').slice(linesBefore);
      const num = (l: string, k: string) => Number(new RegExp(` ${k}=([0-9.]+)`).exec(l)?.[1] ?? 0);
      const sum = (ls: string[], k: string) => ls.reduce((s, l) => s + num(l, k), 0);
      const scavenges = lines.filter((l) => / gc=s /.test(l));
      const marks = lines.filter((l) => / gc=(mc|ms) /.test(l));
      const perReq = (bytes: number) => `${(bytes / r.requests / 1024).toFixed(1)} KiB/request`;
      console.log(
        `${name}: ${r.requests} requests at ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} p99 ${r.p99Ms.toFixed(2)} ms; ` +
          `${scavenges.length} scavenges (${sum(scavenges, 'pause').toFixed(0)} ms paused) promoted ${perReq(sum(scavenges, 'promoted'))}; ` +
          `${marks.length} mark-compacts (${sum(marks, 'pause').toFixed(0)} ms paused)`,
      );
      const profile = JSON.parse(readFileSync(probe.HEAP_OUT, 'utf8')) as { head: Node };
      const sites = new Map<string, number>();
      const frame = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(`file://${ROOT_DIR}/`, '')}:${n.callFrame.lineNumber + 1}`;
      let total = 0;
      const walk = (n: Node, stack: string[]) => {
        const here = [frame(n), ...stack];
        const key = here.slice(0, Number(opts.depth)).join(' < ');
        sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
        total += n.selfSize;
        n.children.forEach((c) => walk(c, here));
      };
      walk(profile.head, []);
      console.log(`  outlived a scavenge (sampled): ${perReq(total)}, by allocation site:`);
      for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top))) console.log(`  ${(bytes / r.requests / 1024).toFixed(2).padStart(7)}  ${site}`);
    } finally {
      await server.stop();
    }
  }
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
