// The sync job: one per tenant at a time (a per-tenant queue, plus an
// advisory lock as a second guard).
// A 401/403 from HubSpot marks the connection `auth_failed` and stops without
// retrying; other failures are recorded on the run and retried by the queue.
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import type { EnqueueOptions, JobQueue } from '../../platform/jobs/queue.ts';
import { defineTenantTask } from '../../platform/jobs/tasks.ts';
import { secretBox } from '../../platform/secrets.ts';
import { hubspotClient, HubSpotError } from './client.ts';
import * as repo from './repository.ts';
import { runSync } from './sync.ts';

export const SYNC_TASK = 'hubspot.sync';

export const syncJobOptions = (tenantId: string): EnqueueOptions => ({ queueName: `hubspot:${tenantId}` });

/**
 * The periodic run of a connected tenant: one job per tenant, keyed, moved to
 * HUBSPOT_SYNC_INTERVAL_MINUTES after every run (so a tenant syncs at most that
 * long after its last run, whatever started it). Only connected tenants carry
 * one, unlike the fleet-wide daily fan-out, which would wake every tenant.
 */
export const scheduleNextSync = (db: Kysely<any>, jobs: JobQueue, tenantId: string, minutes: number) =>
  jobs.enqueue(db, tenantId, SYNC_TASK, { trigger: 'schedule' }, { ...syncJobOptions(tenantId), jobKey: `hubspot-scheduled:${tenantId}`, runAt: new Date(Date.now() + minutes * 60_000) });

const Ids = Type.Array(Type.String({ pattern: '^[0-9]{1,20}$' }), { maxItems: 1000 });

export const syncTask = defineTenantTask({
  name: SYNC_TASK,
  payload: Type.Object({
    trigger: Type.Optional(Type.Union([Type.Literal('manual'), Type.Literal('schedule'), Type.Literal('webhook'), Type.Literal('resolve'), Type.Literal('change')])),
    full: Type.Optional(Type.Boolean()),
    only: Type.Optional(Type.Object({ company: Type.Optional(Ids), contact: Type.Optional(Ids), deal: Type.Optional(Ids) }, { additionalProperties: false })),
  }),
  maxAttempts: 5,
  async run(data, ctx) {
    const db = repo.hsDb(ctx.db);
    const conn = await repo.getConnection(db);
    if (!conn || conn.status === 'auth_failed') return;
    const platform = ctx.platform;
    await platform.db.connection().execute(async (session) => {
      const key = `hubspot-sync:${ctx.tenant.id}`;
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(hashtext(${key})) as locked`.execute(session);
      if (!rows[0]!.locked) throw new Error('Another HubSpot sync of this tenant is running; retrying later');
      const runId = uuidv7();
      try {
        await db.insertInto('hubspotSyncRuns').values({ id: runId, trigger: data.trigger ?? 'schedule', status: 'running', counts: JSON.stringify(repo.emptyCounts()), errors: '[]', startedAt: new Date(), finishedAt: null }).execute();
        const token = (await secretBox(platform, ctx.log)).decrypt(conn.tokenEnc, `hubspot.token:${ctx.tenant.id}`);
        const client = hubspotClient({ baseUrl: platform.config.HUBSPOT_API_BASE, token });
        try {
          const result = await runSync({ db, client, conn, batch: platform.config.HUBSPOT_SYNC_BATCH, log: ctx.log }, { full: data.full, only: data.only });
          await db.updateTable('hubspotSyncRuns').set({ status: 'succeeded', counts: JSON.stringify(result.counts), errors: JSON.stringify(result.errors), finishedAt: new Date() }).where('id', '=', runId).execute();
          ctx.log.info({ runId, counts: result.counts, throttled: client.throttled }, 'hubspot sync finished');
          await scheduleNextSync(platform.db, platform.jobs, ctx.tenant.id, platform.config.HUBSPOT_SYNC_INTERVAL_MINUTES);
        } catch (e) {
          const message = (e as Error).message.slice(0, 500);
          await db.updateTable('hubspotSyncRuns').set({ status: 'failed', errors: JSON.stringify([{ object: 'run', id: null, message }]), finishedAt: new Date() }).where('id', '=', runId).execute();
          if (e instanceof HubSpotError && (e.status === 401 || e.status === 403)) {
            await db.updateTable('hubspotConnection').set({ status: 'auth_failed', updatedAt: new Date() }).execute();
            ctx.log.warn({ runId, status: e.status }, 'hubspot refused the token: connection marked auth_failed');
            return;
          }
          await scheduleNextSync(platform.db, platform.jobs, ctx.tenant.id, platform.config.HUBSPOT_SYNC_INTERVAL_MINUTES);
          throw e;
        }
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${key}))`.execute(session);
      }
    });
  },
});
