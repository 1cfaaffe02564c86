// HTTP routes of saved views and CRM search.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createViewsService } from './service.ts';
import { searchCrm } from './search.ts';
import { CreateView, SavedView, SearchQuery, SearchResult, UpdateView, ViewList, ViewListQuery } from './schemas.ts';

const Ref = Type.Ref('SavedView');

export const viewRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app) => {
  const views = createViewsService();
  app.addSchema(SavedView);
  const tags = ['views'];
  const config = { permission: 'crm.views.manage' };

  app.get('/v1/views', { config, schema: { tags, summary: 'Your saved views', querystring: ViewListQuery, response: { 200: ViewList, ...problemResponses(400, 401, 403) } } }, async (request) =>
    views.list(ctxOf(request), request.query),
  );
  app.post('/v1/views', { config, schema: { tags, summary: 'Save a view (use it with ?view=<id> on the list)', body: CreateView, response: { 201: Ref, ...problemResponses(400, 401, 403) } } }, async (request, reply) =>
    reply.code(201).send(await views.create(ctxOf(request), request.body)),
  );
  app.get('/v1/views/:id', { config, schema: { tags, summary: 'Get one of your views', params: IdParams, response: { 200: Ref, ...problemResponses(400, 401, 403, 404) } } }, async (request) =>
    views.get(ctxOf(request), request.params.id),
  );
  app.patch('/v1/views/:id', { config, schema: { tags, summary: 'Change one of your views', params: IdParams, body: UpdateView, response: { 200: Ref, ...problemResponses(400, 401, 403, 404) } } }, async (request) =>
    views.update(ctxOf(request), request.params.id, request.body),
  );
  app.delete('/v1/views/:id', { config, schema: { tags, summary: 'Delete one of your views', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } } }, async (request, reply) => {
    await views.remove(ctxOf(request), request.params.id);
    return reply.code(204).send(null);
  });

  app.get(
    '/v1/search',
    { config: { permission: 'crm.search.read' }, schema: { tags: ['search'], summary: 'Full-text search over company names and domains, people names and emails, deal names', querystring: SearchQuery, response: { 200: SearchResult, ...problemResponses(400, 401, 403) } } },
    async (request) => searchCrm(ctxOf(request), request.query.q, request.query.limit),
  );
};
