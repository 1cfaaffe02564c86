// The database a bench run works in: a fresh `plinth_bench_<ts>` database on
// the PostgreSQL server named by DATABASE_URL (dropped at the end), or, when
// DATABASE_URL is unset, an embedded PostgreSQL in a temporary folder.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, type Db } from '../../src/platform/db/database.ts';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres.ts';
import { migratePlatform } from '../../src/platform/db/platform-migrations.ts';

export interface BenchDatabase {
  url: string;
  name: string;
  /** The PostgreSQL the run uses, for the startup benchmark's report. */
  where: string;
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export async function openBenchDatabase(serverUrl: string | undefined): Promise<BenchDatabase> {
  let url: string;
  let cleanup: () => Promise<void>;
  let where: string;
  if (serverUrl) {
    const name = `plinth_bench_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    url = u.href;
    where = 'PostgreSQL from DATABASE_URL';
    cleanup = async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    };
  } else {
    // As root, the embedded server runs as `postgres`, which must be able to enter the folder.
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-pg-'));
    chmodSync(dataDir, 0o755);
    const embedded = await startEmbeddedPostgres({ dataDir, port: 0 });
    url = embedded.url;
    where = 'embedded PostgreSQL';
    cleanup = async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const { db, pool } = createDatabase({ url, poolMax: 8, statementTimeoutMs: 0, applicationName: 'plinth-bench-harness' });
  await migratePlatform(db);
  return {
    url,
    name: new URL(url).pathname.slice(1),
    where,
    db,
    pool,
    async close() {
      await db.destroy();
      await cleanup();
    },
  };
}
