// Enqueueing. A job is one row written by `graphile_worker.add_job()` on the
// caller's connection: called with the business transaction, the job exists
// exactly when the business write commits (the job table is the outbox).
import { sql, type Kysely } from 'kysely';
import Value from 'typebox/value';
import type { TaskRegistry } from './tasks.ts';
import { traceCarrier } from '../tracing/jobs.ts';

/** What every job row carries: the tenant it runs for (null for platform tasks) and the task's data. */
export interface JobEnvelope {
  tenantId: string | null;
  data: unknown;
  /** The enqueuer's trace context (W3C traceparent), when tracing is on. */
  trace?: Record<string, string>;
}

export interface EnqueueOptions {
  /** Idempotency key: a second job with the same key replaces the waiting one instead of adding another. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** Jobs sharing a queue name run one at a time. */
  queueName?: string;
  priority?: number;
}

export interface JobQueue {
  readonly tasks: TaskRegistry;
  /**
   * Adds a job on `db` (pass the transaction of the business write). The
   * payload is checked against the task's schema here, so a malformed job
   * fails its caller instead of failing later in a worker.
   */
  enqueue(db: Kysely<any>, tenantId: string | null, task: string, data: unknown, opts?: EnqueueOptions): Promise<{ id: string }>;
}

export function createJobQueue(tasks: TaskRegistry, defaults: { maxAttempts: number }): JobQueue {
  return {
    tasks,
    async enqueue(db, tenantId, task, data, opts = {}) {
      const def = tasks.get(task);
      if (!def) throw new Error(`No task "${task}" is registered`);
      if (def.scope === 'tenant' && !tenantId) throw new Error(`Task "${task}" runs for a tenant: pass its id`);
      if (!Value.Check(def.payload, data)) {
        const first = [...Value.Errors(def.payload, data)][0];
        throw new Error(`Payload of task "${task}" is invalid at ${first?.instancePath || '/'}: ${first?.message}`);
      }
      const traceContext = traceCarrier();
      const envelope: JobEnvelope = { tenantId, data, ...(traceContext ? { trace: traceContext } : {}) };
      const { rows } = await sql<{ id: string }>`select (graphile_worker.add_job(
          identifier => ${task},
          payload => ${JSON.stringify(envelope)}::json,
          queue_name => ${opts.queueName ?? null},
          run_at => ${opts.runAt ?? null}::timestamptz,
          max_attempts => ${opts.maxAttempts ?? def.maxAttempts ?? defaults.maxAttempts}::int,
          job_key => ${opts.jobKey ?? null},
          priority => ${opts.priority ?? null}::int
        )).id::text as id`.execute(db.withoutPlugins());
      return { id: rows[0]!.id };
    },
  };
}
