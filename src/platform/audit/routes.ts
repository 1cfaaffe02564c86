import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../module.ts';
import { ctxOf } from '../http/access-guard.ts';
import { problemResponses, Uuid } from '../http/schemas.ts';
import { AppError } from '../errors.ts';
import type { AuditTables } from './tables.ts';
import { verifyChain } from './verify.ts';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Static } from 'typebox';
import type { RequestContext } from '../context.ts';

const Entry = Type.Object({
  seq: Type.Integer(),
  id: Uuid,
  occurredAt: Type.String({ format: 'date-time' }),
  actorId: Type.Union([Uuid, Type.Null()]),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  changes: Type.Union([Type.Record(Type.String(), Type.Object({ before: Type.Unknown(), after: Type.Unknown() })), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  hash: Type.String({ description: 'hex sha256(prev_hash ‖ canonical row)' }),
});

const Query = Type.Object(
  {
    actorId: Type.Optional(Uuid),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Exact action, or a prefix ending in * (auth.*)' })),
    targetType: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

const ExportQuery = Type.Omit(Query, ['limit', 'cursor'], { additionalProperties: false });
type Filters = Static<typeof ExportQuery> & { cursor?: string };

/** The filtered trail, newest first. */
function filtered(ctx: RequestContext, q: Filters) {
  if (q.from && q.to && new Date(q.from) >= new Date(q.to)) throw new AppError('validation_failed', '`from` must be before `to`', { errors: [{ in: 'query', pointer: '/from', detail: 'must be before to' }] });
  return ctx.db
    .withTables<AuditTables>()
    .selectFrom('auditLog')
    .selectAll()
    .$if(q.actorId !== undefined, (b) => b.where('actorId', '=', q.actorId!))
    .$if(q.action !== undefined, (b) => (q.action!.endsWith('*') ? b.where('action', 'like', `${q.action!.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`) : b.where('action', '=', q.action!)))
    .$if(q.targetType !== undefined, (b) => b.where('targetType', '=', q.targetType!))
    .$if(q.targetId !== undefined, (b) => b.where('targetId', '=', q.targetId!))
    .$if(q.from !== undefined, (b) => b.where('occurredAt', '>=', new Date(q.from!)))
    .$if(q.to !== undefined, (b) => b.where('occurredAt', '<', new Date(q.to!)))
    .$if(q.cursor !== undefined, (b) => b.where('seq', '<', Number(q.cursor)))
    .orderBy('seq', 'desc');
}

const CSV_COLUMNS = ['seq', 'occurredAt', 'actorId', 'action', 'targetType', 'targetId', 'changes', 'ip', 'userAgent', 'requestId', 'hash'] as const;
/** A cell a spreadsheet would run as a formula gets a leading quote (OWASP CSV injection). */
const safeCell = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
const EXPORT_BATCH = 1000;

const Verify = Type.Object({ ok: Type.Boolean(), checked: Type.Integer(), firstBrokenSeq: Type.Optional(Type.Integer()), reason: Type.Optional(Type.String()) });

export const auditRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app) => {
  const tags = ['audit'];

  app.get(
    '/v1/audit',
    {
      config: { permission: 'audit.log.read' },
      schema: {
        tags,
        summary: 'The audit trail, newest first (filters, cursor pagination)',
        querystring: Query,
        response: { 200: Type.Object({ data: Type.Array(Entry), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await filtered(ctxOf(request), q).limit(q.limit + 1).execute();
      const page = rows.slice(0, q.limit);
      return {
        data: page.map(({ prevHash: _p, ...r }) => ({ ...r, seq: Number(r.seq), occurredAt: r.occurredAt.toISOString(), hash: r.hash.toString('hex') })),
        nextCursor: rows.length > q.limit ? String(page.at(-1)!.seq) : null,
      };
    },
  );

  app.get(
    '/v1/audit/export.csv',
    {
      config: { permission: 'audit.log.read' },
      schema: {
        tags,
        summary: 'The filtered audit trail as CSV (same filters as GET /v1/audit), newest first, streamed',
        querystring: ExportQuery,
        produces: ['text/csv'],
        // 200: text/csv, `changes` as JSON (a stream, so no response schema).
        response: problemResponses(400, 401, 403),
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const q = request.query;
      filtered(ctx, q); // validates the filters before the 200 starts
      async function* lines() {
        yield stringify([[...CSV_COLUMNS]]);
        let cursor: string | undefined;
        for (;;) {
          const rows = await filtered(ctx, { ...q, ...(cursor ? { cursor } : {}) }).limit(EXPORT_BATCH).execute();
          if (rows.length === 0) return;
          yield stringify(
            rows.map((r) =>
              [String(r.seq), r.occurredAt.toISOString(), r.actorId ?? '', r.action, r.targetType ?? '', r.targetId ?? '', r.changes ? JSON.stringify(r.changes) : '', r.ip ?? '', r.userAgent ?? '', r.requestId ?? '', r.hash.toString('hex')].map(safeCell),
            ),
          );
          if (rows.length < EXPORT_BATCH) return;
          cursor = String(rows.at(-1)!.seq);
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${ctx.tenant.slug}.csv"`)
        .send(Readable.from(lines()));
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { permission: 'audit.log.verify' },
      schema: { tags, summary: "Check the tenant's audit hash chain; reports the first broken link", response: { 200: Verify, ...problemResponses(401, 403) } },
    },
    async (request) => verifyChain(ctxOf(request).db),
  );
};
