// Retention (AUDIT_RETENTION_DAYS): a daily tenant task deletes rows older
// than the retention period and moves the chain's anchor to the last deleted
// row, so verification starts from there. The purge itself is audited.
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { TenantDb } from '../context.ts';
import { defineTenantTask } from '../jobs/tasks.ts';
import type { AuditTables } from './tables.ts';
import { recordAudit } from './writer.ts';

export async function purgeAudit(db: TenantDb, retentionDays: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const adb = (trx as unknown as TenantDb).withTables<AuditTables>();
    // Lock the head: no writer appends while the anchor moves.
    await adb.updateTable('auditHead').set((eb) => ({ seq: eb.ref('seq') })).where('id', '=', true).execute();
    const last = await adb
      .selectFrom('auditLog')
      .select(['seq', 'hash'])
      .where('occurredAt', '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last) return 0;
    await sql`set local plinth.audit_purge = 'on'`.execute(trx);
    const deleted = await adb.deleteFrom('auditLog').where('seq', '<=', last.seq).executeTakeFirst();
    await sql`set local plinth.audit_purge = 'off'`.execute(trx);
    await adb.updateTable('auditHead').set({ anchorSeq: last.seq, anchorHash: last.hash }).where('id', '=', true).execute();
    const count = Number(deleted.numDeletedRows);
    await recordAudit(trx as unknown as TenantDb, { actorId: null, requestId: null, ip: null, userAgent: null }, {
      action: 'audit.purged',
      details: { throughSeq: Number(last.seq), rows: count, retentionDays },
    });
    return count;
  });
}

export const auditPurgeTask = defineTenantTask({
  name: 'audit.purge',
  payload: Type.Object({}),
  daily: true,
  async run(_data, ctx) {
    const days = ctx.platform.config.AUDIT_RETENTION_DAYS;
    if (days <= 0) return;
    const rows = await purgeAudit(ctx.db, days);
    if (rows > 0) ctx.log.info({ rows, days }, 'audit rows past retention purged');
  },
});
