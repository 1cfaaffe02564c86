// Process figures from /proc (Linux): CPU time and peak memory of a server
// process, and the memory of the PostgreSQL backends serving a database.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

export interface BackendMemory {
  backends: number;
  /** Sum of VmRSS (counts the shared buffers each backend touched, so it overstates). */
  rssMb: number;
  /** Sum of private memory: catalog caches, plans, work memory. */
  privateMb: number;
}

/**
 * Process ids of the backends serving process `serverPid`'s connections to `database`: those whose client port is a
 * local port of one of its TCP sockets (/proc/<pid>/fd, /proc/net/tcp). Its pool and its LISTEN connections alike,
 * whatever their application_name, and not those of another server of its kind running at once (the scaling
 * benchmark's fixed-rate phases run two).
 */
export async function backendPidsOfProcess(pool: pg.Pool, database: string, serverPid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${serverPid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${serverPid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/); // sl local_address rem_address st ... uid timeout inode
      if (f.length > 9 && inodes.has(f[9]!)) ports.push(Number.parseInt(f[1]!.split(':').at(-1)!, 16));
    }
  }
  const { rows } = await pool.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend' and client_port = any($2::int[])", [database, ports]);
  return rows.map((r) => r.pid);
}

/** Memory of the backends serving the server process `serverPid` on `database`. */
export async function backendMemory(pool: pg.Pool, database: string, serverPid: number): Promise<BackendMemory> {
  const pids = await backendPidsOfProcess(pool, database, serverPid);
  let rss = 0;
  let priv = 0;
  for (const pid of pids) {
    rss += statusKb(pid, 'VmRSS');
    priv += privateKb(pid);
  }
  return { backends: pids.length, rssMb: rss / 1024, privateMb: priv / 1024 };
}

export const sumCpu = (pids: number[]) => pids.reduce((s, pid) => s + cpuSeconds(pid), 0);

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
 * A database's buffer counters (pg_stat_database: blocks read from outside shared buffers, and hits) and the
 * sessions opened on it so far, read after a pause: backends report them at most once a second.
 */
export async function blockCounters(db: pg.Pool | pg.Client, database: string): Promise<{ read: number; hit: number; sessions: number }> {
  await new Promise((r) => setTimeout(r, 1100));
  const { rows } = await db.query<{ read: string; hit: string; sessions: string }>('select blks_read as read, blks_hit as hit, sessions from pg_stat_database where datname = $1', [database]);
  return { read: Number(rows[0]?.read ?? 0), hit: Number(rows[0]?.hit ?? 0), sessions: Number(rows[0]?.sessions ?? 0) };
}

/**
 * Busy, steal and total jiffies of the whole machine so far (/proc/stat's first line; steal counts as busy, iowait
 * as idle). Steal is time the hypervisor gave this VM's virtual cores to another guest: work waits for it as for a
 * busy core, and no process's own CPU time shows it.
 */
function machineJiffies(): { busy: number; steal: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, steal: f[7]!, total };
}

/**
 * PostgreSQL processes on the machine by what their command line says: autovacuum workers, and the client
 * backends of `database` ("postgres: [<cluster name>: ]<user> <database> <host>(<port>) <state>").
 */
function postgresProcesses(database: string | undefined): { autovacuum: number[]; backends: number[] } {
  const out = { autovacuum: [] as number[], backends: [] as number[] };
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (!cmd.startsWith('postgres: ')) continue;
    if (cmd.includes('autovacuum worker')) out.autovacuum.push(Number(name));
    else if (database && /^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmd)?.[1] === database) out.backends.push(Number(name));
  }
  return out;
}

/**
 * A per-process counter summed over a changing set of processes, sampled: processes present at the start
 * count from there, later ones whole; what a process adds after its last sample (it exited) is missed.
 */
function tracker(read: (pid: number) => number) {
  const seen = new Map<number, { first: number; last: number }>();
  return {
    start(pids: number[]) {
      for (const pid of pids) {
        const v = read(pid);
        seen.set(pid, { first: v, last: v });
      }
    },
    sample(pids: number[]) {
      for (const pid of pids) {
        const v = read(pid);
        const s = seen.get(pid);
        if (s) s.last = Math.max(s.last, v);
        else seen.set(pid, { first: 0, last: v });
      }
    },
    total: () => [...seen.values()].reduce((n, s) => n + s.last - s.first, 0),
  };
}

export interface MachineTimeline {
  /** Share of the sampling intervals in which every core was busy (≥ 95%): the machine saturated. */
  saturatedShare: number;
  /** Share of the machine's CPU time the hypervisor stole over the window, and in its worst sampling interval. */
  stealShare: number;
  maxIntervalStealShare: number;
  /** CPU seconds autovacuum workers used over the window. */
  autovacuumCpuS: number;
  /** CPU seconds and seconds waiting for a core of the database's client backends, those opened and closed during the window included. */
  dbCpuS: number;
  dbRunQueueS: number;
}

/**
 * Samples the whole machine every `everyMs` from /proc alone (no query, no request to the server under test, so
 * it disturbs nothing it measures): how often all cores were busy, what autovacuum's workers spent, and what the
 * backends of `database` spent (followed as connections open and close: a before/after sum over the backends
 * present at the start misses those a pool opens and closes during the run). On a database with thousands of
 * schemas a worker's visit reads the whole catalog (seconds of one core), which can saturate a small machine
 * for that long: this says whether it did in a given window.
 */
export function sampleMachine(database?: string, everyMs = 200): () => MachineTimeline {
  const first0 = machineJiffies();
  let last = first0;
  let saturated = 0;
  let maxSteal = 0;
  let samples = 0;
  const autovacuum = tracker(cpuSeconds);
  const backendCpu = tracker(cpuSeconds);
  const backendQueue = tracker(runQueueSeconds);
  const first = postgresProcesses(database);
  autovacuum.start(first.autovacuum);
  backendCpu.start(first.backends);
  backendQueue.start(first.backends);
  const tick = () => {
    const now = machineJiffies();
    const total = now.total - last.total;
    if (total > 0) {
      samples++;
      if ((now.busy - last.busy) / total >= 0.95) saturated++;
      maxSteal = Math.max(maxSteal, (now.steal - last.steal) / total);
    }
    last = now;
    const procs = postgresProcesses(database);
    autovacuum.sample(procs.autovacuum);
    backendCpu.sample(procs.backends);
    backendQueue.sample(procs.backends);
  };
  const timer = setInterval(tick, everyMs);
  return () => {
    clearInterval(timer);
    tick();
    const stealShare = last.total > first0.total ? (last.steal - first0.steal) / (last.total - first0.total) : 0;
    return { saturatedShare: samples > 0 ? saturated / samples : 0, stealShare, maxIntervalStealShare: maxSteal, autovacuumCpuS: autovacuum.total(), dbCpuS: backendCpu.total(), dbRunQueueS: backendQueue.total() };
  };
}
