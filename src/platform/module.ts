// What a module contributes to the platform. A module is a folder under
// src/modules/<domain>/ whose index.ts exports one of these; the composition
// root (src/app.ts) registers its permissions, its tenant migrations and its
// routes.
import type { FastifyPluginAsync } from 'fastify';
import type { Migration } from 'kysely';
import type { Config } from '../config.ts';
import type { Db } from './db/database.ts';
import type { TokenService } from './auth/tokens.ts';
import type { TenantDirectory } from './tenancy/directory.ts';
import type { CacheStore } from './cache/cache.ts';
import type { PermissionDef, PermissionRegistry } from './permissions.ts';
import type { TenantMigrationSet } from './tenancy/tenant-migrations.ts';
import type { JobQueue } from './jobs/queue.ts';
import type { TaskDef } from './jobs/tasks.ts';
import type { MailPort } from './email/mail.ts';
import type { FileStorage } from './files/storage.ts';
import type { RealtimeHub } from './realtime/hub.ts';
import type { DomainEvents } from './events/events.ts';

/** Platform services a module's routes may use. */
export interface Platform {
  config: Config;
  db: Db;
  tokens: TokenService;
  directory: TenantDirectory;
  /** The two-level cache (in process + Redis) with cross-instance invalidation. */
  cache: CacheStore;
  permissions: PermissionRegistry;
  migrations: TenantMigrationSet;
  /** Background jobs: enqueue on the business transaction. */
  jobs: JobQueue;
  /** Templated email through the job queue: `mail.sendTemplate(trx, ctx, { template, to, data })`. */
  mail: MailPort;
  /** File bytes (local disk or S3); metadata lives in the files module. */
  storage: FileStorage;
  /** Live pushes: `publish(trx, ...)` is delivered at commit; `broadcast()` at once. */
  realtime: RealtimeHub;
  /** Typed domain events, published in the business transaction (webhooks subscribe). */
  events: DomainEvents;
}

export interface PlinthModule {
  name: string;
  permissions?: readonly PermissionDef[];
  /** Named `<yyyymmddhhmmss>_<name>`; applied to every tenant schema in name order. */
  tenantMigrations?: Record<string, Migration>;
  /** Background tasks this module's jobs run (see platform/jobs/tasks.ts). */
  tasks?: readonly TaskDef[];
  routes: FastifyPluginAsync<{ platform: Platform }>;
}
