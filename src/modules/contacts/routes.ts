import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { createContactsService } from './service.ts';
import { Contact, ContactPage, CreateContact, ListQuery, UpdateContact } from './schemas.ts';

const ContactRef = Type.Ref('Contact');

export const contactRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const contacts = createContactsService(platform);
  app.addSchema(Contact);
  const tags = ['contacts'];

  app.post(
    '/v1/contacts',
    {
      config: { permission: 'crm.contacts.write' },
      schema: { tags, summary: 'Create a contact', body: CreateContact, response: { 201: ContactRef, ...problemResponses(400, 401, 403, 409, 422) } },
    },
    async (request, reply) => reply.code(201).send(await contacts.create(ctxOf(request), request.body)),
  );

  app.get(
    '/v1/contacts',
    {
      config: { permission: 'crm.contacts.read' },
      schema: { tags, summary: 'List contacts (cursor pagination, filters, sort)', querystring: ListQuery, response: { 200: ContactPage, ...problemResponses(400, 401, 403) } },
    },
    async (request) => contacts.list(ctxOf(request), request.query),
  );

  app.get(
    '/v1/contacts/:id',
    {
      config: { permission: 'crm.contacts.read' },
      schema: { tags, summary: 'Get a contact', params: IdParams, response: { 200: ContactRef, ...problemResponses(400, 401, 403, 404) } },
    },
    async (request) => contacts.get(ctxOf(request), request.params.id),
  );

  app.patch(
    '/v1/contacts/:id',
    {
      config: { permission: 'crm.contacts.write' },
      schema: {
        tags,
        summary: 'Update a contact',
        params: IdParams,
        body: UpdateContact,
        response: { 200: ContactRef, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => contacts.update(ctxOf(request), request.params.id, request.body),
  );

  app.delete(
    '/v1/contacts/:id',
    {
      config: { permission: 'crm.contacts.delete' },
      schema: { tags, summary: 'Delete a contact (soft: it can be restored)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await contacts.remove(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/contacts/:id/restore',
    {
      config: { permission: 'crm.contacts.delete' },
      schema: { tags, summary: 'Restore a deleted contact', params: IdParams, response: { 200: ContactRef, ...problemResponses(400, 401, 403, 404, 409) } },
    },
    async (request) => contacts.restore(ctxOf(request), request.params.id),
  );
};
