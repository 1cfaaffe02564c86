import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { pingDatabase } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { Type } from 'typebox';

const Health = Type.Object({ status: Type.Literal('ok'), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

/** Liveness says the process answers; readiness also checks the database and fails while draining. */
/** Further readiness checks (Redis, job worker): name → true when healthy. */
export type ReadinessChecks = Record<string, () => boolean | Promise<boolean>>;

export function registerHealth(app: FastifyInstance, pool: pg.Pool, state: { isDraining(): boolean }, extra: ReadinessChecks = {}) {
  // Probes are never rate-limited: a load balancer polls them from one address.
  app.get('/health/live', { config: { public: true, rateLimitPolicy: 'none' }, schema: { tags: ['health'], response: { 200: Health } } }, async () => ({ status: 'ok' as const }));
  app.get('/health/ready', { config: { public: true, rateLimitPolicy: 'none' }, schema: { tags: ['health'], response: { 200: Health } } }, async () => {
    if (state.isDraining()) throw new AppError('service_unavailable', 'Shutting down');
    if (!(await pingDatabase(pool))) throw new AppError('service_unavailable', 'The database does not answer');
    const checks: Record<string, string> = { database: 'ok' };
    for (const [name, check] of Object.entries(extra)) {
      if (!(await check())) throw new AppError('service_unavailable', `${name} is not ready`);
      checks[name] = 'ok';
    }
    return { status: 'ok' as const, checks };
  });
}
