// Job spans: each job runs inside a CONSUMER span ("job <task>") whose parent
// is the request (or job) that enqueued it, so a trace follows a write into
// the work it queued. The enqueuer's context travels in the job envelope as a
// W3C traceparent. Without tracing the global API is a no-op: no field is
// written and the span records nothing.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

/** The caller's trace context to store with a job (empty without tracing). */
export function traceCarrier(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : undefined;
}

export function traceJob<T>(task: string, job: { id: string; attempts: number }, carrier: Record<string, string> | undefined, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = carrier ? propagation.extract(context.active(), carrier) : context.active();
  const attributes = { 'job.id': job.id, 'job.task': task, 'job.attempt': job.attempts };
  return trace.getTracer('plinth').startActiveSpan(`job ${task}`, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
