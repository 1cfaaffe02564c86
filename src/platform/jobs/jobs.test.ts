// Jobs: transactional enqueue, tenant context in handlers, retries with
// backoff into the failure list, retry/discard through the API, the daily
// fan-out cron with idempotency keys, draining on stop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { modules } from '../../modules/index.ts';
import type { PlinthModule } from '../module.ts';
import { defineTenantTask } from './tasks.ts';
import { DAILY_FANOUT_TASK } from './fanout.ts';

// Test tasks, uniquely named per run so no other test file's worker picks them.
const run = Math.random().toString(36).slice(2, 8);
const seen: Array<{ tenant: string; n: number; rows: number }> = [];
const started: Array<() => void> = [];
const testModule: PlinthModule = {
  name: 'jobtest',
  tasks: [
    defineTenantTask({
      name: `test${run}.record`,
      payload: Type.Object({ n: Type.Integer() }),
      async run(data, ctx) {
        // The handler gets the tenant's scoped db: this counts rows in the tenant's own contacts table.
        const row = await (ctx.db as Kysely<any>).selectFrom('contacts').select(sql<number>`count(*)::int`.as('c')).executeTakeFirstOrThrow();
        seen.push({ tenant: ctx.tenant.id, n: data.n, rows: row.c as number });
      },
    }),
    defineTenantTask({
      name: `test${run}.fail`,
      payload: Type.Object({}),
      maxAttempts: 2,
      async run() {
        throw new Error('boom');
      },
    }),
    defineTenantTask({
      name: `test${run}.slow`,
      payload: Type.Object({}),
      async run() {
        await new Promise<void>((resolve) => {
          started.push(resolve);
          setTimeout(resolve, 600);
        });
        seen.push({ tenant: 'slow', n: -1, rows: 0 });
      },
    }),
    defineTenantTask({ name: `test${run}.daily`, payload: Type.Object({}), daily: true, async run() {} }),
  ],
  routes: async () => {},
};

// This file's workers run only its own tasks (and the fan-out), never other files' jobs.
const only = `test${run}.*,${DAILY_FANOUT_TASK}`;
let h: Harness;
let a: TestTenant;
let b: TestTenant;
const allModules = [...modules, testModule];

beforeAll(async () => {
  h = await startApp({ modules: allModules, config: { JOBS_IN_API: 'true', JOBS_CRON: 'false', JOBS_POLL_INTERVAL_MS: '200', JOBS_TASKS: only } });
  [a, b] = await Promise.all([createTenant(h, 'ja'), createTenant(h, 'jb')]);
});
afterAll(() => h?.close());

const jobs = () => h.app.platform.jobs;
const until = async (check: () => boolean | Promise<boolean>, ms = 8000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};
const jobRow = async (id: string) =>
  (await sql<{ attempts: number; maxAttempts: number; runAt: Date; lastError: string | null; lockedAt: Date | null }>`select attempts, max_attempts, run_at, last_error, locked_at from graphile_worker._private_jobs where id = ${id}::bigint`.execute(h.db)).rows[0];
// graphile-worker counts an attempt when it locks the job: wait until that attempt has failed and released the job.
const failedTimes = async (id: string, n: number) => {
  const r = await jobRow(id);
  return r?.attempts === n && r.lockedAt === null && r.lastError !== null;
};
const jobsWithKey = async (key: string) => (await sql<{ c: number }>`select count(*)::int as c from graphile_worker._private_jobs where key = ${key}`.execute(h.db)).rows[0]!.c;

