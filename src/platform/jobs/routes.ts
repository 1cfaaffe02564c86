// The failure list through the API: a tenant's admins see, retry and
// discard their own tenant's failed jobs; another tenant's job id is a 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctxOf } from '../http/access-guard.ts';
import { auditRequest } from '../audit/writer.ts';
import { AppError } from '../errors.ts';
import { problemResponses } from '../http/schemas.ts';
import type { Platform } from '../module.ts';
import { discardJob, findFailedJob, listFailedJobs, retryJob } from './failures.ts';

const FailedJob = Type.Object(
  {
    id: Type.String(),
    task: Type.String(),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'FailedJob' },
);
const JobId = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$', description: 'Job id' }) });
const tags = ['jobs'];

const toJson = (j: Awaited<ReturnType<typeof listFailedJobs>>[number]) => ({ ...j, createdAt: j.createdAt.toISOString(), updatedAt: j.updatedAt.toISOString() });

export const jobRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  app.addSchema(FailedJob);
  const db = platform.db;

  app.get('/v1/jobs/failed', {
    config: { permission: 'jobs.failures.read' },
    schema: {
      tags,
      summary: "The tenant's permanently failed jobs, newest first",
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('FailedJob')) }), ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const ctx = ctxOf(request);
    return { data: (await listFailedJobs(db, ctx.tenant.id, request.query.limit)).map(toJson) };
  });

  app.post('/v1/jobs/failed/:id/retry', {
    config: { permission: 'jobs.failures.manage' },
    schema: { tags, summary: 'Run a failed job again with a fresh set of attempts', params: JobId, response: { 202: Type.Object({ id: Type.String() }), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    const job = await findFailedJob(db, ctx.tenant.id, request.params.id);
    if (!job) throw new AppError('not_found', 'No such failed job');
    await db.transaction().execute(async (trx) => {
      await retryJob(trx, job.id);
      await auditRequest(trx, ctx, { action: 'jobs.job.retried', targetType: 'job', targetId: job.id, details: { task: job.task, attempts: job.attempts, lastError: job.lastError } });
    });
    return reply.code(202).send({ id: job.id });
  });

  app.delete('/v1/jobs/failed/:id', {
    config: { permission: 'jobs.failures.manage' },
    schema: { tags, summary: 'Discard a failed job', params: JobId, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    const job = await findFailedJob(db, ctx.tenant.id, request.params.id);
    if (!job) throw new AppError('not_found', 'No such failed job');
    await db.transaction().execute(async (trx) => {
      await discardJob(trx, job.id);
      await auditRequest(trx, ctx, { action: 'jobs.job.discarded', targetType: 'job', targetId: job.id, details: { task: job.task, attempts: job.attempts, lastError: job.lastError } });
    });
    return reply.code(204).send(null);
  });
};
