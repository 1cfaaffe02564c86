// Members of a tenant: their role and whom they report to.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { problemResponses } from '../../platform/http/schemas.ts';
import { accessActorOf, createAccessService } from './access-service.ts';
import { AccountParams, Member, MemberPage, MembersQuery, UpdateMember } from './access-schemas.ts';

export const membersRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const access = createAccessService(platform);
  const tags = ['members'];

  app.get(
    '/v1/members',
    {
      config: { permission: 'identity.members.read' },
      schema: { tags, summary: "The tenant's members (by account id, cursor pagination)", querystring: MembersQuery, response: { 200: MemberPage, ...problemResponses(400, 401, 403) } },
    },
    async (request) => {
      const { limit, cursor, role, reportsTo } = request.query;
      return access.listMembers(accessActorOf(ctxOf(request)), { limit, ...(cursor ? { after: cursor } : {}), ...(role ? { role } : {}), ...(reportsTo ? { reportsTo } : {}) });
    },
  );

  app.get(
    '/v1/members/:accountId',
    {
      config: { permission: 'identity.members.read' },
      schema: { tags, summary: 'A member', params: AccountParams, response: { 200: Member, ...problemResponses(400, 401, 403, 404) } },
    },
    async (request) => access.getMember(accessActorOf(ctxOf(request)), request.params.accountId),
  );

  app.patch(
    '/v1/members/:accountId',
    {
      config: { permission: 'identity.members.manage' },
      schema: {
        tags,
        summary: "Change a member's role or reporting line",
        description: 'The last owner cannot be demoted (409 last_owner); a reporting cycle is refused (422 hierarchy_cycle). The new role applies from the member’s next request, on every instance.',
        params: AccountParams,
        body: UpdateMember,
        response: { 200: Member, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => access.updateMember(accessActorOf(ctxOf(request)), request.params.accountId, request.body),
  );

  app.delete(
    '/v1/members/:accountId',
    {
      config: { permission: 'identity.members.manage' },
      schema: { tags, summary: 'Remove a member from the tenant (the account stays)', params: AccountParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 409) } },
    },
    async (request, reply) => {
      await access.removeMember(accessActorOf(ctxOf(request)), request.params.accountId);
      return reply.code(204).send(null);
    },
  );
};
