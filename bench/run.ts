// `npm run bench [-- <name>...] [--quick] [--load wrk|autocannon] [--record]`
// Runs the benchmarks, prints one summary table and writes
// bench/results/latest.json; --record also rewrites bench/RESULTS.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchDatabase } from './lib/database.ts';
import { defaultLoadTool, type LoadTool } from './lib/load.ts';
import { loginOverHttp } from './lib/fixtures.ts';
import { BENCH_DIR } from './lib/servers.ts';
import { formatTable } from './lib/table.ts';
import type { BenchContext, BenchResult } from './benchmarks/types.ts';
import { overhead } from './benchmarks/overhead.ts';
import { scaling } from './benchmarks/scaling.ts';
import { startup } from './benchmarks/startup.ts';
import { fleet } from './fleet/fleet.ts';
import { compareRatios, ratioKeys, type RecordedRatios } from './lib/regressions.ts';

// Fleet operations (bench/fleet, issue 6) over this many tenants in a --quick run: the
// fleet's own quick size (300 tenants) alone would take most of the two minutes.
const QUICK_FLEET_TENANTS = 20;

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<BenchResult>> = {
  overhead,
  scaling,
  startup,
  fleet: (ctx) => fleet({ database: ctx.database, quick: ctx.quick, log: ctx.log, tenants: ctx.quick ? QUICK_FLEET_TENANTS : ctx.tenants }),
};

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { quick: { type: 'boolean', default: false }, load: { type: 'string' }, record: { type: 'boolean', default: false }, profile: { type: 'boolean', default: false }, redis: { type: 'boolean', default: false }, tenants: { type: 'string', default: '10000' }, help: { type: 'boolean', default: false } },
});
if (opts.help) {
  process.stdout.write(`npm run bench -- [${Object.keys(BENCHMARKS).join('|')}...] [--quick] [--load wrk|autocannon] [--record] [--profile] [--redis] [--tenants N]\n  --redis: Plinth uses REDIS_URL (shared rate limits, second cache level); by default it runs as a single instance without Redis\n`);
  process.exit(0);
}
const unknown = positionals.filter((n) => !BENCHMARKS[n]);
if (unknown.length > 0) {
  process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}
if (opts.load && opts.load !== 'wrk' && opts.load !== 'autocannon') {
  process.stderr.write('--load is wrk or autocannon\n');
  process.exit(2);
}
const names = positionals.length > 0 ? positionals : Object.keys(BENCHMARKS);
const quick = opts.quick;
const tool = (opts.load as LoadTool | undefined) ?? defaultLoadTool();
const started = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);

function redisUrl(): string {
  if (!process.env.REDIS_URL) {
    process.stderr.write('--redis needs REDIS_URL\n');
    process.exit(2);
  }
  return process.env.REDIS_URL;
}

