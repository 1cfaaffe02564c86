import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf, publicCtxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { createSessionStore, sessionPolicyOf } from '../../platform/auth/sessions.ts';
import { createLoginThrottle } from '../../platform/auth/login-throttle.ts';
import { createMfa } from '../../platform/auth/mfa.ts';
import { AppError } from '../../platform/errors.ts';
import { createIdentityService } from './service.ts';
import { apiKeyRoutes } from './api-keys-routes.ts';
import { emailFlowRoutes } from './email-flows-routes.ts';
import { invitationRoutes } from './invitations-routes.ts';
import { scopeOf } from '../../platform/record-scope.ts';
import { rolesRoutes } from './roles-routes.ts';
import { membersRoutes } from './members-routes.ts';

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
  refreshToken: Type.String({ description: 'Single use: trade it at POST /v1/auth/refresh for a new pair' }),
  sessionId: Uuid,
});

const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 1, maxLength: 1024, description: '12 to 128 characters; not a common password; not close to your email' }),
  },
  { additionalProperties: false },
);

const MfaChallenge = Type.Object({
  mfaRequired: Type.Literal(true),
  mfaToken: Type.String({ description: 'Single use, 5 minutes: send it with a code to POST /v1/auth/mfa/verify' }),
  expiresIn: Type.Integer(),
});
const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });
const MfaVerifyBody = Type.Union(
  [
    Type.Object({ mfaToken: Type.String({ minLength: 1, maxLength: 200 }), code: TotpCode }, { additionalProperties: false }),
    Type.Object({ mfaToken: Type.String({ minLength: 1, maxLength: 200 }), recoveryCode: Type.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }),
  ],
);
const CodeBody = Type.Object({ code: TotpCode }, { additionalProperties: false });
const DisableMfaBody = Type.Union([
  Type.Object({ code: TotpCode }, { additionalProperties: false }),
  Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
]);
const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each works once' }) });

const Policy = Type.Object(
  { mfaRequiredRoles: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9-]{0,39}$', description: 'A role key: owner, admin, manager, member, viewer or a custom role' }), { maxItems: 50 }) },
  { additionalProperties: false },
);

const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

const Session = Type.Object({
  id: Uuid,
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  current: Type.Boolean({ description: 'The session of the access token making this request' }),
});

const Revoked = Type.Object({ revoked: Type.Integer({ description: 'Sessions ended' }) });

const Jwks = Type.Object({
  keys: Type.Array(Type.Object({ kid: Type.Optional(Type.String()), kty: Type.String(), crv: Type.Optional(Type.String()), x: Type.Optional(Type.String()), alg: Type.Optional(Type.String()), use: Type.Optional(Type.String()) })),
});

const Me = Type.Object({
  account: Type.Object({ id: Uuid, email: Type.String(), displayName: Type.String(), emailVerifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) }),
  tenant: Type.Object({ id: Uuid, slug: Type.String(), displayName: Type.String() }),
  role: Type.String(),
  permissions: Type.Array(Type.String()),
});

