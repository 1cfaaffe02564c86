// "The limit": the two reference endpoints as a bare Fastify route running the
// same SQL through pg, with no auth, tenancy, validation or response schema.
// What this stack can do at best on this machine.
// Env: DATABASE_URL, BENCH_SCHEMA (the tenant schema), BENCH_OWNER (account id), DB_POOL_MAX.
import Fastify from 'fastify';
import pg from 'pg';
import { randomUUID } from 'node:crypto';

const schema = process.env.BENCH_SCHEMA!;
const owner = process.env.BENCH_OWNER!;
if (!/^t_[0-9a-f]{32}$/.test(schema)) throw new Error('BENCH_SCHEMA must be a tenant schema name');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const columns = `id, first_name as "firstName", last_name as "lastName", email, phone, job_title as "jobTitle", owner_id as "ownerId",
  created_by as "createdBy", updated_by as "updatedBy", created_at as "createdAt", updated_at as "updatedAt", deleted_at as "deletedAt"`;
const listSql = `select ${columns} from "${schema}"."contacts" where "deleted_at" is null order by "created_at" desc, "id" desc limit $1`;
const insertSql = `insert into "${schema}"."contacts" (id, first_name, last_name, email, phone, job_title, owner_id, created_by, updated_by, created_at, updated_at, deleted_at)
  values ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $8, null) returning ${columns}`;

const app = Fastify({ logger: false });
app.get('/v1/contacts', async (request) => {
  const limit = Number((request.query as { limit?: string }).limit ?? 50);
  const { rows } = await pool.query(listSql, [limit + 1]);
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null };
});
app.post('/v1/contacts', async (request, reply) => {
  const b = request.body as Record<string, string | undefined>;
  const { rows } = await pool.query(insertSql, [randomUUID(), b.firstName, b.lastName ?? null, b.email ?? null, b.phone ?? null, b.jobTitle ?? null, owner, new Date()]);
  return reply.code(201).send(rows[0]);
});

await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
process.once('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
