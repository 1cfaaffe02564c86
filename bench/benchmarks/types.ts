import type { BenchDatabase } from '../lib/database.ts';
import type { Measurement, RunSettings } from '../lib/measure.ts';

export interface BenchContext {
  database: BenchDatabase;
  run: RunSettings;
  quick: boolean;
  /** DB_POOL_MAX of every server under test (the same for all). */
  poolMax: number;
  /** Tenants of the large phase of the scaling benchmark (full mode). */
  tenants: number;
  /** Passes over the large fleet before the scaling benchmark measures (default 4). */
  warmupPasses?: number;
  /** Phases of the scaling benchmark to run (default all, see scaling.ts). */
  scalingPhases?: readonly string[];
  /** Requests a second of the scaling benchmark's fixed-rate phases (default: see scaling.ts). */
  scalingRate?: number;
  /** Windows per fleet size of the scaling benchmark's fixed-rate phases, alternating with the other size (default 9). */
  scalingPairs?: number;
  /** Node flags for the Plinth server (--profile adds --cpu-prof). */
  plinthNodeArgs: string[];
  /** Environment of every Plinth server: BENCH_REDIS_URL with --redis (bench/servers/plinth.ts). */
  plinthEnv: Record<string, string>;
  log(msg: string): void;
  /** A real access token from POST /v1/auth/login. */
  login(baseUrl: string, slug: string, email: string, password: string): Promise<string>;
}

/** One line of the summary table: a load measurement, or plain values (startup). */
export interface Row {
  benchmark: string;
  target: string;
  measurement?: Measurement;
  values?: Record<string, string>;
  ratio: string;
  /** The ratios of this row as numbers (e.g. "req/s ÷ limit"): --record compares them with the previous record. */
  ratios?: Record<string, number>;
}

export interface BenchResult {
  rows: Row[];
  notes: string[];
  data: unknown;
}