export const identityRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { config, directory } = platform;
  const sessionPolicy = sessionPolicyOf(config);
  const sessions = createSessionStore(platform.db, sessionPolicy);
  const throttle = createLoginThrottle(platform.db, { freeAttempts: config.LOGIN_FREE_ATTEMPTS, maxLockSeconds: config.LOGIN_MAX_LOCK_SECONDS, resetSeconds: config.LOGIN_FAILURE_RESET_SECONDS });
  // Routes that check a credential get the strict per-IP budget (platform/http/rate-limits.ts).
  const authLimit = 'auth' as const;
  const mfa = createMfa(platform.db, { issuer: config.JWT_ISSUER });
  const identity = createIdentityService({ ...platform, sessions, throttle, mfa, securityLog: (event, data) => app.log.warn({ securityEvent: event, ...data }, `security event: ${event}`),
    schemaOf: async (tenantId) => (await directory.byId(tenantId))?.schemaName,
    storesOn: (trx) => ({ mfa: createMfa(trx, { issuer: config.JWT_ISSUER }), sessions: createSessionStore(trx, sessionPolicy) }),
  });
  const sessionTags = ['auth'];
  await app.register(apiKeyRoutes, { platform });
  for (const routes of [emailFlowRoutes, invitationRoutes]) await app.register(routes, { platform });
  await app.register(rolesRoutes, { platform });
  await app.register(membersRoutes, { platform });
  /** For routes whose tenant comes from a stored session or challenge: usable, the one the request names, still a member. */
  const tenantCheck = (header: string | string[] | undefined) => async (tenantId: string, accountId: string) => {
    const tenant = await directory.byId(tenantId);
    if (!tenant) throw new AppError('invalid_refresh_token');
    if (typeof header === 'string' && header.trim() && header.trim().toLowerCase() !== tenant.slug) throw new AppError('tenant_mismatch', 'The token belongs to another tenant');
    if (tenant.status === 'suspended') throw new AppError('tenant_suspended');
    if (!(await directory.roleOf(tenantId, accountId))) throw new AppError('invalid_refresh_token', 'The account is no longer an active member of this tenant');
    return tenant;
  };

  app.post(
    '/v1/auth/login',
    {
      config: { public: true, tenant: 'required', rateLimitPolicy: authLimit },
      schema: {
        tags: ['auth'],
        summary: 'Log in to a tenant with email and password',
        description: 'The tenant comes from the `X-Tenant` header (or the subdomain).',
        body: LoginBody,
        response: { 200: Type.Union([TokenResponse, MfaChallenge]), ...problemResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => identity.login(publicCtxOf(request), request.body, { ip: request.ip, userAgent: request.headers['user-agent'] }),
  );

  app.post(
    '/v1/auth/refresh',
    {
      config: { public: true, rateLimitPolicy: authLimit },
      schema: {
        tags: sessionTags,
        summary: 'Trade a refresh token for a new access + refresh token pair',
        description:
          'Each refresh token works once. Presenting a used token again after the grace window (REFRESH_REUSE_GRACE_SECONDS) ends the whole session: someone else holds a copy. The tenant is the one of the session; an `X-Tenant` header naming another tenant is refused.',
        body: RefreshBody,
        response: { 200: TokenResponse, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const header = request.headers['x-tenant'];
      return identity.refresh(request.body.refreshToken, tenantCheck(header), { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] });
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: { tags: sessionTags, summary: 'End the session of this access token (its refresh token stops working)', response: { 204: Type.Null(), ...problemResponses(401, 403) } },
    },
    async (request, reply) => {
      await identity.logout(ctxOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/auth/logout-all',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: { tags: sessionTags, summary: 'End every session of your account, in every tenant', response: { 200: Revoked, ...problemResponses(401, 403) } },
    },
    async (request) => identity.logoutAll(ctxOf(request)),
  );

  app.get(
    '/v1/auth/sessions',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: { tags: sessionTags, summary: 'Your live sessions in this tenant', response: { 200: Type.Object({ items: Type.Array(Session) }), ...problemResponses(401, 403) } },
    },
    async (request) => identity.listSessions(ctxOf(request)),
  );

  app.delete(
    '/v1/auth/sessions/:id',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: { tags: sessionTags, summary: 'End one of your sessions', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await identity.revokeSession(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/auth/sessions/revoke-others',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: { tags: sessionTags, summary: 'End all your sessions in this tenant except the current one', response: { 200: Revoked, ...problemResponses(401, 403) } },
    },
    async (request) => identity.revokeOtherSessions(ctxOf(request)),
  );

  app.post(
    '/v1/auth/password',
    {
      config: { permission: 'identity.sessions.manage', rateLimitPolicy: authLimit },
      schema: {
        tags: sessionTags,
        summary: 'Change your password',
        description: 'Needs the current password. Ends every other session of the account (in every tenant); this one stays.',
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      await identity.changePassword(ctxOf(request), request.body);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/auth/mfa/verify',
    {
      config: { public: true, rateLimitPolicy: authLimit },
      schema: {
        tags: sessionTags,
        summary: 'Second step of a login with MFA: a TOTP code or a recovery code',
        description: 'The challenge allows 5 wrong codes; a TOTP code is never accepted twice and each recovery code works once.',
        body: MfaVerifyBody,
        response: { 200: TokenResponse, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request) => identity.verifyMfa(request.body, tenantCheck(request.headers['x-tenant']), { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] }),
  );

  app.get(
    '/v1/auth/mfa',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: { tags: sessionTags, summary: 'Whether MFA is on for your account', response: { 200: Type.Object({ enabled: Type.Boolean(), recoveryCodesLeft: Type.Integer() }), ...problemResponses(401, 403) } },
    },
    async (request) => identity.mfaStatus(ctxOf(request)),
  );

  app.post(
    '/v1/auth/mfa/totp',
    {
      config: { permission: 'identity.sessions.manage' },
      schema: {
        tags: sessionTags,
        summary: 'Start TOTP enrolment: a secret and its otpauth:// URI (for a QR code)',
        description: 'MFA is on only after POST /v1/auth/mfa/totp/confirm with a first code.',
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }), ...problemResponses(401, 403, 409) },
      },
    },
    async (request) => identity.enrollTotp(ctxOf(request)),
  );

  app.post(
    '/v1/auth/mfa/totp/confirm',
    {
      config: { permission: 'identity.sessions.manage', rateLimitPolicy: authLimit },
      schema: { tags: sessionTags, summary: 'Confirm TOTP with a first code; returns ten recovery codes', body: CodeBody, response: { 200: RecoveryCodes, ...problemResponses(400, 401, 403, 429) } },
    },
    async (request) => identity.confirmTotp(ctxOf(request), request.body.code),
  );

  app.post(
    '/v1/auth/mfa/recovery-codes',
    {
      config: { permission: 'identity.sessions.manage', rateLimitPolicy: authLimit },
      schema: { tags: sessionTags, summary: 'Replace your recovery codes (needs a current TOTP code)', body: CodeBody, response: { 200: RecoveryCodes, ...problemResponses(400, 401, 403, 429) } },
    },
    async (request) => identity.regenerateRecoveryCodes(ctxOf(request), request.body.code),
  );

  app.post(
    '/v1/auth/mfa/disable',
    {
      config: { permission: 'identity.sessions.manage', rateLimitPolicy: authLimit },
      schema: { tags: sessionTags, summary: 'Turn MFA off (needs a current code or your password)', body: DisableMfaBody, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 429) } },
    },
    async (request, reply) => {
      await identity.disableMfa(ctxOf(request), request.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/auth/policy',
    {
      config: { permission: 'identity.policy.manage' },
      schema: { tags: sessionTags, summary: "The tenant's sign-in policy", response: { 200: Policy, ...problemResponses(401, 403) } },
    },
    async (request) => identity.getPolicy(ctxOf(request)),
  );

  app.put(
    '/v1/auth/policy',
    {
      config: { permission: 'identity.policy.manage' },
      schema: {
        tags: sessionTags,
        summary: "Set the tenant's sign-in policy",
        description: 'Members of a role in `mfaRequiredRoles` without MFA get tokens that only reach their own sign-in routes (403 mfa_enrollment_required elsewhere) until they enroll and refresh.',
        body: Policy,
        response: { 200: Policy, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => identity.setPolicy(ctxOf(request), request.body),
  );

  app.get(
    '/v1/me/permissions',
    {
      config: { permission: 'identity.me.read' },
      schema: {
        tags: sessionTags,
        summary: 'What you may do in this tenant: your role and each permission with its description and record scope',
        response: {
          200: Type.Object({
            role: Type.String(),
            permissions: Type.Array(Type.Object({ key: Type.String(), description: Type.String(), scope: Type.Union([Type.Literal('own'), Type.Literal('team'), Type.Literal('all')], { description: 'Records covered (own, team, all)' }) })),
          }),
          ...problemResponses(401, 403),
        },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const defs = platform.permissions.all().filter((d) => ctx.actor.permissions.has(d.key));
      return { role: ctx.actor.role, permissions: defs.map((d) => ({ key: d.key, description: d.description, scope: scopeOf(ctx, d.key) })).sort((x, y) => x.key.localeCompare(y.key)) };
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { public: true },
      schema: { tags: sessionTags, summary: 'Public keys that verify access tokens (JWKS)', response: { 200: Jwks } },
    },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(await platform.tokens.jwks()),
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
