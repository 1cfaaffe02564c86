import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { auditRequest } from '../../platform/audit/writer.ts';
import { IdParams, Nullable, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { createNotifications, READ_EVENT, toJson } from './service.ts';

const Notification = Type.Object(
  { id: Uuid, kind: Type.String(), title: Type.String(), body: Nullable(Type.String()), link: Nullable(Type.String()), readAt: Nullable(Type.String({ format: 'date-time' })), createdAt: Type.String({ format: 'date-time' }) },
  { $id: 'Notification' },
);
const Kind = Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,99}$' });
const Preference = Type.Object({ kind: Type.String(), inApp: Type.Boolean(), email: Type.Boolean() });
const tags = ['notifications'];

export const notificationRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const notifications = createNotifications(platform);
  const db = platform.db;
  app.addSchema(Notification);

  app.get('/v1/notifications', {
    config: { permission: 'notifications.inbox.read' },
    schema: {
      tags,
      summary: 'Your notifications, newest first',
      querystring: Type.Object({ unread: Type.Boolean({ default: false }), limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }), before: Type.Optional(Uuid) }, { additionalProperties: false }),
      response: { 200: Type.Object({ data: Type.Array(Type.Ref('Notification')) }), ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const ctx = ctxOf(request);
    return { data: (await notifications.list(db, ctx.tenant.schemaName, ctx.actor.accountId, request.query)).map(toJson) };
  });

  app.get('/v1/notifications/unread-count', {
    config: { permission: 'notifications.inbox.read' },
    schema: { tags, summary: 'How many of your notifications are unread', response: { 200: Type.Object({ unread: Type.Integer() }), ...problemResponses(401, 403) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    return { unread: await notifications.unreadCount(db, ctx.tenant.schemaName, ctx.actor.accountId) };
  });

  app.post('/v1/notifications/:id/read', {
    config: { permission: 'notifications.inbox.read' },
    schema: { tags, summary: 'Mark one of your notifications read', params: IdParams, response: { 200: Type.Ref('Notification'), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    const row = await notifications.markRead(db, ctx.tenant.schemaName, ctx.actor.accountId, request.params.id);
    // Your other tabs, on any instance (through the socket.io adapter).
    platform.realtime.broadcast({ tenantId: ctx.tenant.id, accountId: ctx.actor.accountId, event: READ_EVENT, data: { ids: [row.id] } });
    return toJson(row);
  });

  app.post('/v1/notifications/read-all', {
    config: { permission: 'notifications.inbox.read' },
    schema: { tags, summary: 'Mark all your notifications read', response: { 200: Type.Object({ updated: Type.Integer() }), ...problemResponses(401, 403) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    const updated = await notifications.markAllRead(db, ctx.tenant.schemaName, ctx.actor.accountId);
    platform.realtime.broadcast({ tenantId: ctx.tenant.id, accountId: ctx.actor.accountId, event: READ_EVENT, data: { all: true } });
    return { updated };
  });

  app.get('/v1/notifications/preferences', {
    config: { permission: 'notifications.inbox.read' },
    schema: { tags, summary: 'Your preferences per kind (kinds not listed: in-app on, email off)', response: { 200: Type.Object({ data: Type.Array(Preference) }), ...problemResponses(401, 403) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    return { data: await notifications.preferences(db, ctx.tenant.schemaName, ctx.actor.accountId) };
  });

  app.put('/v1/notifications/preferences/:kind', {
    config: { permission: 'notifications.inbox.read' },
    schema: { tags, summary: 'Choose in-app and email delivery for one kind', params: Type.Object({ kind: Kind }, { additionalProperties: false }), body: Type.Object({ inApp: Type.Boolean(), email: Type.Boolean() }, { additionalProperties: false }), response: { 200: Preference, ...problemResponses(400, 401, 403) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    return notifications.setPreference(db, ctx.tenant.schemaName, ctx.actor.accountId, request.params.kind, request.body);
  });

  app.post('/v1/notifications', {
    config: { permission: 'notifications.messages.send' },
    schema: {
      tags,
      summary: 'Send a notification to a member (delivered live after commit)',
      body: Type.Object({ accountId: Uuid, kind: Kind, title: Type.String({ minLength: 1, maxLength: 200 }), body: Type.Optional(Type.String({ maxLength: 2000 })), link: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })) }, { additionalProperties: false }),
      response: { 201: Type.Union([Type.Ref('Notification'), Type.Null()]), ...problemResponses(400, 401, 403, 422) },
    },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    const row = await db.transaction().execute(async (trx) => {
      const sent = await notifications.notify(trx, ctx, request.body);
      await auditRequest(trx, ctx, {
        action: 'notifications.notification.sent',
        targetType: 'account',
        targetId: request.body.accountId,
        details: { kind: request.body.kind, title: request.body.title, notificationId: sent?.id ?? null },
      });
      return sent;
    });
    return reply.code(201).send(row ? toJson(row) : null);
  });
};
