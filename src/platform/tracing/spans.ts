// The HTTP server span of each incoming request, recorded by the HTTP
// instrumentation (tracing/register.ts) so the app can label it with the
// tenant and request id once the access guard knows them. Empty without tracing.
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';

export const serverSpans = new WeakMap<IncomingMessage, Span>();
