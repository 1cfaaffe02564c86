// The files of a generated module, modelled on src/modules/contacts (the
// reference module): TypeBox contracts in schemas.ts, thin handlers in
// routes.ts, ctx-first service with the audit row in the same transaction,
// plain Kysely repository, tables.ts, the first tenant migration, the
// permissions and a test file covering happy/400/401/404/403 per route.
// One resource with a required `name` and an optional `notes`: the smallest
// shape that still exercises every convention, meant to be edited.

export interface ModuleNames {
  /** Folder and URL segment: `support-tickets`. */
  folder: string;
  /** SQL table: `support_tickets`. */
  table: string;
  /** Kysely table key (the CamelCasePlugin maps it to `table`) and permission resource: `supportTickets`. */
  camel: string;
  /** `SupportTicket` (type and schema names). */
  Single: string;
  /** `supportTicket` (audit action, function names). */
  single: string;
  /** `SupportTickets`. */
  Plural: string;
  /** Permission area: `<area>.<camel>.read`. */
  area: string;
  /** `20261201120000_create_support_tickets`. */
  migration: string;
  /** Human words: `support tickets` / `support ticket`. */
  words: string;
  word: string;
}

const pascal = (s: string) => s.replace(/(^|[-_])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

export function moduleNames(folder: string, area: string, timestamp: string): ModuleNames {
  const Plural = pascal(folder);
  // English plural → singular for the common cases; a name that does not end in -s keeps itself plus "Item".
  const singularWord = folder.endsWith('ies') ? `${folder.slice(0, -3)}y` : folder.endsWith('s') && !folder.endsWith('ss') ? folder.slice(0, -1) : `${folder}-item`;
  const Single = pascal(singularWord);
  const table = folder.replace(/-/g, '_');
  return {
    folder,
    table,
    camel: lowerFirst(Plural),
    Single,
    single: lowerFirst(Single),
    Plural,
    area,
    migration: `${timestamp}_create_${table}`,
    words: folder.replace(/-/g, ' '),
    word: singularWord.replace(/-/g, ' '),
  };
}

export function moduleFiles(n: ModuleNames): Record<string, string> {
  const perm = (action: string) => `${n.area}.${n.camel}.${action}`;
  const migrationIdent = `create${n.Plural}`;
  return {
    'index.ts': `import type { PlinthModule } from '../../platform/module.ts';
import * as ${migrationIdent} from './migrations/${n.migration}.ts';
import { ${n.single}Permissions } from './permissions.ts';
import { ${n.single}Routes } from './routes.ts';

export const ${n.camel}Module: PlinthModule = {
  name: '${n.folder}',
  permissions: ${n.single}Permissions,
  tenantMigrations: { '${n.migration}': ${migrationIdent} },
  routes: ${n.single}Routes,
};
`,

    'permissions.ts': `import type { PermissionDef } from '../../platform/permissions.ts';

export const ${n.single}Permissions = [
  { key: '${perm('read')}', description: 'List and view ${n.words}', roles: ['admin', 'member', 'viewer'] },
  { key: '${perm('write')}', description: 'Create and update ${n.words}', roles: ['admin', 'member'] },
  { key: '${perm('delete')}', description: 'Delete ${n.words}', roles: ['admin', 'member'] },
] as const satisfies readonly PermissionDef[];
`,

    'tables.ts': `import type { ColumnType, Selectable } from 'kysely';

// Timestamps are written by the service with millisecond precision, so a
// value read back into a JS Date is exact.
export interface ${n.Plural}Table {
  id: string;
  name: string;
  notes: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: ColumnType<Date, Date, Date>;
}

// A type alias (not an interface) so it fits Kysely's \`withTables<T>()\`.
export type ${n.Plural}Tables = {
  ${n.camel}: ${n.Plural}Table;
};

export type ${n.Single} = Selectable<${n.Plural}Table>;
`,

    [`migrations/${n.migration}.ts`]: `import { sql, type Kysely } from 'kysely';

// Runs with \`withSchema(<tenant schema>)\`: table names below are qualified
// with the tenant's schema by Kysely. Keys are UUIDs and foreign keys stay
// inside the tenant schema (or point at public tables), as Citus
// schema-based sharding requires (docs/scaling.md).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('${n.table}')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('updated_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql\`date_trunc('milliseconds', now())\`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql\`date_trunc('milliseconds', now())\`))
    .execute();
  await db.schema.createIndex('${n.table}_name_idx').on('${n.table}').column('name').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('${n.table}').execute();
}
`,

    'repository.ts': `// Data access for ${n.words}: plain Kysely functions over a tenant-scoped
// database (or a transaction on it). Every table reference is qualified with
// the tenant's schema by the caller's \`withSchema\`.
import type { Insertable, Kysely, Updateable } from 'kysely';
import type { ${n.Single}, ${n.Plural}Table, ${n.Plural}Tables } from './tables.ts';

export type ${n.Plural}Db = Kysely<${n.Plural}Tables>;

export const insert${n.Single} = (db: ${n.Plural}Db, row: Insertable<${n.Plural}Table>) =>
  db.insertInto('${n.camel}').values(row).returningAll().executeTakeFirstOrThrow();

export const find${n.Single} = (db: ${n.Plural}Db, id: string) => db.selectFrom('${n.camel}').selectAll().where('id', '=', id).executeTakeFirst();

/** Newest first. Ids are UUIDv7 (time-ordered), so the last id of a page is the keyset cursor. */
export const list${n.Plural} = (db: ${n.Plural}Db, limit: number, before?: string): Promise<${n.Single}[]> =>
  db
    .selectFrom('${n.camel}')
    .selectAll()
    .$if(before !== undefined, (q) => q.where('id', '<', before!))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();

export const update${n.Single} = (db: ${n.Plural}Db, id: string, patch: Updateable<${n.Plural}Table>) =>
  db.updateTable('${n.camel}').set(patch).where('id', '=', id).returningAll().executeTakeFirst();

export const delete${n.Single} = (db: ${n.Plural}Db, id: string) => db.deleteFrom('${n.camel}').where('id', '=', id).returningAll().executeTakeFirst();
`,

    'service.ts': `// Business rules for ${n.words}. Every function takes the request context
// first; the tenant's schema comes with \`ctx.db\`, so nothing here can reach
// another tenant's rows. Each change and its audit row commit together.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext, TenantDb } from '../../platform/context.ts';
import { auditSourceOf, recordAudit } from '../../platform/audit/writer.ts';
import { AppError } from '../../platform/errors.ts';
import * as repo from './repository.ts';
import type { ${n.Single}, ${n.Plural}Tables } from './tables.ts';

export interface ${n.Single}Input {
  name: string;
  notes?: string | null;
}

const tableDb = (ctx: RequestContext): repo.${n.Plural}Db => ctx.db.withTables<${n.Plural}Tables>();

const inTransaction = <T>(ctx: RequestContext, fn: (tx: RequestContext) => Promise<T>): Promise<T> =>
  ctx.db.transaction().execute((trx) => fn({ ...ctx, db: trx as unknown as TenantDb }));

const audit = (tx: RequestContext, action: string, id: string, before: ${n.Single} | null, after: ${n.Single} | null) =>
  recordAudit(tx.db, auditSourceOf(tx), { action: \`${n.area}.${n.single}.\${action}\`, targetType: '${n.single}', targetId: id, before, after });

const notFound = () => new AppError('not_found', 'No such ${n.word}');

const clean = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : v.trim() || null);

export function create${n.Plural}Service() {
  return {
    async create(ctx: RequestContext, input: ${n.Single}Input): Promise<${n.Single}> {
      const now = new Date();
      return inTransaction(ctx, async (tx) => {
        const created = await repo.insert${n.Single}(tableDb(tx), {
          id: uuidv7(),
          name: input.name.trim(),
          notes: clean(input.notes) ?? null,
          createdBy: ctx.actor.accountId,
          updatedBy: ctx.actor.accountId,
          createdAt: now,
          updatedAt: now,
        });
        await audit(tx, 'created', created.id, null, created);
        return created;
      });
    },

    async get(ctx: RequestContext, id: string): Promise<${n.Single}> {
      const found = await repo.find${n.Single}(tableDb(ctx), id);
      if (!found) throw notFound();
      return found;
    },

    async list(ctx: RequestContext, query: { limit: number; cursor?: string }): Promise<{ data: ${n.Single}[]; nextCursor: string | null }> {
      const rows = await repo.list${n.Plural}(tableDb(ctx), query.limit + 1, query.cursor);
      const data = rows.slice(0, query.limit);
      return { data, nextCursor: rows.length > query.limit ? (data.at(-1)?.id ?? null) : null };
    },

    async update(ctx: RequestContext, id: string, patch: Partial<${n.Single}Input>): Promise<${n.Single}> {
      return inTransaction(ctx, async (tx) => {
        const before = await repo.find${n.Single}(tableDb(tx), id);
        if (!before) throw notFound();
        const updated = await repo.update${n.Single}(tableDb(tx), id, {
          ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
          ...(patch.notes !== undefined ? { notes: clean(patch.notes) } : {}),
          updatedBy: ctx.actor.accountId,
          updatedAt: new Date(),
        });
        if (!updated) throw notFound();
        await audit(tx, 'updated', id, before, updated);
        return updated;
      });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await inTransaction(ctx, async (tx) => {
        const deleted = await repo.delete${n.Single}(tableDb(tx), id);
        if (!deleted) throw notFound();
        await audit(tx, 'deleted', id, deleted, null);
      });
    },
  };
}
`,

    'schemas.ts': `// The HTTP contract of ${n.words}: one TypeBox schema per shape gives
// validation, TypeScript types and the OpenAPI document.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\\\S' });
const Notes = Type.String({ maxLength: 10_000 });

export const ${n.Single} = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    notes: Nullable(Type.String()),
    createdBy: Uuid,
    updatedBy: Uuid,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: '${n.Single}' },
);

export const Create${n.Single} = Type.Object({ name: Name, notes: Type.Optional(Nullable(Notes)) }, { additionalProperties: false });

export const Update${n.Single} = Type.Object(
  { name: Type.Optional(Name), notes: Type.Optional(Nullable(Notes)) },
  { additionalProperties: false, minProperties: 1, description: 'Fields to change; null clears notes.' },
);

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ format: 'uuid', description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const ${n.Single}Page = Type.Object({
  data: Type.Array(Type.Ref('${n.Single}')),
  nextCursor: Nullable(Type.String()),
});
`,

    'routes.ts': `import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { create${n.Plural}Service } from './service.ts';
import { Create${n.Single}, ListQuery, ${n.Single}, ${n.Single}Page, Update${n.Single} } from './schemas.ts';

const ${n.Single}Ref = Type.Ref('${n.Single}');

export const ${n.single}Routes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app) => {
  const service = create${n.Plural}Service();
  app.addSchema(${n.Single});
  const tags = ['${n.folder}'];

  app.post(
    '/v1/${n.folder}',
    {
      config: { permission: '${perm('write')}' },
      schema: { tags, summary: 'Create a ${n.word}', body: Create${n.Single}, response: { 201: ${n.Single}Ref, ...problemResponses(400, 401, 403) } },
    },
    async (request, reply) => reply.code(201).send(await service.create(ctxOf(request), request.body)),
  );

  app.get(
    '/v1/${n.folder}',
    {
      config: { permission: '${perm('read')}' },
      schema: { tags, summary: 'List ${n.words} (newest first, cursor pagination)', querystring: ListQuery, response: { 200: ${n.Single}Page, ...problemResponses(400, 401, 403) } },
    },
    async (request) => service.list(ctxOf(request), request.query),
  );

  app.get(
    '/v1/${n.folder}/:id',
    {
      config: { permission: '${perm('read')}' },
      schema: { tags, summary: 'Get a ${n.word}', params: IdParams, response: { 200: ${n.Single}Ref, ...problemResponses(400, 401, 403, 404) } },
    },
    async (request) => service.get(ctxOf(request), request.params.id),
  );

  app.patch(
    '/v1/${n.folder}/:id',
    {
      config: { permission: '${perm('write')}' },
      schema: { tags, summary: 'Update a ${n.word}', params: IdParams, body: Update${n.Single}, response: { 200: ${n.Single}Ref, ...problemResponses(400, 401, 403, 404) } },
    },
    async (request) => service.update(ctxOf(request), request.params.id, request.body),
  );

  app.delete(
    '/v1/${n.folder}/:id',
    {
      config: { permission: '${perm('delete')}' },
      schema: { tags, summary: 'Delete a ${n.word}', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await service.remove(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
`,

    [`${n.folder}.test.ts`]: `// ${n.Plural} (generated by \`plinth make module\`): every route gets happy path,
// validation error 400, unauthenticated 401, another tenant's id 404 and
// missing permission 403, against the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startApp();
  [a, b] = await Promise.all([createTenant(h, '${n.folder.slice(0, 12)}-a'), createTenant(h, '${n.folder.slice(0, 12)}-b')]);
});
afterAll(() => h?.close());

interface ${n.Single}Json {
  id: string;
  name: string;
  notes: string | null;
  createdBy: string;
  createdAt: string;
}

const BASE = '/v1/${n.folder}';
const MISSING = '00000000-0000-7000-8000-000000000000';

async function create(t: TestTenant, body: Record<string, unknown> = { name: 'One' }): Promise<${n.Single}Json> {
  const res = await as(h, t)({ method: 'POST', url: BASE, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const rowsOf = async (t: TestTenant) =>
  (await sql<{ id: string; name: string; notes: string | null }>\`select id, name, notes from \${sql.id(t.tenant.schemaName, '${n.table}')} order by id\`.execute(h.db)).rows;

const noToken = (t: TestTenant, opts: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }) => h.app.inject({ ...opts, headers: { 'x-tenant': t.slug } });

/** A tenant whose viewer has lost its membership: authenticated, but holding no permission here. */
async function withoutMembership(): Promise<TestTenant> {
  const t = await createTenant(h, '${n.folder.slice(0, 12)}-r');
  await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
  return t;
}

describe('POST ${`/v1/${n.folder}`}', () => {
  it('creates a ${n.word} and its audit row', async () => {
    const created = await create(a, { name: ' First ', notes: 'Some notes' });
    expect(created).toMatchObject({ name: 'First', notes: 'Some notes', createdBy: a.accounts.owner.id });
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect((await rowsOf(a)).find((r) => r.id === created.id)?.name).toBe('First');
    const audit = await sql<{ action: string }>\`select action from \${sql.id(a.tenant.schemaName, 'audit_log')} where target_id = \${created.id}\`.execute(h.db);
    expect(audit.rows.map((r) => r.action)).toEqual(['${n.area}.${n.single}.created']);
  });

  it('400 for invalid fields, nothing stored', async () => {
    const before = (await rowsOf(a)).length;
    const p = expectProblem(await as(h, a)({ method: 'POST', url: BASE, payload: { name: '   ', unknown: 1 } }), 400, 'validation_failed');
    expect(p.errors!.map((e) => e.pointer).sort()).toEqual(['/name', '/unknown']);
    expect((await rowsOf(a)).length).toBe(before);
  });

  it('401 without a token', async () => {
    expectProblem(await noToken(a, { method: 'POST', url: BASE, payload: { name: 'X' } }), 401, 'unauthenticated');
  });

  it('403 for a viewer, nothing stored', async () => {
    const before = (await rowsOf(a)).length;
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: BASE, payload: { name: 'X' } }), 403, 'permission_denied');
    expect((await rowsOf(a)).length).toBe(before);
  });
});

describe('GET ${`/v1/${n.folder}`}/:id', () => {
  it('returns the ${n.word} to a viewer', async () => {
    const created = await create(a, { name: 'Get me' });
    const res = await as(h, a, 'viewer')({ method: 'GET', url: \`\${BASE}/\${created.id}\` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
  });

  it('400 for a malformed id', async () => {
    const p = expectProblem(await as(h, a)({ method: 'GET', url: \`\${BASE}/not-a-uuid\` }), 400, 'validation_failed');
    expect(p.errors?.[0]).toMatchObject({ in: 'params', pointer: '/id' });
  });

  it('401 without a token', async () => {
    const created = await create(a);
    expectProblem(await noToken(a, { method: 'GET', url: \`\${BASE}/\${created.id}\` }), 401, 'unauthenticated');
  });

  it("404 for another tenant's ${n.word}, identical to a missing one", async () => {
    const created = await create(a, { name: 'Secret' });
    const other = expectProblem(await as(h, b)({ method: 'GET', url: \`\${BASE}/\${created.id}\` }), 404, 'not_found');
    const missing = expectProblem(await as(h, b)({ method: 'GET', url: \`\${BASE}/\${MISSING}\` }), 404, 'not_found');
    expect(other.detail).toBe(missing.detail);
  });

  it('403 without the permission', async () => {
    const t = await withoutMembership();
    const created = await create(t);
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: \`\${BASE}/\${created.id}\` }), 403, 'permission_denied');
  });
});

describe('GET ${`/v1/${n.folder}`}', () => {
  it('pages through every ${n.word} of the tenant exactly once, newest first', async () => {
    const t = await createTenant(h, '${n.folder.slice(0, 12)}-l');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await create(t, { name: \`Item \${i}\` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(h, t, 'viewer')({ method: 'GET', url: BASE, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { data: ${n.Single}Json[]; nextCursor: string | null };
      seen.push(...page.data.map((x) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
  });

  it('400 for a bad limit or cursor', async () => {
    expectProblem(await as(h, a)({ method: 'GET', url: BASE, query: { limit: '0' } }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'GET', url: BASE, query: { cursor: 'nope' } }), 400, 'validation_failed');
  });

  it('401 without a token', async () => {
    expectProblem(await noToken(a, { method: 'GET', url: BASE }), 401, 'unauthenticated');
  });

  it("never lists another tenant's ${n.words}", async () => {
    const created = await create(a, { name: 'Only in A' });
    const res = await as(h, b)({ method: 'GET', url: BASE, query: { limit: '200' } });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { data: ${n.Single}Json[] }).data.map((x) => x.id)).not.toContain(created.id);
  });

  it('403 without the permission', async () => {
    const t = await withoutMembership();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: BASE }), 403, 'permission_denied');
  });
});

describe('PATCH ${`/v1/${n.folder}`}/:id', () => {
  it('updates the given fields and clears notes with null', async () => {
    const created = await create(a, { name: 'Before', notes: 'n' });
    const res = await as(h, a, 'member')({ method: 'PATCH', url: \`\${BASE}/\${created.id}\`, payload: { name: 'After', notes: null } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: created.id, name: 'After', notes: null });
  });

  it('400 for an empty patch or a bad field', async () => {
    const created = await create(a);
    expectProblem(await as(h, a)({ method: 'PATCH', url: \`\${BASE}/\${created.id}\`, payload: {} }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'PATCH', url: \`\${BASE}/\${created.id}\`, payload: { name: '' } }), 400, 'validation_failed');
  });

  it('401, 403 and 404 (other tenant) change nothing', async () => {
    const created = await create(a, { name: 'Keep' });
    const url = \`\${BASE}/\${created.id}\`;
    expectProblem(await noToken(a, { method: 'PATCH', url, payload: { name: 'X' } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'PATCH', url, payload: { name: 'X' } }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'PATCH', url, payload: { name: 'X' } }), 404, 'not_found');
    expect((await rowsOf(a)).find((r) => r.id === created.id)?.name).toBe('Keep');
  });
});

describe('DELETE ${`/v1/${n.folder}`}/:id', () => {
  it('deletes the ${n.word}; a second delete is 404', async () => {
    const created = await create(a);
    const url = \`\${BASE}/\${created.id}\`;
    expect((await as(h, a, 'member')({ method: 'DELETE', url })).statusCode).toBe(204);
    expect((await rowsOf(a)).some((r) => r.id === created.id)).toBe(false);
    expectProblem(await as(h, a)({ method: 'DELETE', url }), 404, 'not_found');
  });

  it('400, 401, 403 and other-tenant 404 leave the ${n.word} alone', async () => {
    const created = await create(a);
    const url = \`\${BASE}/\${created.id}\`;
    expectProblem(await as(h, a)({ method: 'DELETE', url: \`\${BASE}/nope\` }), 400, 'validation_failed');
    expectProblem(await noToken(a, { method: 'DELETE', url }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url }), 404, 'not_found');
    expect((await rowsOf(a)).some((r) => r.id === created.id)).toBe(true);
  });
});

describe('API documentation', () => {
  it('lists the ${n.words} routes in the OpenAPI document behind /docs', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths[BASE] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths[\`\${BASE}/{id}\`] ?? {}).sort()).toEqual(['delete', 'get', 'patch']);
  });
});
`,
  };
}
