import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../module.ts';
import { ctxOf } from '../http/access-guard.ts';
import { problemResponses, Uuid } from '../http/schemas.ts';
import { AppError } from '../errors.ts';
import type { AuditTables } from './tables.ts';
import { verifyChain } from './verify.ts';

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
      const ctx = ctxOf(request);
      const q = request.query;
      if (q.from && q.to && new Date(q.from) >= new Date(q.to)) throw new AppError('validation_failed', '`from` must be before `to`', { errors: [{ in: 'query', pointer: '/from', detail: 'must be before to' }] });
      const db = ctx.db.withTables<AuditTables>();
      const rows = await db
        .selectFrom('auditLog')
        .selectAll()
        .$if(q.actorId !== undefined, (b) => b.where('actorId', '=', q.actorId!))
        .$if(q.action !== undefined, (b) => (q.action!.endsWith('*') ? b.where('action', 'like', `${q.action!.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`) : b.where('action', '=', q.action!)))
        .$if(q.targetType !== undefined, (b) => b.where('targetType', '=', q.targetType!))
        .$if(q.targetId !== undefined, (b) => b.where('targetId', '=', q.targetId!))
        .$if(q.from !== undefined, (b) => b.where('occurredAt', '>=', new Date(q.from!)))
        .$if(q.to !== undefined, (b) => b.where('occurredAt', '<', new Date(q.to!)))
        .$if(q.cursor !== undefined, (b) => b.where('seq', '<', Number(q.cursor)))
        .orderBy('seq', 'desc')
        .limit(q.limit + 1)
        .execute();
      const page = rows.slice(0, q.limit);
      return {
        data: page.map(({ prevHash: _p, ...r }) => ({ ...r, seq: Number(r.seq), occurredAt: r.occurredAt.toISOString(), hash: r.hash.toString('hex') })),
        nextCursor: rows.length > q.limit ? String(page.at(-1)!.seq) : null,
      };
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
