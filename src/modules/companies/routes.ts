// HTTP routes of companies: thin handlers over the service.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createCompaniesService } from './service.ts';
import { createViewsService } from '../views/service.ts';
import { mergeRoutes } from './merge-routes.ts';
import { Company, CompanyListQuery, CompanyPage, CreateCompany, UpdateCompany } from './schemas.ts';

const CompanyRef = Type.Ref('Company');

export const companyRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const companies = createCompaniesService(platform);
  const views = createViewsService();
  app.addSchema(Company);
  await app.register(mergeRoutes, { platform });
  const tags = ['companies'];

  app.post(
    '/v1/companies',
    { config: { permission: 'crm.companies.write' }, schema: { tags, summary: 'Create a company', body: CreateCompany, response: { 201: CompanyRef, ...problemResponses(400, 401, 403, 409, 422) } } },
    async (request, reply) => reply.code(201).send(await companies.create(ctxOf(request), request.body)),
  );

  app.get(
    '/v1/companies',
    { config: { permission: 'crm.companies.read' }, schema: { tags, summary: 'List companies (cursor pagination, filters, sort)', querystring: CompanyListQuery, response: { 200: CompanyPage, ...problemResponses(400, 401, 403) } } },
    async (request) => {
      const ctx = ctxOf(request);
      return companies.list(ctx, await views.applyView(ctx, request.query, 'company'));
    },
  );

  app.get(
    '/v1/companies/:id',
    { config: { permission: 'crm.companies.read' }, schema: { tags, summary: 'Get a company', params: IdParams, response: { 200: CompanyRef, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => companies.get(ctxOf(request), request.params.id),
  );

  app.patch(
    '/v1/companies/:id',
    {
      config: { permission: 'crm.companies.write' },
      schema: { tags, summary: 'Update a company', params: IdParams, body: UpdateCompany, response: { 200: CompanyRef, ...problemResponses(400, 401, 403, 404, 409, 422) } },
    },
    async (request) => companies.update(ctxOf(request), request.params.id, request.body),
  );

  app.delete(
    '/v1/companies/:id',
    { config: { permission: 'crm.companies.delete' }, schema: { tags, summary: 'Delete a company (soft: it can be restored)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      await companies.remove(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/companies/:id/restore',
    { config: { permission: 'crm.companies.delete' }, schema: { tags, summary: 'Restore a deleted company', params: IdParams, response: { 200: CompanyRef, ...problemResponses(400, 401, 403, 404, 409) } } },
    async (request) => companies.restore(ctxOf(request), request.params.id),
  );
};
