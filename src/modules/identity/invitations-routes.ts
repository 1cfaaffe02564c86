// Invitation routes (service and the role check: invitations.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, Nullable, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import { createInvitations } from './invitations.ts';

const CreateBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    role: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_-]*$', description: 'A role of this tenant, not above your own' }),
  },
  { additionalProperties: false },
);
const Status = Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('revoked'), Type.Literal('expired')]);
const Invitation = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    role: Type.String(),
    status: Status,
    invitedBy: Nullable(Uuid),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    acceptedAt: Nullable(Type.String({ format: 'date-time' })),
    acceptedBy: Nullable(Uuid),
    revokedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Invitation' },
);
const ListQuery = Type.Object(
  {
    status: Type.Optional(Status),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
const AcceptBody = Type.Object(
  {
    token: Type.String({ minLength: 10, maxLength: 200, pattern: '^pin_[A-Za-z0-9_-]+$', description: 'The token of the emailed link' }),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'New account: its password (policy applies). Existing account: its current password, unless you send its access token' })),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'New account only (default: the part of the address before @)' })),
  },
  { additionalProperties: false },
);
const Accepted = Type.Object({
  accountId: Uuid,
  accountCreated: Type.Boolean(),
  role: Type.String(),
  tenant: Type.Object({ slug: Type.String(), displayName: Type.String() }),
});

export const invitationRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const invitations = createInvitations(platform);
  const tags = ['invitations'];
  app.addSchema(Invitation);

  app.post(
    '/v1/invitations',
    {
      config: { permission: 'identity.members.invite' },
      schema: {
        tags,
        summary: 'Invite someone to this tenant by email',
        description: 'The mail (template `identity.invitation`, with the tenant branding) carries a link EMAIL_LINK_BASE_URL/accept-invitation?token=… valid for INVITATION_TTL_SECONDS. A new invitation for the same address replaces the open one.',
        body: CreateBody,
        response: { 201: Type.Ref('Invitation'), ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await invitations.create(ctxOf(request), request.body)),
  );

  app.get(
    '/v1/invitations',
    {
      config: { permission: 'identity.members.invite' },
      schema: {
        tags,
        summary: "This tenant's invitations, newest first",
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('Invitation')), nextCursor: Nullable(Uuid) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => invitations.list(ctxOf(request), request.query),
  );

  app.delete(
    '/v1/invitations/:id',
    {
      config: { permission: 'identity.members.invite' },
      schema: { tags, summary: 'Revoke an open invitation (its link stops working)', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await invitations.revoke(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/invitations/accept',
    {
      config: { public: true, rateLimitPolicy: 'auth' },
      schema: {
        tags,
        summary: 'Accept an invitation with the token of the emailed link',
        description:
          'For an address without an account, creates one (send `password`, optionally `displayName`). For an existing account, send its `password` or its access token (`Authorization: Bearer …`). Accepting does not sign in: log in to the tenant next.',
        body: AcceptBody,
        response: { 200: Accepted, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const auth = request.headers.authorization;
      const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
      if (auth && !bearer) throw new AppError('invalid_token', 'Send the access token as "Authorization: Bearer <token>"');
      return invitations.accept({ ...request.body, bearer }, { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
    },
  );
};
