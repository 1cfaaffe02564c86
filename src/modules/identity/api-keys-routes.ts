// API keys of a tenant: created with a subset of the creator's permissions,
// shown once, listed without secrets, revoked.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import { createApiKey, listApiKeys, revokeApiKey, type ApiKeyRow } from '../../platform/auth/api-keys.ts';
import { auditRequest } from '../../platform/audit/writer.ts';

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    permissions: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 200, description: 'A subset of your own permissions' }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

const ApiKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: 'Public part of the key, for recognising it' }),
  permissions: Type.Array(Type.String()),
  createdBy: Uuid,
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const toJson = (r: ApiKeyRow) => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  permissions: r.permissions,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  expiresAt: iso(r.expiresAt),
  lastUsedAt: iso(r.lastUsedAt),
  revokedAt: iso(r.revokedAt),
});

/** Sign-in routes act on a person's own sessions and factors: no key may hold them. */
const NOT_FOR_KEYS = new Set(['identity.sessions.manage', 'identity.me.read']);

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { db } = platform;
  const tags = ['api keys'];

  app.post(
    '/v1/api-keys',
    {
      config: { permission: 'identity.apiKeys.manage' },
      schema: {
        tags,
        summary: 'Create an API key (the key is in this response only)',
        description: 'Use it as `Authorization: Bearer plk_…`. It acts as you, limited to the permissions given here that you still hold.',
        body: CreateBody,
        response: { 201: Type.Intersect([ApiKey, Type.Object({ key: Type.String() })]), ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const wanted = [...new Set(request.body.permissions)].sort();
      const unknown = wanted.filter((p) => !platform.permissions.has(p) || NOT_FOR_KEYS.has(p));
      if (unknown.length > 0) {
        throw new AppError('validation_failed', `Not permissions an API key can hold: ${unknown.join(', ')}`, {
          errors: unknown.map((p) => ({ in: 'body' as const, pointer: `/permissions/${request.body.permissions.indexOf(p)}`, detail: `${p} is not a grantable permission` })),
        });
      }
      const lacking = wanted.filter((p) => !ctx.actor.permissions.has(p));
      if (lacking.length > 0) throw new AppError('permission_denied', `You cannot grant permissions you do not hold: ${lacking.join(', ')}`);
      const expiresAt = request.body.expiresAt ? new Date(request.body.expiresAt) : null;
      if (expiresAt && expiresAt <= new Date()) throw new AppError('validation_failed', 'expiresAt must be in the future', { errors: [{ in: 'body', pointer: '/expiresAt', detail: 'must be in the future' }] });
      const { key, row } = await db.transaction().execute(async (trx) => {
        const created = await createApiKey(trx, { tenantId: ctx.tenant.id, createdBy: ctx.actor.accountId, name: request.body.name.trim(), permissions: wanted, expiresAt });
        await auditRequest(trx, ctx, { action: 'auth.api_key.created', targetType: 'api_key', targetId: created.row.id, after: { name: created.row.name, permissions: created.row.permissions, expiresAt: created.row.expiresAt } });
        return created;
      });
      return reply.code(201).send({ ...toJson(row), key });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { permission: 'identity.apiKeys.manage' },
      schema: { tags, summary: "This tenant's API keys (never the secrets)", response: { 200: Type.Object({ items: Type.Array(ApiKey) }), ...problemResponses(401, 403) } },
    },
    async (request) => ({ items: (await listApiKeys(db, ctxOf(request).tenant.id)).map(toJson) }),
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { permission: 'identity.apiKeys.manage' },
      schema: { tags, summary: 'Revoke an API key', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      await db.transaction().execute(async (trx) => {
        const revoked = await revokeApiKey(trx, ctx.tenant.id, request.params.id);
        if (!revoked) throw new AppError('not_found', 'No such live API key');
        await auditRequest(trx, ctx, { action: 'auth.api_key.revoked', targetType: 'api_key', targetId: revoked.id });
      });
      return reply.code(204).send(null);
    },
  );
};
