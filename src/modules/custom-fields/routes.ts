// HTTP routes of custom field definitions.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createCustomFieldsService } from './service.ts';
import { customFieldsOpenApi } from './openapi.ts';
import { CreateCustomField, CustomField, CustomFieldList, CustomFieldListQuery, UpdateCustomField } from './schemas.ts';

const Ref = Type.Ref('CustomField');

export const customFieldRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const fields = createCustomFieldsService({ jobs: platform.jobs });
  app.addSchema(CustomField);
  const tags = ['custom fields'];
  const read = { permission: 'crm.customFields.read' };
  const manage = { permission: 'crm.customFields.manage' };

  app.get('/v1/custom-fields', { config: read, schema: { tags, summary: 'List custom field definitions', querystring: CustomFieldListQuery, response: { 200: CustomFieldList, ...problemResponses(400, 401, 403) } } }, async (request) =>
    fields.list(ctxOf(request), request.query),
  );
  app.get(
    '/v1/custom-fields/openapi.json',
    {
      config: read,
      schema: {
        tags,
        summary: "This tenant's companies and deals with their custom fields, as an OpenAPI 3.1 document extending /openapi.json",
        response: { 200: Type.Object({ openapi: Type.String(), info: Type.Object({}, { additionalProperties: true }), paths: Type.Object({}), components: Type.Object({ schemas: Type.Record(Type.String(), Type.Unknown()) }) }), ...problemResponses(401, 403) },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      return customFieldsOpenApi(ctx.tenant, (await fields.list(ctx, { deleted: false })).data);
    },
  );
  app.post('/v1/custom-fields', { config: manage, schema: { tags, summary: 'Define a custom field', body: CreateCustomField, response: { 201: Ref, ...problemResponses(400, 401, 403, 409) } } }, async (request, reply) =>
    reply.code(201).send(await fields.create(ctxOf(request), request.body)),
  );
  app.get('/v1/custom-fields/:id', { config: read, schema: { tags, summary: 'Get a custom field definition', params: IdParams, response: { 200: Ref, ...problemResponses(400, 401, 403, 404) } } }, async (request) =>
    fields.get(ctxOf(request), request.params.id),
  );
  app.patch(
    '/v1/custom-fields/:id',
    { config: manage, schema: { tags, summary: 'Rename, reorder, change options or required', params: IdParams, body: UpdateCustomField, response: { 200: Ref, ...problemResponses(400, 401, 403, 404, 409) } } },
    async (request) => fields.update(ctxOf(request), request.params.id, request.body),
  );
  app.delete(
    '/v1/custom-fields/:id',
    { config: manage, schema: { tags, summary: 'Delete a custom field (values are kept hidden; restore brings them back)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      await fields.remove(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post('/v1/custom-fields/:id/restore', { config: manage, schema: { tags, summary: 'Restore a deleted custom field', params: IdParams, response: { 200: Ref, ...problemResponses(400, 401, 403, 404, 409) } } }, async (request) =>
    fields.restore(ctxOf(request), request.params.id),
  );
};
