import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { PublicDatabase } from './public-tables.ts';
import { FastCamelCasePlugin } from './camel-case.ts';

export type Db = Kysely<PublicDatabase>;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  applicationName?: string;
  /** Pooled connections older than this are closed when released (0: never). Default 300. */
  maxLifetimeSeconds?: number;
}

// bigint (int8) and numeric come back as strings by default; counts and sizes
// in this platform fit in a JS number, amounts stay strings (see modules).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createDatabase(opts: DatabaseOptions): { db: Db; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolMax,
    statement_timeout: opts.statementTimeoutMs || undefined,
    application_name: opts.applicationName ?? 'plinth',
    // Recycle connections: per-backend catalog caches grow with the number of
    // tenant schemas a connection has touched (see docs/scaling.md, measured in bench/fleet).
    maxLifetimeSeconds: opts.maxLifetimeSeconds ?? 300,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server (DB restart) must not crash the process.
  pool.on('error', () => {});
  const db = new Kysely<PublicDatabase>({ dialect: new PostgresDialect({ pool }), plugins: [new FastCamelCasePlugin()] });
  return { db, pool };
}

/** True when the server answers a trivial query within `timeoutMs`. */
export async function pingDatabase(pool: pg.Pool, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
