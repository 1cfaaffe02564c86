// graphile-worker keeps its own schema (`graphile_worker`) and its own
// migration ledger; installing it is idempotent and safe to race (it retries
// when another process installs at the same moment). A one-connection pool of
// its own: graphile installs error listeners on the pool it is given.
import { runMigrations } from 'graphile-worker';
import pg from 'pg';
import { graphileLogger } from './logger.ts';

export async function installJobSchema(pool: pg.Pool): Promise<void> {
  const own = new pg.Pool({ ...pool.options, max: 1 });
  own.on('error', () => {});
  own.on('connect', (client) => client.on('error', () => {}));
  try {
    await runMigrations({ pgPool: own, logger: graphileLogger(undefined) });
  } finally {
    await own.end();
  }
}
