// The limit's two routes: the same SQL as Plinth's reference read and write
// through pg, with no auth, tenancy, validation or response schema. Used by
// the limit's server (bare.ts) and in-process by bench/compare.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { randomUUID } from 'node:crypto';

// Every column, as Plinth's `selectAll()` reads them.
const COLUMNS = `id, first_name as "firstName", last_name as "lastName", email, phone, job_title as "jobTitle", owner_id as "ownerId",
  created_by as "createdBy", updated_by as "updatedBy", created_at as "createdAt", updated_at as "updatedAt", deleted_at as "deletedAt",
  emails, phones, company_id as "companyId"`;

/**
 * `schema`: the tenant schema every request reads, or a map from X-Tenant slugs
 * to schemas (the scaling benchmark: requests spread over many tenants).
 */
export function registerBareRoutes(app: FastifyInstance, pool: pg.Pool, schema: string | ReadonlyMap<string, string>, ownerId: string): void {
  const statements = (s: string) => {
    if (!/^t_[0-9a-f]{32}$/.test(s)) throw new Error('the schema must be a tenant schema name');
    return {
      list: `select ${COLUMNS} from "${s}"."contacts" where "deleted_at" is null order by "created_at" desc, "id" desc limit $1`,
      insert: `insert into "${s}"."contacts" (id, first_name, last_name, email, phone, job_title, owner_id, created_by, updated_by, created_at, updated_at, deleted_at, emails, phones)
    values ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $8, null, $9, $10) returning ${COLUMNS}`,
    };
  };
  const fixed = typeof schema === 'string' ? statements(schema) : undefined;
  const bySchema = new Map<string, ReturnType<typeof statements>>();
  const sqlFor = (request: FastifyRequest) => {
    if (fixed) return fixed;
    const s = (schema as ReadonlyMap<string, string>).get(String(request.headers['x-tenant']));
    if (!s) return undefined;
    let st = bySchema.get(s);
    if (!st) bySchema.set(s, (st = statements(s)));
    return st;
  };
  app.get('/v1/contacts', async (request, reply) => {
    const st = sqlFor(request);
    if (!st) return reply.code(404).send({ error: 'no such tenant' });
    const limit = Number((request.query as { limit?: string }).limit ?? 50);
    const { rows } = await pool.query(st.list, [limit + 1]);
    const data = rows.slice(0, limit);
    const last = data.at(-1);
    return { data, nextCursor: rows.length > limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null };
  });
  app.post('/v1/contacts', async (request, reply) => {
    const st = sqlFor(request);
    if (!st) return reply.code(404).send({ error: 'no such tenant' });
    const b = request.body as Record<string, string | undefined>;
    const values = [randomUUID(), b.firstName, b.lastName ?? null, b.email ?? null, b.phone ?? null, b.jobTitle ?? null, ownerId, new Date(), b.email ? [b.email] : [], b.phone ? [b.phone] : []];
    const { rows } = await pool.query(st.insert, values);
    return reply.code(201).send(rows[0]);
  });
}
