// HTTP routes of companies: thin handlers over the service.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createCompaniesService } from './service.ts';
import { createViewsService } from '../views/service.ts';
import { mergeRoutes } from './merge-routes.ts';
import { csvExport, customColumns } from '../views/csv-export.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import type { CustomFieldsTables } from '../custom-fields/tables.ts';
import { CsvText } from '../crm-reports/schemas.ts';
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

  const STANDARD = ['id', 'name', 'domain', 'industry', 'employees', 'address', 'ownerId', 'createdAt', 'updatedAt'] as const;
  app.get(
    '/v1/companies/export.csv',
    {
      config: { permission: 'crm.companies.read' },
      schema: { tags, summary: 'Every company matching the list parameters as CSV, streamed (no cap); custom fields as custom.<key> columns', querystring: CompanyListQuery, produces: ['text/csv'], response: { 200: CsvText, ...problemResponses(400, 401, 403) } },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const query = await views.applyView(ctx, request.query, 'company');
      const keys = (await fieldsOf(ctx.db.withTables<CustomFieldsTables>(), 'company')).map((f) => f.key);
      // Validate (and fail with a problem) before the first byte is sent.
      const first = await companies.list(ctx, { ...query, limit: 500, cursor: undefined });
      return csvExport(reply, 'companies.csv', [...STANDARD, ...keys.map((k) => `custom.${k}`)], (cursor, limit) => (cursor ? companies.list(ctx, { ...query, limit, cursor }) : Promise.resolve(first)), (c) => ({
        ...Object.fromEntries(STANDARD.map((k) => [k, c[k]])),
        ...customColumns(keys, c.custom),
      }));
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
