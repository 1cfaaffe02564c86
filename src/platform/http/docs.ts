// OpenAPI 3.1 generated from the routes' TypeBox schemas, served at
// /openapi.json, with an interactive page at /docs.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { markRoutesPublic } from './access-guard.ts';
import { errorCatalogue } from '../errors.ts';
import { Type } from 'typebox';

export async function registerDocs(app: FastifyInstance, opts: { version: string }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Plinth API',
        version: opts.version,
        description: [
          'Multi-tenant API. Every tenant-scoped call names its tenant with the `X-Tenant` header (the tenant slug), a tenant subdomain, or the tenant of the access token; when a header and the token disagree the request is refused.',
          'Log in with `POST /v1/auth/login` and send `Authorization: Bearer <accessToken>`.',
          `Errors are RFC 9457 \`application/problem+json\` with a stable \`code\`: ${Object.keys(errorCatalogue).map((c) => `\`${c}\``).join(', ')}.`,
        ].join('\n\n'),
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  // Describe the access rule of each route in the document itself.
  app.addHook('onRoute', (route) => {
    const permission = route.config?.permission;
    const tenantScoped = Boolean(permission) || route.config?.tenant === 'required';
    if (!tenantScoped || !route.schema) return;
    const schema = route.schema as Record<string, unknown>;
    // Lets "Try it out" send the tenant header (optional: the token names a tenant too).
    schema.headers ??= Type.Object({ 'x-tenant': Type.Optional(Type.String({ description: 'Tenant slug' })) });
    if (!permission) return;
    schema.security ??= [{ bearerAuth: [] }];
    schema.description = `${schema.description ? `${String(schema.description)}\n\n` : ''}Requires permission \`${permission}\`.`;
  });
  await app.register(async (docs) => {
    markRoutesPublic(docs);
    await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
