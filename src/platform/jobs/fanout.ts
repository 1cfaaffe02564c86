// One cron for the whole fleet (graphile's cron advice: never one schedule per
// tenant). Each night it enqueues every tenant task marked `daily` once per
// active tenant; the job key (task, tenant, day) makes a re-run or a backfill
// add nothing twice.
import { Type } from 'typebox';
import type { CronItem } from 'graphile-worker';
import { definePlatformTask } from './tasks.ts';

export const DAILY_FANOUT_TASK = 'platform.dailyFanout';

export const cronItems: CronItem[] = [
  // Backfill one missed run (a worker down at 03:00 still fans out that day).
  { task: DAILY_FANOUT_TASK, match: '0 3 * * *', identifier: DAILY_FANOUT_TASK, options: { backfillPeriod: 24 * 3600 * 1000 } },
  // Keeps the spare-schema pool topped up even when no sign-up enqueued a refill (e.g. after a deploy added migrations).
  { task: 'tenancy.sparesRefill', match: '17 * * * *', identifier: 'tenancy.sparesRefill', options: { jobKey: 'tenancy.sparesRefill', queueName: 'tenancy.sparesRefill' } },
];

export const dailyFanoutTask = definePlatformTask({
  name: DAILY_FANOUT_TASK,
  payload: Type.Object({}),
  async run(_data, { platform, log }) {
    const daily = platform.jobs.tasks.all().filter((t) => t.scope === 'tenant' && t.daily);
    if (daily.length === 0) return;
    const day = new Date().toISOString().slice(0, 10);
    const tenants = await platform.db.selectFrom('tenants').select('id').where('status', '=', 'active').execute();
    await platform.db.transaction().execute(async (trx) => {
      for (const tenant of tenants) {
        for (const task of daily) await platform.jobs.enqueue(trx, tenant.id, task.name, {}, { jobKey: `${task.name}:${tenant.id}:${day}` });
      }
    });
    log.info({ tenants: tenants.length, tasks: daily.map((t) => t.name) }, 'daily fan-out enqueued');
  },
});
