// The pool of spare tenant schemas. Sign-up must not run every migration on
// the request path (research/multitenancy.md: ~30 s per tenant elsewhere), so
// schemas are created and fully migrated ahead of time under a fresh tenant id
// and sign-up claims one in its own short transaction. The claim locks the
// row with FOR UPDATE SKIP LOCKED, so two concurrent sign-ups never get the
// same schema and never wait on each other.
import { sql, type Kysely, type Transaction } from 'kysely';
import { Type } from 'typebox';
import { definePlatformTask } from '../jobs/tasks.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/database.ts';
import type { PublicDatabase } from '../db/public-tables.ts';
import { fleetDb } from './fleet-tables.ts';
import { schemaNameFor } from './schema-name.ts';
import { migrateTenantSchema, type TenantMigrationSet } from './tenant-migrations.ts';

export interface SparePoolStatus {
  /** Spares at the code's latest version, ready to claim. */
  ready: number;
  /** Spares at an older version (migrated by the next refill before being claimable). */
  behind: number;
}

export async function sparePoolStatus(db: Db, set: TenantMigrationSet): Promise<SparePoolStatus> {
  const row = await fleetDb(db)
    .selectFrom('tenantSpares')
    .select([
      sql<number>`count(*) filter (where schema_version is not distinct from ${set.latest})::int`.as('ready'),
      sql<number>`count(*) filter (where schema_version is distinct from ${set.latest})::int`.as('behind'),
    ])
    .executeTakeFirstOrThrow();
  return row;
}

/**
 * Takes one ready spare inside the caller's (provisioning) transaction, or
 * returns null when none is ready. The spare row is deleted by the same
 * transaction, so a rollback puts it back in the pool.
 */
export async function claimSpare(trx: Transaction<PublicDatabase>, set: TenantMigrationSet): Promise<{ tenantId: string; schemaName: string } | null> {
  const spare = await fleetDb(trx)
    .selectFrom('tenantSpares')
    .select(['tenantId', 'schemaName'])
    .where(sql<boolean>`schema_version is not distinct from ${set.latest}`)
    .orderBy('createdAt')
    .limit(1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  if (!spare) return null;
  await fleetDb(trx).deleteFrom('tenantSpares').where('tenantId', '=', spare.tenantId).execute();
  return spare;
}

export interface RefillResult {
  created: number;
  migrated: number;
  ready: number;
  /** Another refill held the pool's lock: this one did nothing. */
  busy?: true;
}

/**
 * Migrates spares that are behind, then creates spares until `size` are ready.
 * Safe to run from several processes at once: each spare is its own
 * transaction, and a process-wide advisory lock keeps two refills from both
 * topping the pool up (the second returns at once).
 */
export async function refillSpares(db: Db, set: TenantMigrationSet, opts: { size: number; onProgress?: (done: number, total: number) => void }): Promise<RefillResult> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(hashtext('plinth.tenant_spares.refill')) as locked`.execute(conn);
    if (!rows[0]?.locked) return { created: 0, migrated: 0, ready: (await sparePoolStatus(db, set)).ready, busy: true };
    try {
      const behind = await fleetDb(db).selectFrom('tenantSpares').select('schemaName').where(sql<boolean>`schema_version is distinct from ${set.latest}`).execute();
      for (const spare of behind) await migrateSpare(db, set, spare.schemaName);
      const { ready } = await sparePoolStatus(db, set);
      const missing = Math.max(0, opts.size - ready);
      for (let i = 0; i < missing; i++) {
        await createSpare(db, set);
        opts.onProgress?.(i + 1, missing);
      }
      return { created: missing, migrated: behind.length, ready: ready + missing };
    } finally {
      await sql`select pg_advisory_unlock(hashtext('plinth.tenant_spares.refill'))`.execute(conn);
    }
  });
}

async function createSpare(db: Db, set: TenantMigrationSet): Promise<string> {
  const tenantId = uuidv7();
  const schemaName = schemaNameFor(tenantId);
  await db.transaction().execute(async (trx) => {
    await fleetDb(trx).insertInto('tenantSpares').values({ tenantId, schemaName, schemaVersion: null }).execute();
    await migrateTenantSchema(trx, schemaName, set);
    await fleetDb(trx).updateTable('tenantSpares').set({ schemaVersion: set.latest }).where('tenantId', '=', tenantId).execute();
  });
  return schemaName;
}

async function migrateSpare(db: Db, set: TenantMigrationSet, schemaName: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Skip a spare another transaction is claiming right now.
    const locked = await fleetDb(trx).selectFrom('tenantSpares').select('tenantId').where('schemaName', '=', schemaName).forUpdate().skipLocked().executeTakeFirst();
    if (!locked) return;
    await migrateTenantSchema(trx, schemaName, set);
    await fleetDb(trx).updateTable('tenantSpares').set({ schemaVersion: set.latest }).where('schemaName', '=', schemaName).execute();
  });
}

/**
 * The refill as a background job (a platform task): sign-up enqueues it in its
 * own transaction once it claimed a spare, and a cron runs it hourly, so the
 * pool is topped up by whichever worker is free, never on the request path,
 * and a refill that fails is retried with backoff like any job. The job key
 * folds a burst of sign-ups into one waiting refill.
 */
export const SPARES_REFILL_TASK = 'tenancy.sparesRefill';

export const sparesRefillTask = definePlatformTask({
  name: SPARES_REFILL_TASK,
  payload: Type.Object({}),
  maxAttempts: 5,
  async run(_data, { platform, log }) {
    const size = platform.config.TENANT_SPARE_POOL_SIZE;
    if (size <= 0) return;
    const result = await refillSpares(platform.db, platform.migrations, { size });
    log.info({ ...result }, result.busy ? 'spare pool refill skipped: another refill is running' : 'spare pool refilled');
  },
});

/** Enqueues a refill on `db` (pass the sign-up transaction: no refill for a rolled-back claim). */
export const enqueueSparesRefill = (jobs: JobQueue, db: Kysely<any>) => jobs.enqueue(db, null, SPARES_REFILL_TASK, {}, { jobKey: SPARES_REFILL_TASK, queueName: SPARES_REFILL_TASK });
