// The typed task registry. A task is a name, a TypeBox schema for its payload
// and a handler. Tenant tasks run with the tenant's context (its scoped
// database) rebuilt from the tenant id every job carries; platform tasks
// (crons, fan-outs) run without one.
import type { Static, TSchema } from 'typebox';
import type { FastifyBaseLogger } from 'fastify';
import type { TenantDb, TenantRef } from '../context.ts';
import type { Platform } from '../module.ts';

interface JobContextBase {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  platform: Platform;
  log: FastifyBaseLogger;
}

export interface TenantJobContext extends JobContextBase {
  tenant: TenantRef;
  /** The tenant's schema, as `ctx.db` in a request. */
  db: TenantDb;
}

export type PlatformJobContext = JobContextBase;

export interface TaskDef<S extends TSchema = TSchema> {
  name: string;
  scope: 'tenant' | 'platform';
  payload: S;
  /** Attempts before the job lands in the failure list (default JOBS_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Tenant tasks with an empty payload: run once a day for every active tenant (see fanout.ts). */
  daily?: boolean;
  run(data: Static<S>, ctx: TenantJobContext | PlatformJobContext): Promise<void>;
}

const NAME_RE = /^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9-]*)+$/;

export function defineTenantTask<S extends TSchema>(def: {
  name: string;
  payload: S;
  maxAttempts?: number;
  daily?: boolean;
  run(data: Static<S>, ctx: TenantJobContext): Promise<void>;
}): TaskDef<S> {
  return { ...def, scope: 'tenant', run: (data, ctx) => def.run(data, ctx as TenantJobContext) };
}

export function definePlatformTask<S extends TSchema>(def: {
  name: string;
  payload: S;
  maxAttempts?: number;
  run(data: Static<S>, ctx: PlatformJobContext): Promise<void>;
}): TaskDef<S> {
  return { ...def, scope: 'platform' };
}

export interface TaskRegistry {
  get(name: string): TaskDef | undefined;
  all(): readonly TaskDef[];
}

export function createTaskRegistry(defs: readonly TaskDef[]): TaskRegistry {
  const byName = new Map<string, TaskDef>();
  for (const def of defs) {
    if (!NAME_RE.test(def.name)) throw new Error(`Task "${def.name}" must look like area.name`);
    if (byName.has(def.name)) throw new Error(`Task "${def.name}" is declared twice`);
    byName.set(def.name, def);
  }
  return { get: (name) => byName.get(name), all: () => [...byName.values()] };
}
