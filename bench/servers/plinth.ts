// Plinth as the benchmarks run it: the app from buildApp on DATABASE_URL,
// configured from the environment like `npm start`, on a free loopback port.
// Redis only when the harness asks for it (BENCH_REDIS_URL, `--redis`), not
// because the shell that started the benchmark has REDIS_URL set.
// Prints "listening <port>" once ready; SIGTERM closes it.
import { loadConfig, readEnv } from '../../src/config.ts';
import { buildApp } from '../../src/app.ts';
import { createDatabase } from '../../src/platform/db/database.ts';

const { REDIS_URL: _ignored, BENCH_REDIS_URL, ...env } = readEnv();
const config = loadConfig({ ...env, ...(BENCH_REDIS_URL ? { REDIS_URL: BENCH_REDIS_URL } : {}), HOST: '127.0.0.1', PORT: '0' });
if (!config.DATABASE_URL) throw new Error('bench/servers/plinth.ts needs DATABASE_URL');
const { db, pool } = createDatabase({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS, maxLifetimeSeconds: config.DB_POOL_MAX_LIFETIME_SECONDS, groups: config.DB_POOL_GROUPS || undefined, borrowAfterMs: config.DB_POOL_BORROW_AFTER_MS });
const app = await buildApp({ config, db, pool });
await app.listen({ host: config.HOST, port: config.PORT });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);

process.once('SIGTERM', async () => {
  await app.close();
  await db.destroy();
  process.exit(0);
});
