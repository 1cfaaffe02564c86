// The job worker: graphile-worker's runner with our registry as its task
// list. Each handler is wrapped so that it validates the payload, resolves
// the job's tenant (a suspended or deleted tenant's jobs are dropped) and
// gets the tenant-scoped database, exactly as a request would.
import { run, parseCronItems, type JobHelpers, type Runner, type TaskList } from 'graphile-worker';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import Value from 'typebox/value';
import { scopeToTenant } from '../context.ts';
import { tenantRef } from '../http/access-guard.ts';
import type { Platform } from '../module.ts';
import type { JobEnvelope } from './queue.ts';
import type { TaskDef } from './tasks.ts';
import { graphileLogger } from './logger.ts';
import { cronItems } from './fanout.ts';
import type { Span } from '@opentelemetry/api';
import { traceJob } from '../tracing/jobs.ts';

export interface WorkerOptions {
  concurrency: number;
  pollIntervalMs: number;
  /** Schedule the platform crons from this worker (every worker may: graphile de-duplicates them). */
  cron: boolean;
  /** Task names or `prefix.*` patterns this worker runs (dedicated media or email workers); empty: all. */
  only?: readonly string[];
}

export const parseTaskFilter = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

const selected = (name: string, only: readonly string[] | undefined) =>
  !only || only.length === 0 || only.some((p) => (p.endsWith('.*') ? name.startsWith(p.slice(0, -1)) : name === p));

export interface JobWorker {
  isRunning(): boolean;
  /** Stops taking jobs and waits for the running ones (SIGTERM drain). */
  stop(): Promise<void>;
}

// Cron jobs carry graphile's own `{ _cron }` payload instead of our envelope.
const envelopeOf = (payload: unknown): JobEnvelope => {
  const p = payload as Partial<JobEnvelope> & { _cron?: unknown };
  if (p && typeof p === 'object' && '_cron' in p) return { tenantId: null, data: {} };
  return { tenantId: typeof p?.tenantId === 'string' ? p.tenantId : null, data: p?.data ?? {}, trace: p?.trace && typeof p.trace === 'object' ? p.trace : undefined };
};

function wrap(def: TaskDef, platform: Platform, log: FastifyBaseLogger): TaskList[string] {
  return (payload, helpers) => {
    const envelope = envelopeOf(payload);
    return traceJob(def.name, helpers.job, envelope.trace, (span) => runJob(envelope, helpers, span));
  };
  async function runJob({ tenantId, data }: JobEnvelope, helpers: JobHelpers, span: Span) {
    const job = helpers.job;
    const jobLog = log.child({ jobId: job.id, task: def.name, tenantId, attempt: job.attempts });
    if (!Value.Check(def.payload, data)) {
      // Retrying cannot fix a malformed payload: fail it for good.
      throw new Error(`Invalid payload for ${def.name}: ${[...Value.Errors(def.payload, data)].map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
    }
    const base = { jobId: job.id, attempt: job.attempts, maxAttempts: job.max_attempts, platform, log: jobLog };
    if (def.scope === 'platform') return def.run(data, base);
    if (!tenantId) throw new Error(`Job ${job.id} of tenant task ${def.name} has no tenant`);
    const tenant = await platform.directory.byId(tenantId);
    if (!tenant || tenant.status !== 'active') {
      jobLog.warn('tenant is gone or suspended: job dropped');
      return;
    }
    span.setAttributes({ 'tenant.id': tenant.id, 'tenant.slug': tenant.slug });
    await def.run(data, { ...base, tenant: tenantRef(tenant), db: scopeToTenant(platform.db, tenant.schemaName) });
  }
}

export async function startWorker(platform: Platform, pool: pg.Pool, log: FastifyBaseLogger, opts: WorkerOptions): Promise<JobWorker> {
  const taskList: TaskList = {};
  for (const def of platform.jobs.tasks.all()) if (selected(def.name, opts.only)) taskList[def.name] = wrap(def, platform, log);
  // Its own small pool: a busy worker must not starve the API of connections
  // (one LISTEN connection plus one per concurrent job).
  const workerPool = new pg.Pool({ ...pool.options, max: opts.concurrency + 2 });
  // A lost connection is retried by graphile; it must not crash the process.
  workerPool.on('error', (err) => log.warn({ err }, 'job worker pool: idle connection lost'));
  workerPool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'job worker connection lost')));
  let running = true;
  const runner: Runner = await run({
    pgPool: workerPool,
    taskList,
    concurrency: opts.concurrency,
    pollInterval: opts.pollIntervalMs,
    noHandleSignals: true,
    logger: graphileLogger(log),
    parsedCronItems: opts.cron ? parseCronItems(cronItems.filter((c) => taskList[c.task])) : [],
  });
  runner.promise.catch((error: unknown) => {
    running = false;
    log.error({ err: error }, 'job worker stopped on an error');
  });
  const stopMail = () => platform.mail.transport().close();
  return {
    isRunning: () => running,
    async stop() {
      if (!running) return;
      running = false;
      await runner.stop();
      await workerPool.end();
      stopMail();
    },
  };
}
