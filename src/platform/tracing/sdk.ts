// The tracing SDK: W3C trace context in and out, spans batched to an
// OTLP/HTTP collector (JSON), HTTP server/client, fetch, Fastify, PostgreSQL
// and Redis instrumented. Started by tracing/register.ts.
import { register as registerLoaderHooks } from 'import-in-the-middle/register-hooks.mjs';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config.ts';
import { version } from '../../version.ts';
import { serverSpans, setTracingFlush } from './spans.ts';

type TracingConfig = Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME' | 'OTEL_TRACES_SAMPLE_RATIO'>;

/** Probes and scrapes would drown the traces. */
const UNTRACED = new Set(['/health/live', '/health/ready', '/metrics']);

export function startTracing(config: TracingConfig): TracerProvider {
  // Only these ES imports are wrapped (the hook costs startup time per module).
  registerLoaderHooks({ include: ['ioredis'] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME, [ATTR_SERVICE_VERSION]: version }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLE_RATIO) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/+$/, '')}/v1/traces` }) })],
  });
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0]!),
        requestHook: (span, req) => {
          if ('headers' in req && !('setHeader' in req)) serverSpans.set(req as IncomingMessage, span);
        },
      }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (opts) => UNTRACED.has(opts.url) }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      // fetch (webhook deliveries): a client span, and the traceparent sent on to the receiver.
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  // Entry points await this after draining, before they exit.
  setTracingFlush(() => provider.forceFlush().catch(() => {}));
  return provider;
}
