// Job spans, in process: an OpenTelemetry SDK with an in-memory exporter is
// registered for this test file (each file runs in its own worker). A job
// enqueued inside a traced request runs in a "job <task>" span of the same
// trace, child of the enqueuer, with the tenant; a failing job's span is an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { modules } from '../../modules/index.ts';
import { defineTenantTask } from '../jobs/tasks.ts';
import type { PlinthModule } from '../module.ts';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));

const run = Math.random().toString(36).slice(2, 8);
const testModule: PlinthModule = {
  name: 'tracetest',
  tasks: [
    defineTenantTask({ name: `trace${run}.touch`, payload: Type.Object({}), async run() {} }),
    defineTenantTask({
      name: `trace${run}.fail`,
      payload: Type.Object({}),
      maxAttempts: 1,
      async run() {
        throw new Error('boom');
      },
    }),
  ],
  routes: async () => {},
};

let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startApp({ modules: [...modules, testModule], config: { JOBS_IN_API: 'true', JOBS_CRON: 'false', JOBS_POLL_INTERVAL_MS: '200', JOBS_TASKS: `trace${run}.*` } });
  t = await createTenant(h, 'tj');
});
afterAll(() => h?.close());

const until = async <T>(find: () => T | undefined, ms = 10_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out; spans: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('job spans', () => {
  it('a job runs in a span of the trace that enqueued it, with its tenant', async () => {
    const tracer = trace.getTracer('test');
    const parent = await tracer.startActiveSpan('request', async (span) => {
      await h.db.transaction().execute((trx) => h.app.platform.jobs.enqueue(trx, t.tenant.id, `trace${run}.touch`, {}));
      span.end();
      return span.spanContext();
    });
    const job = await until(() => exporter.getFinishedSpans().find((s) => s.name === `job trace${run}.touch`));
    expect(job.spanContext().traceId).toBe(parent.traceId);
    expect(job.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(job.attributes).toMatchObject({ 'job.task': `trace${run}.touch`, 'tenant.id': t.tenant.id, 'tenant.slug': t.slug });
    expect(job.status.code).not.toBe(2);
  });

  it('a failing job records the error on its span', async () => {
    await h.db.transaction().execute((trx) => h.app.platform.jobs.enqueue(trx, t.tenant.id, `trace${run}.fail`, {}));
    const job = await until(() => exporter.getFinishedSpans().find((s) => s.name === `job trace${run}.fail`));
    expect(job.status).toMatchObject({ code: 2, message: 'boom' });
    expect(job.parentSpanContext).toBeUndefined();
  });
});
