import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf, publicCtxOf } from '../../platform/http/access-guard.ts';
import { problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { createIdentityService } from './service.ts';

const LoginBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});

const Me = Type.Object({
  account: Type.Object({ id: Uuid, email: Type.String(), displayName: Type.String() }),
  tenant: Type.Object({ id: Uuid, slug: Type.String(), displayName: Type.String() }),
  role: Type.String(),
  permissions: Type.Array(Type.String()),
});

export const identityRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const identity = createIdentityService(platform);

  app.post(
    '/v1/auth/login',
    {
      config: { public: true, tenant: 'required' },
      schema: {
        tags: ['auth'],
        summary: 'Log in to a tenant with email and password',
        description: 'The tenant comes from the `X-Tenant` header (or the subdomain).',
        body: LoginBody,
        response: { 200: TokenResponse, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => identity.login(publicCtxOf(request), request.body),
  );

  app.get(
    '/v1/me',
    {
      config: { permission: 'identity.me.read' },
      schema: { tags: ['auth'], summary: 'The caller: account, tenant, role and permissions', response: { 200: Me, ...problemResponses(401, 403, 404) } },
    },
    async (request) => identity.me(ctxOf(request)),
  );
};
