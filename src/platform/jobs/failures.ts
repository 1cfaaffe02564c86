// The permanent-failure list: graphile-worker keeps a job whose attempts are
// used up in its table (there is no dead-letter queue), so "failed" is a
// query. The tenant of a job lives in its payload; reading the payload needs
// graphile's `_private_jobs` table (its public `jobs` view omits it), which
// is why this file, and only this file, reads graphile's private tables.
import { sql, type Kysely } from 'kysely';

export interface FailedJob {
  id: string;
  task: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const failedJobs = (db: Kysely<any>, tenantId: string) => sql<FailedJob>`
  select j.id::text as id, t.identifier as task, j.attempts, j.max_attempts as "maxAttempts",
         j.last_error as "lastError", j.created_at as "createdAt", j.updated_at as "updatedAt"
  from graphile_worker._private_jobs j
  join graphile_worker._private_tasks t on t.id = j.task_id
  where j.attempts >= j.max_attempts and j.locked_at is null and j.payload->>'tenantId' = ${tenantId}`;

export async function listFailedJobs(db: Kysely<any>, tenantId: string, limit: number): Promise<FailedJob[]> {
  const { rows } = await sql<FailedJob>`${failedJobs(db, tenantId)} order by j.id desc limit ${limit}`.execute(db.withoutPlugins());
  return rows;
}

export async function findFailedJob(db: Kysely<any>, tenantId: string, id: string): Promise<FailedJob | undefined> {
  const { rows } = await sql<FailedJob>`${failedJobs(db, tenantId)} and j.id = ${id}::bigint`.execute(db.withoutPlugins());
  return rows[0];
}

/** Gives the job a fresh set of attempts, due now. */
export async function retryJob(db: Kysely<any>, id: string): Promise<void> {
  await sql`select graphile_worker.reschedule_jobs(array[${id}::bigint], run_at => now(), attempts => 0)`.execute(db.withoutPlugins());
}

/** Removes the job for good. */
export async function discardJob(db: Kysely<any>, id: string): Promise<void> {
  await sql`select graphile_worker.complete_jobs(array[${id}::bigint])`.execute(db.withoutPlugins());
}

/** Queue depth and failures for /metrics: waiting (due or scheduled), running, failed. */
export async function queueStats(db: Kysely<any>): Promise<{ waiting: number; running: number; failed: number }> {
  const { rows } = await sql<{ waiting: number; running: number; failed: number }>`
    select count(*) filter (where locked_at is null and attempts < max_attempts)::int as waiting,
           count(*) filter (where locked_at is not null)::int as running,
           count(*) filter (where locked_at is null and attempts >= max_attempts)::int as failed
    from graphile_worker._private_jobs`.execute(db.withoutPlugins());
  return rows[0]!;
}
