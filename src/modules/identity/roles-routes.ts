// Roles of a tenant: system roles (owner, admin, manager, member, viewer) and
// custom ones, each mapping permission keys to a record scope.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { accessActorOf, createAccessService } from './access-service.ts';
import { CreateRole, Role, UpdateRole } from './access-schemas.ts';

export const rolesRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const access = createAccessService(platform);
  const tags = ['roles'];

  app.get(
    '/v1/permissions',
    {
      config: { permission: 'identity.roles.read' },
      schema: {
        tags,
        summary: 'Every permission of the registry (what roles can grant)',
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ key: Type.String(), module: Type.String(), resource: Type.String(), action: Type.String(), description: Type.String(), recordScope: Type.Boolean() })),
          }),
          ...problemResponses(401, 403),
        },
      },
    },
    async () => ({
      items: platform.permissions
        .all()
        .map((p) => ({ key: p.key, module: p.module, resource: p.resource, action: p.action, description: p.description, recordScope: p.recordScope === true }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    }),
  );

  app.get(
    '/v1/roles',
    {
      config: { permission: 'identity.roles.read' },
      schema: { tags, summary: "The tenant's roles with their grants and member counts", response: { 200: Type.Object({ items: Type.Array(Role) }), ...problemResponses(401, 403) } },
    },
    async (request) => ({ items: await access.listRoles(accessActorOf(ctxOf(request))) }),
  );

  app.post(
    '/v1/roles',
    {
      config: { permission: 'identity.roles.manage' },
      schema: { tags, summary: 'Create a custom role', body: CreateRole, response: { 201: Role, ...problemResponses(400, 401, 403, 409) } },
    },
    async (request, reply) => reply.code(201).send(await access.createRole(accessActorOf(ctxOf(request)), request.body)),
  );

  app.get(
    '/v1/roles/:id',
    {
      config: { permission: 'identity.roles.read' },
      schema: { tags, summary: 'A role', params: IdParams, response: { 200: Role, ...problemResponses(400, 401, 403, 404) } },
    },
    async (request) => access.getRole(accessActorOf(ctxOf(request)), request.params.id),
  );

  app.patch(
    '/v1/roles/:id',
    {
      config: { permission: 'identity.roles.manage' },
      schema: {
        tags,
        summary: 'Rename a role or replace its grants',
        description: 'Every grant you add, remove or re-scope must be one you hold at that scope. The owner role cannot be changed. Members of the role get the new permissions on their next request, on every instance.',
        params: IdParams,
        body: UpdateRole,
        response: { 200: Role, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => access.updateRole(accessActorOf(ctxOf(request)), request.params.id, request.body),
  );

  app.delete(
    '/v1/roles/:id',
    {
      config: { permission: 'identity.roles.manage' },
      schema: { tags, summary: 'Delete a custom role no member has', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 409) } },
    },
    async (request, reply) => {
      await access.deleteRole(accessActorOf(ctxOf(request)), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
