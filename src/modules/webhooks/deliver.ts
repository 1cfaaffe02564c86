// The event sink (deliveries written in the publishing transaction) and the
// job that delivers one of them: signed POST, logged, retried with backoff by
// the queue; a delivery that exhausts its attempts counts against the
// endpoint, which is disabled after WEBHOOKS_DISABLE_AFTER such failures in a row.
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { scopeToTenant } from '../../platform/context.ts';
import type { EventSink } from '../../platform/events/events.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { defineTenantTask } from '../../platform/jobs/tasks.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { refuseTarget } from './target.ts';
import { recordAudit } from '../../platform/audit/writer.ts';
import type { WebhookTables } from './tables.ts';

export const DELIVER_TASK = 'webhooks.deliver';
const TIMEOUT_MS = 10_000;

export function webhookSink(jobs: JobQueue): EventSink {
  return async (trx, tenant, event) => {
    const db = scopeToTenant(trx, tenant.schemaName).withTables<WebhookTables>();
    const endpoints = await db.selectFrom('webhook_endpoints').select('id').where('enabled', '=', true).where(sql<boolean>`${event.type} = any(events)`).execute();
    for (const endpoint of endpoints) {
      const id = uuidv7();
      await db.insertInto('webhook_deliveries').values({ id, endpointId: endpoint.id, eventId: event.id, eventType: event.type, payload: JSON.stringify(event) }).execute();
      await jobs.enqueue(trx, tenant.id, DELIVER_TASK, { deliveryId: id }, { jobKey: `webhook:${id}` });
    }
  };
}

export const deliverTask = defineTenantTask({
  name: DELIVER_TASK,
  payload: Type.Object({ deliveryId: Type.String({ format: 'uuid' }) }),
  maxAttempts: 8,
  async run({ deliveryId }, ctx) {
    const db = (ctx.db as Kysely<any>).withTables<WebhookTables>() as unknown as Kysely<WebhookTables>;
    const delivery = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirst();
    if (!delivery || delivery.status !== 'pending') return;
    const endpoint = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', delivery.endpointId).executeTakeFirst();
    if (!endpoint || !endpoint.enabled) {
      await db.updateTable('webhook_deliveries').set({ status: 'failed', lastError: 'endpoint disabled or removed' }).where('id', '=', deliveryId).execute();
      return;
    }
    const body = JSON.stringify(delivery.payload);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    const refused = await refuseTarget(endpoint.url, ctx.platform.config.WEBHOOKS_ALLOW_PRIVATE);
    if (refused) error = `URL ${refused}`;
    else {
      try {
        const res = await fetch(endpoint.url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(TIMEOUT_MS),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Plinth-Webhooks/1',
            [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, Math.floor(Date.now() / 1000), body),
            'plinth-event-id': delivery.eventId,
            'plinth-event-type': delivery.eventType,
            'plinth-delivery-id': delivery.id,
          },
          body,
        });
        status = res.status;
        await res.body?.cancel();
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = (e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS} ms` : (e as Error).message;
      }
    }
    const durationMs = Math.round(performance.now() - started);
    if (!error) {
      await db.updateTable('webhook_deliveries').set((eb) => ({ status: 'succeeded', attempts: eb('attempts', '+', 1), responseStatus: status, durationMs, lastError: null, deliveredAt: new Date() })).where('id', '=', deliveryId).execute();
      await db.updateTable('webhook_endpoints').set({ failureStreak: 0 }).where('id', '=', endpoint.id).execute();
      return;
    }
    const final = ctx.attempt >= ctx.maxAttempts;
    await db.updateTable('webhook_deliveries').set((eb) => ({ attempts: eb('attempts', '+', 1), responseStatus: status, durationMs, lastError: error, ...(final ? { status: 'failed' as const } : {}) })).where('id', '=', deliveryId).execute();
    if (final) {
      const after = ctx.platform.config.WEBHOOKS_DISABLE_AFTER;
      const updated = await db.updateTable('webhook_endpoints').set((eb) => ({ failureStreak: eb('failureStreak', '+', 1) })).where('id', '=', endpoint.id).returning(['failureStreak']).executeTakeFirst();
      if (updated && updated.failureStreak >= after) {
        await ctx.db.transaction().execute(async (trx) => {
          await trx.withTables<WebhookTables>().updateTable('webhook_endpoints').set({ enabled: false, disabledAt: new Date() }).where('id', '=', endpoint.id).execute();
          // A system action (no actor): the trail shows why deliveries stopped.
          await recordAudit(trx, { actorId: null, requestId: null, ip: null, userAgent: null }, { action: 'webhooks.endpoint.disabled', targetType: 'webhook_endpoint', targetId: endpoint.id, details: { failureStreak: updated.failureStreak } });
        });
        ctx.log.warn({ endpointId: endpoint.id, failures: updated.failureStreak }, 'webhook endpoint disabled after repeated failures');
      }
    }
    throw new Error(`Webhook delivery ${deliveryId} failed: ${error}`);
  },
});
