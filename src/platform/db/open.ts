// Opens the database Plinth runs on: DATABASE_URL when set, otherwise the
// embedded PostgreSQL in the data folder. Shared by `npm start` and scripts.
import type { Config } from '../../config.ts';
import { createDatabase, type Db } from './database.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
import type pg from 'pg';

export interface OpenDatabase {
  db: Db;
  pool: pg.Pool;
  embedded: EmbeddedPostgres | undefined;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: (msg: string) => void): Promise<OpenDatabase> {
  const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: config.PLINTH_DATA_DIR, port: config.EMBEDDED_PG_PORT, log });
  const url = config.DATABASE_URL ?? embedded!.url;
  const { db, pool } = createDatabase({ url, poolMax: config.DB_POOL_MAX, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS, maxLifetimeSeconds: config.DB_POOL_MAX_LIFETIME_SECONDS, groups: config.DB_POOL_GROUPS || undefined, borrowAfterMs: config.DB_POOL_BORROW_AFTER_MS });
  return {
    db,
    pool,
    embedded,
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
