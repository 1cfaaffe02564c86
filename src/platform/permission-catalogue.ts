// Copies the in-code permission registry (the source of truth) to
// `public.permissions` at boot, so SQL reports and outside tools can join on
// permission keys. Keys no module registers any more are removed. One
// transaction under an advisory lock: instances booting together do not
// interleave.
import { sql, type Kysely } from 'kysely';
import type { PublicDatabase } from './db/public-tables.ts';
import type { PermissionRegistry } from './permissions.ts';

export async function syncPermissionCatalogue(db: Kysely<PublicDatabase>, registry: PermissionRegistry): Promise<{ upserted: number; removed: number }> {
  const rows = registry
    .all()
    .map((p) => ({ key: p.key, module: p.module, resource: p.resource, action: p.action, description: p.description, recordScope: p.recordScope === true }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('plinth:permission-catalogue'))`.execute(trx);
    if (rows.length > 0) {
      await trx
        .insertInto('permissions')
        .values(rows)
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            module: eb.ref('excluded.module'),
            resource: eb.ref('excluded.resource'),
            action: eb.ref('excluded.action'),
            description: eb.ref('excluded.description'),
            recordScope: eb.ref('excluded.recordScope'),
            updatedAt: new Date(),
          })),
        )
        .execute();
    }
    const removed = await trx
      .deleteFrom('permissions')
      .$if(rows.length > 0, (q) => q.where('key', 'not in', rows.map((r) => r.key)))
      .executeTakeFirst();
    return { upserted: rows.length, removed: Number(removed.numDeletedRows) };
  });
}
