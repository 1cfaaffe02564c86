// `npx node bench/fleet/run.ts [--quick] [--tenants N] [--only fleet|scaling]`:
// the fleet benchmarks (provisioning, no-op and real fleet migrations) and
// the tenant-count scaling read with backend memory, on one filled fleet.
// Database: a fresh one on DATABASE_URL's server (dropped after), or
// --reuse-database URL / --embedded DIR to keep a filled fleet between runs.
// bench/run.ts can call runFleet() (or register fleet()/scaling() directly).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openBenchDatabase, type BenchDatabase } from '../lib/database.ts';
import { formatTable } from '../lib/table.ts';
import { join } from 'node:path';
import { BENCH_DIR } from '../lib/servers.ts';
import { defaultLoadTool } from '../lib/load.ts';
import type { BenchContext, BenchResult } from '../benchmarks/types.ts';
import { SCALING_PHASES, scaling } from '../benchmarks/scaling.ts';
import { fillTo, fleet } from './fleet.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { migratePlatform } from '../../src/platform/db/platform-migrations.ts';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres.ts';

export async function reuseDatabase(url: string): Promise<BenchDatabase> {
  const { db, pool } = createDatabase({ url, poolMax: 4, statementTimeoutMs: 0, applicationName: 'plinth-bench-harness' });
  await migratePlatform(db);
  return { url, name: new URL(url).pathname.slice(1), where: 'reused database', db, pool, close: () => db.destroy() };
}

export interface FleetRunOptions {
  quick?: boolean;
  /** Fleet size (default 10,000; quick 300). */
  tenants?: number;
  only?: Array<'fleet' | 'scaling'>;
  /** Passes over the fleet before the scaling benchmark measures. */
  warmupPasses?: number;
  /** Phases of the scaling benchmark (default all: SCALING_PHASES). */
  phases?: string[];
  /** Requests a second of the fixed-rate scaling phases (--rate N). */
  rate?: number;
  /** Windows per fleet size of the fixed-rate scaling phases (--pairs N). */
  pairs?: number;
  /** Extra environment of the Plinth servers (--env KEY=VALUE), e.g. DB_POOL_GROUPS=10 to try a setting. */
  plinthEnv?: Record<string, string>;
  /** Node flags of the Plinth servers (--profile: --cpu-prof). */
  plinthNodeArgs?: string[];
  /** An existing database to top up and keep (else a fresh one, dropped after). */
  databaseUrl?: string;
  log?: (msg: string) => void;
}

