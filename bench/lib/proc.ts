// Process figures from /proc (Linux): CPU time and peak memory of a server
// process, and the memory of the PostgreSQL backends serving a database.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type pg from 'pg';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function statusKb(pid: number, key: string): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0;
  }
}

/** Peak resident memory (VmHWM) in MiB. */
export const peakRssMb = (pid: number) => statusKb(pid, 'VmHWM') / 1024;

/** Memory a process holds for itself alone (private pages, not shared buffers), in KiB. */
function privateKb(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    let kb = 0;
    for (const m of rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kb += Number(m[1]);
    return kb;
  } catch {
    return 0;
  }
}

/** Process ids of the backends connected to `database` (from pg_stat_activity). */
export async function backendPids(pool: pg.Pool, database: string, applicationName?: string): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid() and ($2::text is null or application_name = $2)",
    [database, applicationName ?? null],
  );
  return rows.map((r) => r.pid);
}

export interface BackendMemory {
  backends: number;
  /** Sum of VmRSS (counts the shared buffers each backend touched, so it overstates). */
  rssMb: number;
  /** Sum of private memory: catalog caches, plans, work memory. */
  privateMb: number;
}

/** Memory of the backends serving `applicationName` (the server under test) on `database`. */
export async function backendMemory(pool: pg.Pool, database: string, applicationName: string): Promise<BackendMemory> {
  const pids = await backendPids(pool, database, applicationName);
  let rss = 0;
  let priv = 0;
  for (const pid of pids) {
    rss += statusKb(pid, 'VmRSS');
    priv += privateKb(pid);
  }
  return { backends: pids.length, rssMb: rss / 1024, privateMb: priv / 1024 };
}

/** A per-process counter (CPU seconds, run-queue seconds) read for each of `pids`; unreadable (gone) ones are left out. */
export function readEach(pids: number[], read: (pid: number) => number): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) if (existsSync(`/proc/${pid}`)) out.set(pid, read(pid));
  return out;
}

/**
 * How much a per-process counter grew over a window, summed over backends: those present at both ends
 * count their growth, those that appeared during it count all of theirs. Backends that ended during the
 * window (connections recycled) are lost with their last part, so with recycling this undercounts; it
 * never goes negative, as a plain before/after sum did when a backend exited.
 */
export function growth(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, value] of after) sum += Math.max(0, value - (before.get(pid) ?? 0));
  return sum;
}

/**
 * Seconds a thread has spent runnable but waiting for a CPU (the second field of
 * /proc/<pid>/schedstat; 0 when it is gone or the kernel keeps no schedstats).
 * For a process id this is its main thread: for Node, the event loop's own wait.
 */
export function runQueueSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return 0;
  }
}


/**
 * A database's buffer counters (pg_stat_database: blocks read from outside shared buffers, and hits),
 * read after a pause: backends report them at most once a second.
 */
export async function blockCounters(db: pg.Pool | pg.Client, database: string): Promise<{ read: number; hit: number }> {
  await new Promise((r) => setTimeout(r, 1100));
  const { rows } = await db.query<{ read: string; hit: string }>('select blks_read as read, blks_hit as hit from pg_stat_database where datname = $1', [database]);
  return { read: Number(rows[0]?.read ?? 0), hit: Number(rows[0]?.hit ?? 0) };
}
