// The pool of spare tenant schemas. Sign-up must not run every migration on
// the request path (research/multitenancy.md: ~30 s per tenant elsewhere), so
// schemas are created and fully migrated ahead of time under a fresh tenant id
// and sign-up claims one in its own short transaction. The claim locks the
// row with FOR UPDATE SKIP LOCKED, so two concurrent sign-ups never get the
// same schema and never wait on each other.
import { sql, type Transaction } from 'kysely';
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
    if (!rows[0]?.locked) return { created: 0, migrated: 0, ready: (await sparePoolStatus(db, set)).ready };
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
 * A refill that runs in the background of a long-lived process (the API)
 * after claims; calls while one runs are folded into it.
 */
export function createSpareRefiller(db: Db, set: TenantMigrationSet, size: number, onError: (error: unknown) => void) {
  let running: Promise<unknown> | undefined;
  return {
    refillSoon() {
      if (size <= 0 || running) return;
      running = refillSpares(db, set, { size })
        .catch(onError)
        .finally(() => {
          running = undefined;
        });
    },
    /** Resolves when the current refill (if any) is over. */
    async idle() {
      await running;
    },
  };
}

export type SpareRefiller = ReturnType<typeof createSpareRefiller>;
