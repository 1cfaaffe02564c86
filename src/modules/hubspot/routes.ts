import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { pushOnChange } from './push-on-change.ts';
import { createHubspotService } from './service.ts';
import { Conflict, ConflictQuery, ConnectBody, ResolveBody, Status, SyncBody, WebhookParams } from './schemas.ts';

const tags = ['integrations'];
const read = 'integrations.hubspot.read';
const manage = 'integrations.hubspot.manage';
const base = '/v1/integrations/hubspot';

export const hubspotRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const hubspot = createHubspotService(platform, app.log);
  // Registered with the routes because that is where a module meets the platform's event bus.
  platform.events.subscribe(pushOnChange(platform.jobs, platform.config.HUBSPOT_PUSH_DELAY_SECONDS));
  app.addSchema(Status);
  app.addSchema(Conflict);

  app.put(base, {
    config: { permission: manage },
    schema: { tags, summary: 'Connect HubSpot (or replace the token and settings); the token is checked with HubSpot and stored encrypted', body: ConnectBody, response: { 200: Type.Ref('HubspotStatus'), ...problemResponses(400, 401, 403, 502) } },
  }, async (request) => hubspot.connect(ctxOf(request), request.body));

  app.get(base, {
    config: { permission: read },
    schema: { tags, summary: 'Connection status, field rules, cursors and the last sync run (never the token)', response: { 200: Type.Ref('HubspotStatus'), ...problemResponses(401, 403) } },
  }, async (request) => hubspot.status(ctxOf(request)));

  app.delete(base, {
    config: { permission: manage },
    schema: { tags, summary: 'Disconnect HubSpot: the token, links and open conflicts are removed; synced records stay', response: { 204: Type.Null(), ...problemResponses(401, 403, 404) } },
  }, async (request, reply) => {
    await hubspot.disconnect(ctxOf(request));
    return reply.code(204).send(null);
  });

  app.post(`${base}/sync`, {
    config: { permission: manage },
    schema: { tags, summary: 'Start a two-way sync now (a background job; see GET for its outcome)', body: Type.Optional(SyncBody), response: { 202: Type.Object({ jobId: Type.String() }), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => reply.code(202).send(await hubspot.triggerSync(ctxOf(request), request.body ?? {})));

  app.get(`${base}/conflicts`, {
    config: { permission: read },
    schema: { tags, summary: 'Fields both sides changed since the last sync, newest first', querystring: ConflictQuery, response: { 200: Type.Object({ data: Type.Array(Type.Ref('HubspotConflict')) }), ...problemResponses(400, 401, 403) } },
  }, async (request) => hubspot.conflicts(ctxOf(request), request.query));

  app.post(`${base}/conflicts/:id/resolve`, {
    config: { permission: manage },
    schema: { tags, summary: "Settle a conflict with HubSpot's or Plinth's value (Plinth's is pushed by a sync job)", params: IdParams, body: ResolveBody, response: { 200: Type.Ref('HubspotConflict'), ...problemResponses(400, 401, 403, 404, 409) } },
  }, async (request) => hubspot.resolve(ctxOf(request), request.params.id, request.body.use));

  // HubSpot calls this; the v3 signature over the raw body is the authentication.
  await app.register(async (hook) => {
    hook.removeAllContentTypeParsers();
    hook.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    hook.post(`${base}/webhooks/:tenantSlug`, {
      config: { public: true },
      schema: {
        tags,
        summary: 'HubSpot webhook receiver (X-HubSpot-Signature-v3); each event id is processed once',
        params: WebhookParams,
        response: { 200: Type.Object({ received: Type.Integer(), processed: Type.Integer() }), ...problemResponses(400, 401, 403, 404, 415) },
      },
    }, async (request) => {
      const origin = platform.config.PUBLIC_URL ? platform.config.PUBLIC_URL.replace(/\/$/, '') : `${request.protocol}://${request.host}`;
      const header = (name: string) => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : undefined);
      return hubspot.receiveWebhook({
        tenantSlug: (request.params as { tenantSlug: string }).tenantSlug,
        method: request.method,
        uri: `${origin}${request.url}`,
        body: typeof request.body === 'string' ? request.body : '',
        signature: header('x-hubspot-signature-v3'),
        timestamp: header('x-hubspot-request-timestamp'),
      });
    });
  });
};
