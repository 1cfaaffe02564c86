// startTracing() in process (this test file runs in its own worker): spans
// reach an OTLP/HTTP receiver with the service name, a job enqueued in a
// traced request runs in that trace, and its fetch (as a webhook delivery
// does) is a client span that passes the trace on to the called server.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { trace } from '@opentelemetry/api';
import { startTracing } from './sdk.ts';
import { flushTracing } from './spans.ts';
import { createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { modules } from '../../modules/index.ts';
import { defineTenantTask } from '../jobs/tasks.ts';
import type { PlinthModule } from '../module.ts';

type Attr = { key: string; value: { stringValue?: string; intValue?: string | number } };
type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: Attr[] };
const flatten = (attrs: Attr[] = []) => Object.fromEntries(attrs.map((a) => [a.key, a.value.stringValue ?? a.value.intValue]));
const spans: Array<{ resource: Record<string, unknown>; span: OtlpSpan; attrs: Record<string, unknown> }> = [];
const calls: IncomingHttpHeaders[] = [];

const listen = async (handler: Parameters<typeof createServer>[1]) => {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
};
let collector: { server: Server; url: string };
let receiver: { server: Server; url: string };

const run = Math.random().toString(36).slice(2, 8);
const testModule: PlinthModule = {
  name: 'sdktest',
  tasks: [
    defineTenantTask({
      name: `sdk${run}.call`,
      payload: Type.Object({}),
      async run() {
        await fetch(`${receiver.url}/hook`, { method: 'POST', body: '{}' });
      },
    }),
  ],
  routes: async () => {},
};
let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  collector = await listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Attr[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of parsed.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ resource: flatten(rs.resource.attributes), span, attrs: flatten(span.attributes) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver = await listen((req, res) => {
    calls.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'plinth-sdk-test', OTEL_TRACES_SAMPLE_RATIO: 1 });
  h = await startApp({ modules: [...modules, testModule], config: { JOBS_IN_API: 'true', JOBS_CRON: 'false', JOBS_POLL_INTERVAL_MS: '200', JOBS_TASKS: `sdk${run}.*` } });
  t = await createTenant(h, 'sk');
});
afterAll(async () => {
  await h?.close();
  for (const s of [collector?.server, receiver?.server]) await new Promise((r) => s?.close(r));
});

describe('startTracing', () => {
  it('exports a job span in the enqueuer trace, and its fetch as a client span that carries the trace on', async () => {
    const parent = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      await h.db.transaction().execute((trx) => h.app.platform.jobs.enqueue(trx, t.tenant.id, `sdk${run}.call`, {}));
      span.end();
      return span.spanContext();
    });
    const end = Date.now() + 10_000;
    while (calls.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.traceparent).toMatch(new RegExp(`^00-${parent.traceId}-[0-9a-f]{16}-01$`));

    // The receiver has the call before the job's span ends (it ends once the response is back): wait for the span.
    const jobSpan = () => spans.find((s) => s.span.name === `job sdk${run}.call`);
    for (const until = Date.now() + 10_000; !jobSpan() && Date.now() < until; ) {
      await flushTracing();
      if (!jobSpan()) await new Promise((r) => setTimeout(r, 50));
    }
    const job = jobSpan();
    expect(job?.span.traceId).toBe(parent.traceId);
    expect(job?.span.parentSpanId).toBe(parent.spanId);
    expect(job?.attrs).toMatchObject({ 'tenant.id': t.tenant.id, 'tenant.slug': t.slug });
    expect(job?.resource).toMatchObject({ 'service.name': 'plinth-sdk-test' });
    const client = spans.find((s) => s.span.kind === 3 && s.span.parentSpanId === job?.span.spanId);
    expect(client?.attrs['url.full']).toBe(`${receiver.url}/hook`);
    // The called server saw the client span as its parent.
    expect(calls[0]!.traceparent).toContain(client!.span.spanId);
  });
});
