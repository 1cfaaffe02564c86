// `npm start`: the API on DATABASE_URL or an embedded PostgreSQL, with the
// demo tenant, until Ctrl-C (or SIGTERM) drains requests and stops cleanly.
import closeWithGrace from 'close-with-grace';
import { loadConfigOrExit } from './config.ts';
import { flushTracing, tracingStarted } from './platform/tracing/spans.ts';
import { buildApp, platformFor } from './app.ts';
import { openDatabase } from './platform/db/open.ts';
import { migratePlatform } from './platform/db/platform-migrations.ts';
import { migrateTenantsBehind } from './platform/tenancy/fleet.ts';
import { listTenantSchemasBehind } from './platform/tenancy/provisioning.ts';
import { modules } from './modules/index.ts';
import { DEMO, seedDemo } from './demo/seed.ts';
import { syncPermissionCatalogue } from './platform/permission-catalogue.ts';

const started = performance.now();
const say = (msg: string) => process.stdout.write(`[plinth] ${msg}\n`);

const config = loadConfigOrExit();

const database = await openDatabase(config, say);
const running: { app?: Awaited<ReturnType<typeof buildApp>> } = {};

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
  if (err) process.stderr.write(`[plinth] fatal: ${err.stack ?? String(err)}\n`);
  if (signal) say(`${signal}: draining requests, then stopping`);
  await running.app?.close();
  await database.close();
  await flushTracing();
  if (signal) say('stopped');
});

const applied = await migratePlatform(database.db);
if (applied.length > 0) say(`platform migrations applied: ${applied.join(', ')}`);
const { migrations, permissions } = platformFor(config, database.db, modules);
await syncPermissionCatalogue(database.db, permissions);
if (config.MIGRATE_TENANTS_ON_BOOT) {
  const fleet = await migrateTenantsBehind(database.db, migrations);
  if (fleet.migrated.length > 0) say(`tenant schemas migrated: ${fleet.migrated.length}`);
  for (const f of fleet.failed) say(`tenant "${f.slug}" could not be migrated and will answer 503: ${f.error}`);
} else {
  const behind = await listTenantSchemasBehind(database.db, migrations);
  if (behind.length > 0) say(`${behind.length} tenant schema(s) are behind ${migrations.latest} and will answer 503 until \`npm run migrate\` runs`);
}
const seeded = config.DEMO_SEED ? await seedDemo(database.db, migrations) : false;

const app = await buildApp({ config, db: database.db, pool: database.pool });
running.app = app;
let address: string;
try {
  address = await app.listen({ host: config.HOST, port: config.PORT });
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || config.PORT === 0) throw error;
  say(`port ${config.PORT} is busy: using a free port`);
  address = await app.listen({ host: config.HOST, port: 0 });
}

const base = config.PUBLIC_URL ?? address;
say(`${database.embedded ? `embedded PostgreSQL on port ${database.embedded.port}${database.embedded.created ? ' (new data folder)' : ''}` : 'PostgreSQL from DATABASE_URL'}`);
say(`API      ${base}`);
if (config.DOCS_ENABLED) say(`Docs     ${base}/docs   (OpenAPI: ${base}/openapi.json)`);
if (config.DEMO_SEED) {
  say(`Demo     tenant "${DEMO.slug}"${seeded ? ' (created now)' : ''}, login ${DEMO.email} / ${DEMO.password}`);
  say(`         curl -s ${base}/v1/auth/login -H 'X-Tenant: ${DEMO.slug}' -H 'content-type: application/json' -d '{"email":"${DEMO.email}","password":"${DEMO.password}"}'`);
}
if (config.OTEL_EXPORTER_OTLP_ENDPOINT) say(tracingStarted() ? `Traces   ${config.OTEL_EXPORTER_OTLP_ENDPOINT} (OTLP/HTTP)` : 'OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is off: start with `npm start` (node --import ./src/platform/tracing/register.ts src/main.ts)');
say(`ready in ${Math.round(performance.now() - started)} ms (Ctrl-C stops)`);
