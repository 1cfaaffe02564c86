// Outbound without waiting for the daily run: a domain event about a company,
// contact or deal of a connected tenant schedules a sync HUBSPOT_PUSH_DELAY_SECONDS
// later. The job key makes a burst of edits one run (each event moves it later:
// a debounce), and the job is written in the business transaction like the event.
import type { EventSink } from '../../platform/events/events.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { scopeToTenant } from '../../platform/context.ts';
import * as repo from './repository.ts';
import { SYNC_TASK, syncJobOptions } from './tasks.ts';

const CRM_EVENT = /^crm\.(company|contact|deal)\./;

export function pushOnChange(jobs: JobQueue, delaySeconds: number): EventSink {
  return async (trx, tenant, event) => {
    if (!CRM_EVENT.test(event.type)) return;
    const conn = await repo.getConnection(repo.hsDb(scopeToTenant(trx, tenant.schemaName)));
    if (!conn || conn.status !== 'connected') return;
    await jobs.enqueue(trx, tenant.id, SYNC_TASK, { trigger: 'change' }, { ...syncJobOptions(tenant.id), jobKey: `hubspot-push:${tenant.id}`, runAt: new Date(Date.now() + delaySeconds * 1000) });
  };
}
