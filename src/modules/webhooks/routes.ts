import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, Nullable, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import { scopeToTenant, type RequestContext } from '../../platform/context.ts';
import { DOMAIN_EVENT_TYPES } from '../../platform/events/events.ts';
import { refuseTarget } from './target.ts';
import { auditRequest } from '../../platform/audit/writer.ts';
import type { DeliveryRow, EndpointRow, WebhookTables } from './tables.ts';

const Endpoint = Type.Object(
  { id: Uuid, url: Type.String(), events: Type.Array(Type.String()), enabled: Type.Boolean(), failureStreak: Type.Integer(), disabledAt: Nullable(Type.String({ format: 'date-time' })), createdAt: Type.String({ format: 'date-time' }) },
  { $id: 'WebhookEndpoint' },
);
const Delivery = Type.Object({
  id: Uuid,
  eventId: Uuid,
  eventType: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  responseStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  durationMs: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  deliveredAt: Nullable(Type.String({ format: 'date-time' })),
});
const tags = ['webhooks'];
const permission = 'webhooks.endpoints.manage';

const endpointJson = (e: EndpointRow) => ({ id: e.id, url: e.url, events: e.events, enabled: e.enabled, failureStreak: e.failureStreak, disabledAt: e.disabledAt?.toISOString() ?? null, createdAt: e.createdAt.toISOString() });
const deliveryJson = (d: DeliveryRow) => ({ id: d.id, eventId: d.eventId, eventType: d.eventType, status: d.status, attempts: d.attempts, responseStatus: d.responseStatus, lastError: d.lastError, durationMs: d.durationMs, createdAt: d.createdAt.toISOString(), deliveredAt: d.deliveredAt?.toISOString() ?? null });
const tdb = (ctx: RequestContext) => ctx.db.withTables<WebhookTables>();

/** What the audit trail keeps of an endpoint (never its secret). */
const audited = (e: EndpointRow) => ({ url: e.url, events: e.events, enabled: e.enabled });
const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

async function checkUrl(url: string, allowPrivate: boolean) {
  const refused = await refuseTarget(url, allowPrivate);
  if (refused) throw new AppError('validation_failed', `The URL ${refused}`, { errors: [{ pointer: '/url', in: 'body', detail: refused }] });
}

async function endpointOf(ctx: RequestContext, id: string) {
  const e = await tdb(ctx).selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  if (!e) throw new AppError('not_found', 'No such webhook endpoint');
  return e;
}

