// What every `plinth` command shares: the database (opened as `npm start`
// does, platform migrations applied), output as text or `--json`, progress on
// a terminal, and one mapping from failures to messages and exit codes.
import { progress as clackProgress } from '@clack/prompts';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import type { OpenDatabase } from '../platform/db/open.ts';
import type { TenantMigrationSet } from '../platform/tenancy/tenant-migrations.ts';
import { isAppError } from '../platform/errors.ts';
import type { TenantDirectory } from '../platform/tenancy/directory.ts';
import type { PermissionRegistry } from '../platform/permissions.ts';
import type { CacheStore } from '../platform/cache/cache.ts';

/** Exit codes: 0 done, 1 the operation failed (or partly failed), 2 bad usage or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure the user can act on: printed without a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Runtime {
  config: Config;
  database: OpenDatabase;
  migrations: TenantMigrationSet;
  /** Platform migrations this command applied before running. */
  platformApplied: string[];
  /**
   * The tenant directory of this command, for changes that running API
   * instances cache (tenants, roles, memberships): its invalidations reach
   * every instance at once (Redis pub/sub or PostgreSQL NOTIFY). Built on
   * first use.
   */
  directory(): Promise<TenantDirectory>;
  permissions(): Promise<PermissionRegistry>;
}

export const isJson = (cmd: Command): boolean => Boolean(cmd.optsWithGlobals().json);

const info = (msg: string) => process.stderr.write(`${msg}\n`);

/** Opens the database for one command and always closes it. */
export async function withRuntime<T>(fn: (rt: Runtime) => Promise<T>, opts: { poolMax?: number } = {}): Promise<T> {
  const loaded = loadConfig();
  // Fleet runs hold one connection per tenant in flight.
  const config = { ...loaded, DB_POOL_MAX: Math.max(loaded.DB_POOL_MAX, opts.poolMax ?? 0) };
  // Loaded here, not at the top: `--help` and usage errors stay fast without the whole app graph.
  const [{ openDatabase }, { migratePlatform }, { buildTenantMigrationSet }, { modules }] = await Promise.all([
    import('../platform/db/open.ts'),
    import('../platform/db/platform-migrations.ts'),
    import('../platform/tenancy/tenant-migrations.ts'),
    import('../modules/index.ts'),
  ]);
  const database = await openDatabase(config, () => {});
  let cache: CacheStore | undefined;
  let registry: PermissionRegistry | undefined;
  const permissions = async () => {
    const { createPermissionRegistry } = await import('../platform/permissions.ts');
    return (registry ??= createPermissionRegistry(modules.flatMap((m) => (m.permissions ?? []).map((p) => ({ ...p, module: m.name })))));
  };
  let directory: TenantDirectory | undefined;
  try {
    // Cheap when nothing is pending (one query), even with thousands of tenant schemas.
    const platformApplied = await migratePlatform(database.db);
    return await fn({
      config,
      database,
      migrations: buildTenantMigrationSet(modules),
      platformApplied,
      permissions,
      async directory() {
        if (directory) return directory;
        const [{ createCacheStore }, { createTenantDirectory }] = await Promise.all([import('../platform/cache/cache.ts'), import('../platform/tenancy/directory.ts')]);
        cache = createCacheStore({ ttlMs: config.TENANT_CACHE_TTL_MS, db: database.db, redisUrl: config.REDIS_URL, warn: info });
        return (directory = createTenantDirectory(database.db, cache, await permissions()));
      },
    });
  } finally {
    await cache?.close();
    await database.close();
  }
}

/** Prints a result: JSON on stdout with --json, else the human text. */
export function output(cmd: Command, value: unknown, human: () => string) {
  if (isJson(cmd)) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** A progress bar on an interactive terminal; silent when piped or with --json. */
export function progressBar(cmd: Command, max: number, label: string) {
  if (isJson(cmd) || !process.stderr.isTTY || max === 0) return { advance: (_msg?: string) => {}, stop: (_msg?: string) => {} };
  const bar = clackProgress({ max, output: process.stderr, withGuide: false });
  bar.start(label);
  return { advance: (msg?: string) => bar.advance(1, msg), stop: (msg?: string) => bar.stop(msg) };
}

export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`${name} must be a whole number ≥ 0, got "${value}"`, EXIT.usage);
    return n;
  };
}

/** Prints a failure (as JSON with --json) and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  let code = 'error';
  let message: string;
  let exitCode: number = EXIT.failed;
  if (error instanceof CliError) {
    message = error.message;
    exitCode = error.exitCode;
  } else if (isAppError(error)) {
    code = error.code;
    message = error.detail ?? error.message;
    exitCode = error.status < 500 && error.status !== 404 && error.status !== 409 ? EXIT.usage : EXIT.failed;
  } else if (error instanceof Error && error.name === 'ConfigError') {
    code = 'invalid_config';
    message = `${error.message}\nSee .env.example for every setting.`;
    exitCode = EXIT.usage;
  } else {
    message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`error: ${message}\n`);
  return exitCode;
}

export { info };
