// Span attributes and log correlation. Without tracing (no
// OTEL_EXPORTER_OTLP_ENDPOINT) there is no server span and no active span:
// both functions then do nothing.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { trace } from '@opentelemetry/api';
import { serverSpans } from './spans.ts';

/** Names of the attributes Plinth adds (tenant ids stay out of metrics labels, but belong on spans). */
export const SPAN_ATTRIBUTES = { tenantId: 'tenant.id', tenantSlug: 'tenant.slug', requestId: 'request.id', accountId: 'enduser.id' } as const;

/** @fastify/otel's request accessor: present only when tracing runs. */
type OtelRequest = { opentelemetry?: () => { span?: { setAttributes(a: Record<string, string>): unknown } | null } };

/** Labels the request's spans (HTTP server span and @fastify/otel's request span) before the answer leaves, errors included. */
export function registerTraceAttributes(app: FastifyInstance) {
  app.addHook('onSend', (request, _reply, payload, done) => {
    const server = serverSpans.get(request.raw);
    if (server) labelSpans(request, server);
    done(null, payload);
  });
}

function labelSpans(request: FastifyRequest, server: NonNullable<ReturnType<typeof serverSpans.get>>) {
  const { ctx, publicCtx } = request.plinth ?? {};
  const tenant = ctx?.tenant ?? publicCtx?.tenant;
  const attributes: Record<string, string> = { [SPAN_ATTRIBUTES.requestId]: request.id };
  if (tenant) Object.assign(attributes, { [SPAN_ATTRIBUTES.tenantId]: tenant.id, [SPAN_ATTRIBUTES.tenantSlug]: tenant.slug });
  if (ctx) attributes[SPAN_ATTRIBUTES.accountId] = ctx.actor.accountId;
  const route = request.routeOptions.url;
  if (route) {
    attributes['http.route'] = route;
    server.updateName(`${request.method} ${route}`);
  }
  server.setAttributes(attributes);
  (request as unknown as OtelRequest).opentelemetry?.().span?.setAttributes(attributes);
}

/** pino mixin: the trace id on every log line written inside a traced request. */
export function traceLogFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
