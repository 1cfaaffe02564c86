// Email verification and password reset routes (service: email-flows.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf, publicCtxOf } from '../../platform/http/access-guard.ts';
import { problemResponses } from '../../platform/http/schemas.ts';
import { createEmailFlows } from './email-flows.ts';

const EmailToken = (prefix: string) => Type.String({ minLength: 10, maxLength: 200, pattern: `^${prefix}[A-Za-z0-9_-]+$`, description: 'The token of the emailed link' });
const Password = Type.String({ minLength: 1, maxLength: 1024, description: '12 to 128 characters; not a common password; not close to your email' });

const ForgotBody = Type.Object({ email: Type.String({ format: 'email', maxLength: 320 }) }, { additionalProperties: false });
const ResetBody = Type.Object(
  {
    token: EmailToken('ppr_'),
    newPassword: Password,
    code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', description: 'Current TOTP code: required when the account has MFA (or recoveryCode)' })),
    recoveryCode: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false },
);
const VerifyBody = Type.Object({ token: EmailToken('pev_') }, { additionalProperties: false });

const clientOf = (request: FastifyRequest) => ({ requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

export const emailFlowRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const flows = createEmailFlows(platform);
  const tags = ['auth'];

  app.post(
    '/v1/auth/email/verify-request',
    {
      config: { permission: 'identity.sessions.manage', rateLimitPolicy: 'auth' },
      schema: {
        tags,
        summary: 'Email yourself a link that verifies your address',
        description: `The link (EMAIL_LINK_BASE_URL/verify-email?token=…) is valid for EMAIL_VERIFY_TTL_SECONDS and works once; a new request voids the previous link.`,
        response: { 202: Type.Object({ email: Type.String(), expiresIn: Type.Integer() }), ...problemResponses(401, 403, 409, 429) },
      },
    },
    async (request, reply) => reply.code(202).send(await flows.requestVerification(ctxOf(request))),
  );

  app.post(
    '/v1/auth/email/verify',
    {
      config: { public: true, rateLimitPolicy: 'auth' },
      schema: {
        tags,
        summary: 'Verify an email address with the token of the emailed link',
        body: VerifyBody,
        response: { 200: Type.Object({ email: Type.String(), emailVerifiedAt: Type.String({ format: 'date-time' }) }), ...problemResponses(400, 429) },
      },
    },
    async (request) => flows.verifyEmail(request.body.token, clientOf(request)),
  );

  app.post(
    '/v1/auth/password/forgot',
    {
      config: { public: true, tenant: 'required', rateLimitPolicy: 'auth' },
      schema: {
        tags,
        summary: 'Ask for a password reset link by email',
        description:
          'The tenant comes from `X-Tenant`. The answer is the same 202 whether or not the address belongs to a member of the tenant; a member gets a link valid for PASSWORD_RESET_TTL_SECONDS (at most one mail a minute).',
        body: ForgotBody,
        response: { 202: Type.Object({ message: Type.String() }), ...problemResponses(400, 404, 429) },
      },
    },
    async (request, reply) => {
      await flows.requestPasswordReset(publicCtxOf(request), request.body.email, clientOf(request));
      return reply.code(202).send({ message: 'If this address belongs to a member, a reset link is on its way.' });
    },
  );

  app.post(
    '/v1/auth/password/reset',
    {
      config: { public: true, rateLimitPolicy: 'auth' },
      schema: {
        tags,
        summary: 'Choose a new password with the token of the emailed link',
        description:
          'Applies the password policy and ends every session of the account. An account with MFA must also send `code` (TOTP) or `recoveryCode`: without one the answer is 401 mfa_code_required; 5 wrong codes void the link.',
        body: ResetBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      await flows.resetPassword(request.body, clientOf(request));
      return reply.code(204).send(null);
    },
  );
};
