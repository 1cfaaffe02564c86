import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { PublicDatabase } from './public-tables.ts';
import { FastCamelCasePlugin } from './camel-case.ts';
import { createAffinityPool } from './tenant-affinity.ts';
import { parseTimestamptz } from './timestamptz.ts';

export type Db = Kysely<PublicDatabase>;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  applicationName?: string;
  /** Pooled connections older than this are closed when released (0: never). Default 300. */
  maxLifetimeSeconds?: number;
  /** Connection groups for tenant affinity (tenant-affinity.ts); default poolMax / 2 (two connections a group), 1 turns affinity off. */
  groups?: number;
  /** How long a tenant query waits for its own group before taking another group's spare connection (tenant-affinity.ts); 0: no limit. */
  borrowAfterMs?: number;
}

/**
 * The default number of connection groups: two connections per group. One per
 * group halved the backends' memory at 10,000 tenants (0.9 against 1.6 GiB)
 * and cut their CPU per read by ~10%, but a slow query (an export, a report)
 * then holds up every query of its group until the line spills over, where
 * with two the other connection keeps serving. The read's p99 did not tell
 * them apart on the shared 2-core machine (bench/RESULTS.md, 2026-12-02).
 * DB_POOL_GROUPS=DB_POOL_MAX chooses one a group where memory matters more.
 */
export const defaultGroups = (poolMax: number) => Math.max(1, Math.floor(poolMax / 2));

// Each root Db's per-group twins, for forTenant().
const tenantGroups = new WeakMap<Kysely<any>, { groupOf(key: string): number; dbs: Db[] }>();

/**
 * The Kysely instance for a tenant's queries: the root db's twin whose
 * connections belong to the tenant's group (see tenant-affinity.ts). Anything
 * else (a transaction, a db without groups) is returned as is.
 */
export function forTenant<T extends Kysely<any>>(db: T, schemaName: string): T {
  const groups = tenantGroups.get(db);
  return groups ? (groups.dbs[groups.groupOf(schemaName)] as unknown as T) : db;
}

// bigint (int8) and numeric come back as strings by default; counts and sizes
// in this platform fit in a JS number, amounts stay strings (see modules).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);

export function createDatabase(opts: DatabaseOptions): { db: Db; pool: pg.Pool } {
  const affinity = createAffinityPool(
    {
      connectionString: opts.url,
      max: opts.poolMax,
      statement_timeout: opts.statementTimeoutMs || undefined,
      application_name: opts.applicationName ?? 'plinth',
      // Recycle connections: per-backend catalog caches grow with the number of
      // tenant schemas a connection has touched (see docs/scaling.md, measured in bench/fleet).
      maxLifetimeSeconds: opts.maxLifetimeSeconds ?? 300,
      idleTimeoutMillis: 30_000,
    },
    opts.groups ?? defaultGroups(opts.poolMax),
    { borrowAfterMs: opts.borrowAfterMs },
  );
  const { pool } = affinity;
  // An idle client losing its server (DB restart) must not crash the process.
  pool.on('error', () => {});
  const plugins = [new FastCamelCasePlugin()];
  const db = new Kysely<PublicDatabase>({ dialect: new PostgresDialect({ pool: affinity.dialectPool() }), plugins });
  if (affinity.size > 1) {
    const dbs = Array.from({ length: affinity.size }, (_, g) => new Kysely<PublicDatabase>({ dialect: new PostgresDialect({ pool: affinity.dialectPool(g) }), plugins }));
    tenantGroups.set(db, { groupOf: affinity.groupOf, dbs });
  }
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