/** Runs the fleet and scaling benchmarks on one fleet; returns their results by name. */
export async function runFleet(opts: FleetRunOptions = {}): Promise<Record<string, BenchResult>> {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const quick = Boolean(opts.quick);
  const tenants = opts.tenants ?? (quick ? 300 : 10_000);
  const database = opts.databaseUrl ? await reuseDatabase(opts.databaseUrl) : await openBenchDatabase(process.env.DATABASE_URL);
  const only = opts.only ?? ['fleet', 'scaling'];
  const tool = defaultLoadTool();
  const ctx: BenchContext = {
    database,
    quick,
    poolMax: 10,
    tenants,
    warmupPasses: opts.warmupPasses,
    scalingPhases: opts.phases,
    scalingRate: opts.rate,
    scalingPairs: opts.pairs,
    plinthNodeArgs: opts.plinthNodeArgs ?? [],
    plinthEnv: opts.plinthEnv ?? {},
    run: quick ? { tool, connections: 32, durationS: 2, warmupS: 1, maxRequests: 200_000 } : { tool, connections: 32, durationS: 15, warmupS: 5, maxRequests: 2_000_000 },
    log,
    login: () => Promise.reject(new Error('not used by the fleet benchmarks')),
  };
  const results: Record<string, BenchResult> = {};
  try {
    if (only.includes('fleet')) results.fleet = await fleet({ database, quick, log, tenants });
    if (only.includes('scaling')) results.scaling = await scaling(ctx);
  } finally {
    await database.close();
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      tenants: { type: 'string' },
      only: { type: 'string', multiple: true },
      'reuse-database': { type: 'string' },
      embedded: { type: 'string' },
      'fill-only': { type: 'boolean', default: false },
      'warmup-passes': { type: 'string' },
      phases: { type: 'string' },
      rate: { type: 'string' },
      pairs: { type: 'string' },
      env: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'node bench/fleet/run.ts [--quick] [--tenants N] [--only fleet|scaling] [--reuse-database URL | --embedded DIR] [--fill-only] [--warmup-passes N] [--phases few,many,...] [--rate N] [--pairs N] [--env KEY=VALUE]... [--node-arg FLAG]... [--profile]\n' +
        '  10,000 tenants (--quick: 300). --reuse-database: top up and measure a database an earlier run filled (kept afterwards).\n' +
        '  --embedded DIR: an embedded PostgreSQL kept in DIR (its own server: other sessions\' CREATE/DROP DATABASE checkpoints do not stall it).\n' +
        '  --fill-only: only top the fleet up to --tenants.\n' +
        `  --phases: the scaling phases to run, of ${SCALING_PHASES.join(', ')} (default all).\n` +
        '  --rate N: requests a second of the fixed-rate phases (few-rate, many-rate, limit-few-rate, limit-many-rate; default half what the 10,000-tenant phase sustained).\n' +
        '  --pairs N: windows of 10 s per fleet size in the fixed-rate phases, which run a kind\'s two sizes on two servers at once and alternate the load between them (default 9).\n' +
        '  --env KEY=VALUE: set in every Plinth server\'s environment (after the phase\'s own settings), to try a setting.\n' +
        '  --node-arg FLAG: a Node flag for every Plinth server (e.g. --node-arg=--trace-gc: a value starting with a dash needs the =; with --env BENCH_SERVER_LOG=FILE for its output).\n',
    );
    process.exit(0);
  }
  const started = Date.now();
  const phases = values.phases?.split(',');
  const unknown = phases?.filter((p) => !(SCALING_PHASES as readonly string[]).includes(p));
  if (unknown?.length) throw new Error(`unknown phase(s) ${unknown.join(', ')}: pick from ${SCALING_PHASES.join(', ')}`);
  if (values.env?.some((kv) => !kv.includes('='))) throw new Error('--env takes KEY=VALUE');
  const plinthEnv = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
  const embedded = values.embedded ? await startEmbeddedPostgres({ dataDir: values.embedded, port: 0, log }) : undefined;
  const databaseUrl = embedded?.url ?? values['reuse-database'];
  const tenants = values.tenants ? Number(values.tenants) : undefined;
  try {
    if (values['fill-only']) {
      const database = databaseUrl ? await reuseDatabase(databaseUrl) : undefined;
      if (!database) throw new Error('--fill-only needs --reuse-database or --embedded (a fresh database would be dropped at the end)');
      try {
        await fillTo({ database, quick: values.quick, log }, tenants ?? 10_000);
      } finally {
        await database.close();
      }
      log('filled');
    } else {
      const results = await runFleet({ quick: values.quick, tenants, warmupPasses: values['warmup-passes'] ? Number(values['warmup-passes']) : undefined, plinthNodeArgs: [...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'results', 'profiles')] : []), ...(values['node-arg'] ?? [])], only: values.only as FleetRunOptions['only'], phases, rate: values.rate ? Number(values.rate) : undefined, pairs: values.pairs ? Number(values.pairs) : undefined, plinthEnv, databaseUrl, log });
      for (const r of Object.values(results)) {
        process.stdout.write(`\n${formatTable(r.rows)}\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n${JSON.stringify(r.data, null, 2)}\n`);
      }
    }
  } finally {
    // With 10,000 schemas the shutdown checkpoint can outlast pg_ctl's 60 s: say so rather than lose the results.
    await embedded?.stop().catch((error: Error) => log(`${error.message}; stop it with pg_ctl stop -D ${values.embedded}/pg`));
  }
}
