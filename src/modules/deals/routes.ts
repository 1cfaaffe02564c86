// HTTP routes of pipelines and deals: thin handlers over the services.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createDealsService } from './service.ts';
import { createViewsService } from '../views/service.ts';
import { csvExport, customColumns } from '../views/csv-export.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import type { CustomFieldsTables } from '../custom-fields/tables.ts';
import { CsvText } from '../crm-reports/schemas.ts';
import { createPipelinesService } from './pipelines-service.ts';
import { CreateDeal, CreatePipeline, Deal, DealListQuery, DealPage, Pipeline, PipelineList, PipelineListQuery, StageHistory, UpdateDeal, UpdatePipeline } from './schemas.ts';

const DealRef = Type.Ref('Deal');
const PipelineRef = Type.Ref('Pipeline');

export const dealRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const deals = createDealsService(platform);
  const pipelines = createPipelinesService();
  const views = createViewsService();
  app.addSchema(Deal);
  app.addSchema(Pipeline);

  {
    const tags = ['pipelines'];
    app.get(
      '/v1/pipelines',
      { config: { permission: 'crm.deals.read' }, schema: { tags, summary: 'List pipelines with their ordered stages', querystring: PipelineListQuery, response: { 200: PipelineList, ...problemResponses(400, 401, 403) } } },
      async (request) => pipelines.list(ctxOf(request), request.query),
    );
    app.post(
      '/v1/pipelines',
      { config: { permission: 'crm.pipelines.manage' }, schema: { tags, summary: 'Create a pipeline', body: CreatePipeline, response: { 201: PipelineRef, ...problemResponses(400, 401, 403) } } },
      async (request, reply) => reply.code(201).send(await pipelines.create(ctxOf(request), request.body)),
    );
    app.get(
      '/v1/pipelines/:id',
      { config: { permission: 'crm.deals.read' }, schema: { tags, summary: 'Get a pipeline', params: IdParams, response: { 200: PipelineRef, ...problemResponses(400, 401, 403, 404) } } },
      async (request) => pipelines.get(ctxOf(request), request.params.id),
    );
    app.patch(
      '/v1/pipelines/:id',
      {
        config: { permission: 'crm.pipelines.manage' },
        schema: { tags, summary: 'Rename, make default, or replace the ordered stages', params: IdParams, body: UpdatePipeline, response: { 200: PipelineRef, ...problemResponses(400, 401, 403, 404, 409, 422) } },
      },
      async (request) => pipelines.update(ctxOf(request), request.params.id, request.body),
    );
    app.delete(
      '/v1/pipelines/:id',
      { config: { permission: 'crm.pipelines.manage' }, schema: { tags, summary: 'Delete a pipeline without live deals (soft)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 409) } } },
      async (request, reply) => {
        await pipelines.remove(ctxOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/v1/pipelines/:id/restore',
      { config: { permission: 'crm.pipelines.manage' }, schema: { tags, summary: 'Restore a deleted pipeline', params: IdParams, response: { 200: PipelineRef, ...problemResponses(400, 401, 403, 404) } } },
      async (request) => pipelines.restore(ctxOf(request), request.params.id),
    );
  }

  const tags = ['deals'];
  app.post(
    '/v1/deals',
    { config: { permission: 'crm.deals.write' }, schema: { tags, summary: 'Create a deal', body: CreateDeal, response: { 201: DealRef, ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => reply.code(201).send(await deals.create(ctxOf(request), request.body)),
  );
  app.get(
    '/v1/deals',
    { config: { permission: 'crm.deals.read' }, schema: { tags, summary: 'List deals (cursor pagination, filters, sort)', querystring: DealListQuery, response: { 200: DealPage, ...problemResponses(400, 401, 403) } } },
    async (request) => {
      const ctx = ctxOf(request);
      return deals.list(ctx, await views.applyView(ctx, request.query, 'deal'));
    },
  );
  const STANDARD = ['id', 'name', 'amount', 'currency', 'closeDate', 'pipelineId', 'stageId', 'stageChangedAt', 'companyId', 'ownerId', 'contactIds', 'createdAt', 'updatedAt'] as const;
  app.get(
    '/v1/deals/export.csv',
    {
      config: { permission: 'crm.deals.read' },
      schema: { tags, summary: 'Every deal matching the list parameters as CSV, streamed (no cap); custom fields as custom.<key> columns', querystring: DealListQuery, produces: ['text/csv'], response: { 200: CsvText, ...problemResponses(400, 401, 403) } },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const query = await views.applyView(ctx, request.query, 'deal');
      const keys = (await fieldsOf(ctx.db.withTables<CustomFieldsTables>(), 'deal')).map((f) => f.key);
      // Validate (and fail with a problem) before the first byte is sent.
      const first = await deals.list(ctx, { ...query, limit: 500, cursor: undefined });
      return csvExport(reply, 'deals.csv', [...STANDARD, ...keys.map((k) => `custom.${k}`)], (cursor, limit) => (cursor ? deals.list(ctx, { ...query, limit, cursor }) : Promise.resolve(first)), (d) => ({
        ...Object.fromEntries(STANDARD.map((c) => [c, c === 'contactIds' ? d.contactIds.join('; ') : d[c]])),
        ...customColumns(keys, d.custom),
      }));
    },
  );
  app.get(
    '/v1/deals/:id',
    { config: { permission: 'crm.deals.read' }, schema: { tags, summary: 'Get a deal', params: IdParams, response: { 200: DealRef, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => deals.get(ctxOf(request), request.params.id),
  );
  app.patch(
    '/v1/deals/:id',
    { config: { permission: 'crm.deals.write' }, schema: { tags, summary: 'Update a deal (a stage change is recorded in its history)', params: IdParams, body: UpdateDeal, response: { 200: DealRef, ...problemResponses(400, 401, 403, 404, 422) } } },
    async (request) => deals.update(ctxOf(request), request.params.id, request.body),
  );
  app.delete(
    '/v1/deals/:id',
    { config: { permission: 'crm.deals.delete' }, schema: { tags, summary: 'Delete a deal (soft: it can be restored)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      await deals.remove(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/v1/deals/:id/restore',
    { config: { permission: 'crm.deals.delete' }, schema: { tags, summary: 'Restore a deleted deal', params: IdParams, response: { 200: DealRef, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => deals.restore(ctxOf(request), request.params.id),
  );
  app.get(
    '/v1/deals/:id/stage-history',
    { config: { permission: 'crm.deals.read' }, schema: { tags, summary: 'Every stage the deal entered, oldest first', params: IdParams, response: { 200: StageHistory, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => deals.stageHistory(ctxOf(request), request.params.id),
  );
};
