// "The limit": the two reference endpoints as a bare Fastify route running the
// same SQL through pg, with no auth, tenancy, validation or response schema.
// What this stack can do at best on this machine.
// Env: DATABASE_URL, BENCH_SCHEMA (the tenant schema, or `by-tenant-header`: the
// schema of the X-Tenant slug, from public.tenants read at start), BENCH_OWNER (account id), DB_POOL_MAX.
import Fastify from 'fastify';
import pg from 'pg';
import { registerBareRoutes } from './bare-routes.ts';

// BENCH_POOL_IDLE_MS: pg's idle timeout (its default 10 s unless set; 0 keeps idle connections open, for runs
// that leave the server idle between windows: the scaling benchmark's fixed-rate phases).
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10), idleTimeoutMillis: Number(process.env.BENCH_POOL_IDLE_MS ?? 10_000), application_name: 'plinth-limit' });
const app = Fastify({ logger: false });
const schema =
  process.env.BENCH_SCHEMA === 'by-tenant-header'
    ? new Map((await pool.query<{ slug: string; schema_name: string }>('select slug, schema_name from public.tenants')).rows.map((r) => [r.slug, r.schema_name]))
    : process.env.BENCH_SCHEMA!;
registerBareRoutes(app, pool, schema, process.env.BENCH_OWNER!);

await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
process.once('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
