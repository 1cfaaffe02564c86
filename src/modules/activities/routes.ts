// HTTP routes of activities and of record timelines.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createActivitiesService } from './service.ts';
import { Activity, ActivityListQuery, ActivityPage, CreateActivity, Timeline, TimelineQuery, UpdateActivity } from './schemas.ts';

const ActivityRef = Type.Ref('Activity');

export const activityRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const activities = createActivitiesService(platform);
  app.addSchema(Activity);
  const tags = ['activities'];

  app.post(
    '/v1/activities',
    { config: { permission: 'crm.activities.write' }, schema: { tags, summary: 'Create a note, task, call or meeting', body: CreateActivity, response: { 201: ActivityRef, ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => reply.code(201).send(await activities.create(ctxOf(request), request.body)),
  );
  app.get(
    '/v1/activities',
    { config: { permission: 'crm.activities.read' }, schema: { tags, summary: 'List activities (e.g. my open tasks: ?type=task&status=todo&assigneeId=…&sort=dueAt)', querystring: ActivityListQuery, response: { 200: ActivityPage, ...problemResponses(400, 401, 403) } } },
    async (request) => activities.list(ctxOf(request), request.query),
  );
  app.get(
    '/v1/activities/:id',
    { config: { permission: 'crm.activities.read' }, schema: { tags, summary: 'Get an activity', params: IdParams, response: { 200: ActivityRef, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => activities.get(ctxOf(request), request.params.id),
  );
  app.patch(
    '/v1/activities/:id',
    { config: { permission: 'crm.activities.write' }, schema: { tags, summary: 'Update an activity (its type is fixed)', params: IdParams, body: UpdateActivity, response: { 200: ActivityRef, ...problemResponses(400, 401, 403, 404, 422) } } },
    async (request) => activities.update(ctxOf(request), request.params.id, request.body),
  );
  app.delete(
    '/v1/activities/:id',
    { config: { permission: 'crm.activities.delete' }, schema: { tags, summary: 'Delete an activity (soft)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      await activities.remove(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/v1/activities/:id/restore',
    { config: { permission: 'crm.activities.delete' }, schema: { tags, summary: 'Restore a deleted activity', params: IdParams, response: { 200: ActivityRef, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => activities.restore(ctxOf(request), request.params.id),
  );

  for (const [type, path] of [['company', 'companies'], ['contact', 'contacts'], ['deal', 'deals']] as const) {
    app.get(
      `/v1/${path}/:id/timeline`,
      {
        config: { permission: 'crm.activities.read' },
        schema: { tags: ['activities', path], summary: `Timeline of a ${type}: activities and field changes, newest first`, params: IdParams, querystring: TimelineQuery, response: { 200: Timeline, ...problemResponses(400, 401, 403, 404) } },
      },
      async (request) => activities.timeline(ctxOf(request), type, request.params.id, request.query),
    );
  }
};
