import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { problemResponses } from '../../platform/http/schemas.ts';
import type { AuditSource } from '../../platform/audit/writer.ts';
import { createPlatformAdminService } from './service.ts';
import { CreatedTenant, CreateTenant, DeletedTenant, DeleteQuery, FleetStatusSchema, ListTenantsQuery, PlatformLogin, PlatformTenant, PlatformToken, RenameTenant, SlugParams, TenantList } from './schemas.ts';

/** Platform routes run their operations only once the guard set the platform context. */
const admin = (request: FastifyRequest) => {
  if (!request.plinth.platformCtx) throw new Error(`No platform context on ${request.method} ${request.url}: declare config.platformPermission`);
  return request.plinth.platformCtx;
};
/** The platform admin as the actor of a row in a tenant's audit trail. */
const auditSource = (request: FastifyRequest): AuditSource => ({ actorId: admin(request).accountId, requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

// Dates leave as ISO strings (the response schemas say date-time); the
// response schema checks the shape on the way out.
const json = (value: unknown): never => JSON.parse(JSON.stringify(value)) as never;

export const platformAdminRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const service = createPlatformAdminService(platform);
  app.addSchema(PlatformTenant);
  const tags = ['platform-admin'];
  const TenantRef = Type.Ref('PlatformTenant');

  app.post(
    '/v1/platform/login',
    { config: { public: true, rateLimitPolicy: 'auth' }, schema: { tags, summary: 'Log in as a platform admin (token for the platform routes only)', body: PlatformLogin, response: { 200: PlatformToken, ...problemResponses(400, 401, 429) } } },
    async (request) => service.login(request.body),
  );

  app.get(
    '/v1/platform/tenants',
    { config: { platformPermission: 'platform.tenants.read' }, schema: { tags, summary: 'List tenants with status, schema version and size', querystring: ListTenantsQuery, response: { 200: TenantList, ...problemResponses(400, 401, 403) } } },
    async (request) => {
      admin(request);
      return json(await service.list(request.query));
    },
  );

  app.post(
    '/v1/platform/tenants',
    { config: { platformPermission: 'platform.tenants.write' }, schema: { tags, summary: 'Create a tenant and its owner', body: CreateTenant, response: { 201: CreatedTenant, ...problemResponses(400, 401, 403, 409) } } },
    async (request, reply) => {
      return reply.code(201).send(json(await service.create(request.body, auditSource(request))));
    },
  );

  app.get(
    '/v1/platform/tenants/:slug',
    { config: { platformPermission: 'platform.tenants.read' }, schema: { tags, summary: 'Get a tenant', params: SlugParams, response: { 200: TenantRef, ...problemResponses(401, 403, 404) } } },
    async (request) => {
      admin(request);
      return json(await service.get(request.params.slug));
    },
  );

  for (const [action, status] of [['suspend', 'suspended'], ['resume', 'active']] as const) {
    app.post(
      `/v1/platform/tenants/:slug/${action}`,
      { config: { platformPermission: 'platform.tenants.write' }, schema: { tags, summary: action === 'suspend' ? 'Suspend a tenant (its API answers 403)' : 'Resume a suspended tenant', params: SlugParams, response: { 200: TenantRef, ...problemResponses(401, 403, 404) } } },
      async (request) => {
        return json(await service.setStatus(request.params.slug, status, auditSource(request)));
      },
    );
  }

  app.patch(
    '/v1/platform/tenants/:slug',
    { config: { platformPermission: 'platform.tenants.write' }, schema: { tags, summary: 'Rename a tenant (slug and/or display name)', params: SlugParams, body: RenameTenant, response: { 200: TenantRef, ...problemResponses(400, 401, 403, 404, 409) } } },
    async (request) => {
      return json(await service.rename(request.params.slug, request.body, auditSource(request)));
    },
  );

  app.delete(
    '/v1/platform/tenants/:slug',
    { config: { platformPermission: 'platform.tenants.delete' }, schema: { tags, summary: 'Delete a tenant and all its data (exported first unless export=false)', params: SlugParams, querystring: DeleteQuery, response: { 200: DeletedTenant, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => {
      return json(await service.remove(request.params.slug, { export: request.query.export }, auditSource(request)));
    },
  );

  app.get(
    '/v1/platform/migrations',
    { config: { platformPermission: 'platform.fleet.read' }, schema: { tags, summary: 'Fleet migration status: tenants per schema version, failures', response: { 200: FleetStatusSchema, ...problemResponses(401, 403) } } },
    async (request) => {
      admin(request);
      return json(await service.fleetStatus());
    },
  );
};