const database = await openBenchDatabase(process.env.DATABASE_URL);
// Ctrl-C or a CI timeout: still drop the bench database (or stop the embedded server).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: dropping ${database.name} and stopping`);
    void database.close().finally(() => process.exit(130));
  });
}
log(`database ${database.name} (${database.where}); load from ${tool}; ${quick ? 'quick' : 'full'} run`);
const ctx: BenchContext = {
  database,
  quick,
  poolMax: 10,
  tenants: Math.max(20, Number(opts.tenants) || 10_000),
  plinthNodeArgs: opts.profile ? ['--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'results', 'profiles')] : [],
  plinthEnv: opts.redis ? { BENCH_REDIS_URL: redisUrl() } : {},
  // --quick proves the harness in under two minutes (CI runs it); its 1 s runs say nothing about speed.
  run: quick ? { tool, connections: 32, durationS: 1, warmupS: 1, maxRequests: 200_000 } : { tool, connections: 32, durationS: 15, warmupS: 5, maxRequests: 2_000_000 },
  log,
  login: loginOverHttp,
};

const results: Record<string, BenchResult | { error: string }> = {};
interface RecordedRun {
  date: string;
  quick: boolean;
  machine: Record<string, unknown>;
  run: unknown;
  header: string;
  result: BenchResult | { error: string };
}
let failed = false;
try {
  const { rows: [pgv] } = await database.pool.query<{ server_version: string }>('show server_version');
  for (const name of names) {
    log(`— ${name}`);
    try {
      results[name] = await BENCHMARKS[name]!(ctx);
    } catch (error) {
      failed = true;
      results[name] = { error: (error as Error).stack ?? String(error) };
      log(`${name} failed: ${(error as Error).message}`);
    }
  }
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: `${pgv?.server_version} (${database.where})`,
    loadTool: tool,
  };
  const date = new Date().toISOString();
  const ok = Object.values(results).filter((r): r is BenchResult => 'rows' in r);
  const table = formatTable(ok.flatMap((r) => r.rows));
  const notes = ok.flatMap((r) => r.notes);
  const header = `${date}, ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}, Plinth ${opts.redis ? 'with Redis (REDIS_URL)' : 'without Redis'}, load: ${tool}, ${ctx.run.connections} connections, ${ctx.run.durationS} s per run after ${ctx.run.warmupS} s warm-up${quick ? ', QUICK' : ''}`;
  process.stdout.write(`\n${header}\n\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  for (const [name, r] of Object.entries(results)) if ('error' in r) process.stdout.write(`\n${name} FAILED:\n${r.error}\n`);

  // latest.json keeps the last result of every benchmark: a run of one benchmark replaces only its entry.
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  const latestFile = join(BENCH_DIR, 'results', 'latest.json');
  let latest: Record<string, RecordedRun> = {};
  try {
    latest = (JSON.parse(readFileSync(latestFile, 'utf8')) as { benchmarks?: Record<string, RecordedRun> }).benchmarks ?? {};
  } catch {
    // first run, or an older format: start over
  }
  for (const [name, result] of Object.entries(results)) latest[name] = { date, quick, machine, run: ctx.run, header, result };
  writeFileSync(latestFile, `${JSON.stringify({ benchmarks: latest }, null, 2)}\n`);
  if (opts.record) {
    const recorded = Object.keys(BENCHMARKS).flatMap((name) => {
      const r = latest[name];
      return r && 'rows' in r.result ? [{ name, ...r, result: r.result }] : [];
    });
    // The ratios of the previous --record (committed beside RESULTS.md), so that a
    // ratio that moved by more than 10% is flagged in the table and shows in the diff.
    const ratiosFile = join(BENCH_DIR, 'RESULTS.json');
    let previous: RecordedRatios = {};
    try {
      previous = (JSON.parse(readFileSync(ratiosFile, 'utf8')) as { ratios?: RecordedRatios }).ratios ?? {};
    } catch {
      // first record
    }
    const rows = recorded.flatMap((r) => r.result.rows);
    const current = ratioKeys(rows);
    writeFileSync(
      join(BENCH_DIR, 'RESULTS.md'),
      `# Latest benchmark results\n\nWritten by \`npm run bench -- --record\` from bench/results/latest.json (the last run of each benchmark); ` +
        `bench/README.md says how to read them. Ratios compare targets measured in the same run.\n\n` +
        `${recorded.map((r) => `- **${r.name}**: ${r.header}, DB pool ${ctx.poolMax} per server`).join('\n')}\n\n` +
        `${formatTable(rows)}\n\n${recorded.flatMap((r) => r.result.notes).map((n) => `- ${n}`).join('\n')}\n\n` +
        `## Ratios against the previous recorded run\n\nOne line per ratio, in a fixed order: a change of more than 10% either way is flagged.\n\n${compareRatios(current, previous)}\n`,
    );
    writeFileSync(ratiosFile, `${JSON.stringify({ recorded: date, ratios: { ...previous, ...current } }, null, 2)}\n`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/results/latest.json${opts.record ? ' and bench/RESULTS.md' : ''}`);
} finally {
  await database.close();
}
process.exit(failed ? 1 : 0);