describe('enqueue', () => {
  it('runs a committed job with its tenant context', async () => {
    await h.db.transaction().execute((trx) => jobs().enqueue(trx, a.tenant.id, `test${run}.record`, { n: 1 }));
    await until(() => seen.some((s) => s.n === 1));
    expect(seen.find((s) => s.n === 1)).toEqual({ tenant: a.tenant.id, n: 1, rows: 0 });
  });

  it('a rolled-back transaction leaves no job', async () => {
    const key = `rollback-${run}`;
    await expect(
      h.db.transaction().execute(async (trx) => {
        await jobs().enqueue(trx, a.tenant.id, `test${run}.record`, { n: 2 }, { jobKey: key });
        expect(await jobsWithKey(key)).toBe(0); // not visible outside the transaction
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    expect(await jobsWithKey(key)).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(seen.some((s) => s.n === 2)).toBe(false);
  });

  it('an idempotency key keeps one waiting job', async () => {
    const key = `idem-${run}`;
    const later = new Date(Date.now() + 3600_000);
    const first = await jobs().enqueue(h.db, a.tenant.id, `test${run}.record`, { n: 3 }, { jobKey: key, runAt: later });
    const second = await jobs().enqueue(h.db, a.tenant.id, `test${run}.record`, { n: 4 }, { jobKey: key, runAt: later });
    expect(second.id).toBe(first.id);
    expect(await jobsWithKey(key)).toBe(1);
  });

  it('refuses an unknown task, a missing tenant and an invalid payload before writing', async () => {
    await expect(jobs().enqueue(h.db, a.tenant.id, 'nope.task', {})).rejects.toThrow('No task "nope.task"');
    await expect(jobs().enqueue(h.db, null, `test${run}.record`, { n: 1 })).rejects.toThrow('runs for a tenant');
    await expect(jobs().enqueue(h.db, a.tenant.id, `test${run}.record`, { n: 'x' })).rejects.toThrow('/n');
  });
});

describe('failures', () => {
  let failedId: string;

  it('a failing job retries with backoff, then lands in the failure list', async () => {
    const { id } = await jobs().enqueue(h.db, a.tenant.id, `test${run}.fail`, {});
    await until(() => failedTimes(id, 1));
    const afterFirst = (await jobRow(id))!;
    expect(afterFirst.lastError).toContain('boom');
    // graphile-worker's backoff: exp(min(attempts, 10)) seconds, so e^1 ≈ 2.7 s after the first failure.
    const delay = afterFirst.runAt.getTime() - Date.now();
    expect(delay).toBeGreaterThan(1000);
    expect(delay).toBeLessThan(3000);
    await until(() => failedTimes(id, 2), 10_000);
    const res = await as(h, a, 'admin')({ method: 'GET', url: '/v1/jobs/failed' });
    expect(res.statusCode, res.body).toBe(200);
    const list = res.json() as { data: Array<{ id: string; task: string; attempts: number; maxAttempts: number; lastError: string }> };
    expect(list.data.find((j) => j.id === id)).toMatchObject({ task: `test${run}.fail`, attempts: 2, maxAttempts: 2 });
    failedId = id;
  });

  it('GET: validation 400, 401, 403 for a member, and other tenants never see it', async () => {
    expectProblem(await as(h, a, 'admin')({ method: 'GET', url: '/v1/jobs/failed?limit=0' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'GET', url: '/v1/jobs/failed', headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'GET', url: '/v1/jobs/failed' }), 403, 'permission_denied');
    const other = (await as(h, b, 'admin')({ method: 'GET', url: '/v1/jobs/failed' })).json() as { data: Array<{ id: string }> };
    expect(other.data.map((j) => j.id)).not.toContain(failedId);
  });

  it('retry: 400, 401, 403, other tenant 404, then 202 gives fresh attempts', async () => {
    const url = `/v1/jobs/failed/${failedId}/retry`;
    expectProblem(await as(h, a, 'admin')({ method: 'POST', url: '/v1/jobs/failed/abc/retry' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'member')({ method: 'POST', url }), 403, 'permission_denied');
    expectProblem(await as(h, b, 'admin')({ method: 'POST', url }), 404, 'not_found');
    expect((await jobRow(failedId))!.attempts).toBe(2);
    const res = await as(h, a, 'admin')({ method: 'POST', url });
    expect(res.statusCode, res.body).toBe(202);
    // It runs again (and fails again: the task always throws).
    await until(async () => (await jobRow(failedId))?.attempts === 1);
  });

  it('discard: 400, 401, 403, other tenant 404, then 204 removes it', async () => {
    await until(() => failedTimes(failedId, 2), 10_000);
    const url = `/v1/jobs/failed/${failedId}`;
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url: '/v1/jobs/failed/1x' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url }), 403, 'permission_denied');
    expectProblem(await as(h, b, 'admin')({ method: 'DELETE', url }), 404, 'not_found');
    expect(await jobRow(failedId)).toBeDefined();
    expect((await as(h, a, 'admin')({ method: 'DELETE', url })).statusCode).toBe(204);
    expect(await jobRow(failedId)).toBeUndefined();
    expectProblem(await as(h, a, 'admin')({ method: 'DELETE', url }), 404, 'not_found');
  });
});

describe('daily fan-out cron', () => {
  it('enqueues each daily tenant task once per active tenant, idempotently', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const keyA = `test${run}.daily:${a.tenant.id}:${day}`;
    const keyB = `test${run}.daily:${b.tenant.id}:${day}`;
    // Run the cron's task twice, as a re-run or a backfill would.
    for (let i = 0; i < 2; i++) await jobs().enqueue(h.db, null, DAILY_FANOUT_TASK, {});
    await until(async () => (await jobsWithKey(keyA)) + (await jobsWithKey(keyB)) === 0 && (await fanoutsLeft()) === 0);
    // Both tenants' daily jobs ran (and were removed on success); a third run re-adds them at most once each.
    await h.db.transaction().execute(async (trx) => {
      await jobs().enqueue(trx, a.tenant.id, `test${run}.daily`, {}, { jobKey: keyA, runAt: new Date(Date.now() + 3600_000) });
      await jobs().enqueue(trx, a.tenant.id, `test${run}.daily`, {}, { jobKey: keyA, runAt: new Date(Date.now() + 3600_000) });
    });
    expect(await jobsWithKey(keyA)).toBe(1);
  });
});
const fanoutsLeft = async () =>
  (await sql<{ c: number }>`select count(*)::int as c from graphile_worker.jobs where task_identifier = ${DAILY_FANOUT_TASK}`.execute(h.db)).rows[0]!.c;

describe('draining', () => {
  it('stop waits for the running job', async () => {
    const other = await startApp({ modules: allModules, config: { JOBS_IN_API: 'true', JOBS_CRON: 'false', JOBS_POLL_INTERVAL_MS: '200', JOBS_TASKS: only } });
    await jobs().enqueue(h.db, a.tenant.id, `test${run}.slow`, {});
    await until(() => started.length > 0);
    await Promise.all([h.close(), other.close()]);
    expect(seen.some((s) => s.tenant === 'slow')).toBe(true);
    h = await startApp({ modules: allModules });
  });
});
