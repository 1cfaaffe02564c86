// `npm run worker`: the job worker as its own process (production runs one
// or more of these with JOBS_IN_API=false on the API). SIGTERM stops taking
// jobs and waits for the running ones; a second signal exits at once.
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { loadConfigOrExit } from './config.ts';
import { flushTracing } from './platform/tracing/spans.ts';
import { platformFor } from './app.ts';
import { openDatabase } from './platform/db/open.ts';
import { migratePlatform } from './platform/db/platform-migrations.ts';
import { createTokenService } from './platform/auth/tokens.ts';
import { installJobSchema } from './platform/jobs/schema.ts';
import { parseTaskFilter, startWorker, type JobWorker } from './platform/jobs/worker.ts';
import { modules } from './modules/index.ts';

const config = loadConfigOrExit();

const log = pino({ level: config.LOG_LEVEL, base: { process: 'worker' } });
const database = await openDatabase(config, (msg) => log.info(msg));
const running: { worker?: JobWorker; platform?: { cache: { close(): Promise<void> } } } = {};

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'fatal');
  if (signal) log.info(`${signal}: draining running jobs, then stopping`);
  await running.worker?.stop();
  await running.platform?.cache.close();
  await database.close();
  await flushTracing();
  if (signal) log.info('stopped');
});

await migratePlatform(database.db);
await installJobSchema(database.pool);
const tokens = await createTokenService(database.db, { issuer: config.JWT_ISSUER, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS });
const platform = { config, db: database.db, tokens, ...platformFor(config, database.db, modules) };
running.platform = platform;
running.worker = await startWorker(platform, database.pool, log, { concurrency: config.JOBS_CONCURRENCY, pollIntervalMs: config.JOBS_POLL_INTERVAL_MS, cron: config.JOBS_CRON, only: parseTaskFilter(config.JOBS_TASKS) });
log.info({ tasks: platform.jobs.tasks.all().map((t) => t.name), concurrency: config.JOBS_CONCURRENCY }, 'worker ready');