export const webhookRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  app.addSchema(Endpoint);

  app.post('/v1/webhooks', {
    config: { permission },
    schema: {
      tags,
      summary: 'Register an endpoint for some event types; the signing secret is returned once',
      body: Type.Object({ url: Type.String({ format: 'uri', maxLength: 2000 }), events: Type.Array(Type.Enum([...DOMAIN_EVENT_TYPES]), { minItems: 1, uniqueItems: true }) }, { additionalProperties: false }),
      response: { 201: Type.Intersect([Type.Ref('WebhookEndpoint'), Type.Object({ secret: Type.String() })]), ...problemResponses(400, 401, 403) },
    },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    await checkUrl(request.body.url, platform.config.WEBHOOKS_ALLOW_PRIVATE);
    const secret = newSecret();
    const row = await platform.db.transaction().execute(async (trx) => {
      const created = await scopeToTenant(trx, ctx.tenant.schemaName).withTables<WebhookTables>().insertInto('webhook_endpoints').values({ id: uuidv7(), url: request.body.url, secret, events: request.body.events, createdBy: ctx.actor.accountId }).returningAll().executeTakeFirstOrThrow();
      await auditRequest(trx, ctx, { action: 'webhooks.endpoint.created', targetType: 'webhook_endpoint', targetId: created.id, after: audited(created) });
      return created;
    });
    return reply.code(201).send({ ...endpointJson(row), secret });
  });

  app.get('/v1/webhooks', {
    config: { permission },
    schema: { tags, summary: "The tenant's webhook endpoints", response: { 200: Type.Object({ data: Type.Array(Type.Ref('WebhookEndpoint')) }), ...problemResponses(401, 403) } },
  }, async (request) => {
    const rows = await tdb(ctxOf(request)).selectFrom('webhook_endpoints').selectAll().orderBy('createdAt', 'desc').execute();
    return { data: rows.map(endpointJson) };
  });

  app.delete('/v1/webhooks/:id', {
    config: { permission },
    schema: { tags, summary: 'Remove an endpoint (and its delivery log)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    await platform.db.transaction().execute(async (trx) => {
      const gone = await scopeToTenant(trx, ctx.tenant.schemaName).withTables<WebhookTables>().deleteFrom('webhook_endpoints').where('id', '=', request.params.id).returningAll().executeTakeFirst();
      if (!gone) throw new AppError('not_found', 'No such webhook endpoint');
      await auditRequest(trx, ctx, { action: 'webhooks.endpoint.deleted', targetType: 'webhook_endpoint', targetId: gone.id, before: audited(gone) });
    });
    return reply.code(204).send(null);
  });

  app.post('/v1/webhooks/:id/enable', {
    config: { permission },
    schema: { tags, summary: 'Enable an endpoint again (after it was disabled for failures)', params: IdParams, response: { 200: Type.Ref('WebhookEndpoint'), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    const before = await endpointOf(ctx, request.params.id);
    const row = await platform.db.transaction().execute(async (trx) => {
      const updated = await scopeToTenant(trx, ctx.tenant.schemaName).withTables<WebhookTables>().updateTable('webhook_endpoints').set({ enabled: true, disabledAt: null, failureStreak: 0 }).where('id', '=', request.params.id).returningAll().executeTakeFirstOrThrow();
      await auditRequest(trx, ctx, { action: 'webhooks.endpoint.enabled', targetType: 'webhook_endpoint', targetId: updated.id, before: audited(before), after: audited(updated) });
      return updated;
    });
    return endpointJson(row);
  });

  app.patch('/v1/webhooks/:id', {
    config: { permission },
    schema: {
      tags,
      summary: "Change an endpoint's URL or event types",
      params: IdParams,
      body: Type.Object({ url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })), events: Type.Optional(Type.Array(Type.Enum([...DOMAIN_EVENT_TYPES]), { minItems: 1, uniqueItems: true })) }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: Type.Ref('WebhookEndpoint'), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const ctx = ctxOf(request);
    const before = await endpointOf(ctx, request.params.id);
    if (request.body.url !== undefined) await checkUrl(request.body.url, platform.config.WEBHOOKS_ALLOW_PRIVATE);
    const row = await platform.db.transaction().execute(async (trx) => {
      const updated = await scopeToTenant(trx, ctx.tenant.schemaName).withTables<WebhookTables>().updateTable('webhook_endpoints').set({ ...request.body }).where('id', '=', before.id).returningAll().executeTakeFirst();
      if (!updated) throw new AppError('not_found', 'No such webhook endpoint');
      await auditRequest(trx, ctx, { action: 'webhooks.endpoint.updated', targetType: 'webhook_endpoint', targetId: updated.id, before: audited(before), after: audited(updated) });
      return updated;
    });
    return endpointJson(row);
  });

  app.post('/v1/webhooks/:id/rotate-secret', {
    config: { permission },
    schema: {
      tags,
      summary: 'Replace the signing secret (the new one is returned once; the old one stops signing at once)',
      params: IdParams,
      response: { 200: Type.Intersect([Type.Ref('WebhookEndpoint'), Type.Object({ secret: Type.String() })]), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const ctx = ctxOf(request);
    const secret = newSecret();
    const row = await platform.db.transaction().execute(async (trx) => {
      const updated = await scopeToTenant(trx, ctx.tenant.schemaName).withTables<WebhookTables>().updateTable('webhook_endpoints').set({ secret }).where('id', '=', request.params.id).returningAll().executeTakeFirst();
      if (!updated) throw new AppError('not_found', 'No such webhook endpoint');
      await auditRequest(trx, ctx, { action: 'webhooks.endpoint.secret_rotated', targetType: 'webhook_endpoint', targetId: updated.id });
      return updated;
    });
    return { ...endpointJson(row), secret };
  });

  app.post('/v1/webhooks/:id/ping', {
    config: { permission },
    schema: { tags, summary: 'Send a signed webhooks.ping event to this endpoint', params: IdParams, response: { 202: Type.Object({ eventId: Uuid }), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    const endpoint = await endpointOf(ctx, request.params.id);
    if (!endpoint.events.includes('webhooks.ping')) throw new AppError('conflict', 'This endpoint is not subscribed to webhooks.ping');
    const event = await platform.db.transaction().execute(async (trx) => {
      const published = await platform.events.publish(trx, ctx, 'webhooks.ping', { endpointId: endpoint.id });
      await auditRequest(trx, ctx, { action: 'webhooks.endpoint.pinged', targetType: 'webhook_endpoint', targetId: endpoint.id, details: { eventId: published.id } });
      return published;
    });
    return reply.code(202).send({ eventId: event.id });
  });

  app.get('/v1/webhooks/:id/deliveries', {
    config: { permission },
    schema: { tags, summary: 'Delivery log of an endpoint, newest first', params: IdParams, querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) }, { additionalProperties: false }), response: { 200: Type.Object({ data: Type.Array(Delivery) }), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    await endpointOf(ctx, request.params.id);
    const rows = await tdb(ctx).selectFrom('webhook_deliveries').selectAll().where('endpointId', '=', request.params.id).orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(request.query.limit).execute();
    return { data: rows.map(deliveryJson) };
  });
};
