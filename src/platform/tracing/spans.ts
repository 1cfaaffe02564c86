// What the tracing preload shares with the app (same module instance):
// - the HTTP server span of each incoming request, recorded by the HTTP
//   instrumentation so the app can label it with the tenant and request id
//   once the access guard knows them (empty without tracing);
// - flushTracing(), which entry points await on shutdown so the last spans leave.
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';

export const serverSpans = new WeakMap<IncomingMessage, Span>();

const state = { started: false, flush: async () => {} };

/** Whether the preload started tracing (entry points warn when it is configured but was not preloaded). */
export const tracingStarted = () => state.started;

/** Sends the spans still buffered (no-op without tracing). */
export const flushTracing = () => state.flush();
export const setTracingFlush = (flush: () => Promise<void>) => {
  state.started = true;
  state.flush = flush;
};
