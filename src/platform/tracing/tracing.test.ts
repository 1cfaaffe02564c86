// OpenTelemetry end to end: the API started as `npm start` starts it (node
// --import the tracing preload, src/main.ts) with OTEL_EXPORTER_OTLP_ENDPOINT
// pointing at a local HTTP server that receives OTLP/HTTP JSON. A tenant
// request must produce the HTTP server span with tenant and request id,
// PostgreSQL and Redis spans below it, the service name/version, and the
// trace id in the request's log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;
const pkgVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
type Attr = { key: string; value: AnyValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Attr[];
}
interface Received {
  resource: Record<string, unknown>;
  scope: string;
  span: OtlpSpan;
  attrs: Record<string, unknown>;
}
const flatten = (attrs: Attr[] = []) => Object.fromEntries(attrs.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue]));

let collector: Server;
let collectorUrl: string;
const received: Received[] = [];
let api: ChildProcess;
let apiUrl: string;
const apiLines: string[] = [];
let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: Array<{ resource: { attributes: Attr[] }; scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }>;
        };
        for (const rs of body.resourceSpans)
          for (const ss of rs.scopeSpans) for (const span of ss.spans) received.push({ resource: flatten(rs.resource.attributes), scope: ss.scope.name, span, attrs: flatten(span.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;

  // The tenant is provisioned in-process (the run's database is already migrated).
  h = await startApp();
  t = await createTenant(h, 'ot');

  api = spawn(NODE, ['--import', './src/platform/tracing/register.ts', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: h.config.DATABASE_URL,
      REDIS_URL,
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO_SEED: 'false',
      MIGRATE_TENANTS_ON_BOOT: 'false',
      JOBS_IN_API: 'false',
      REALTIME_ENABLED: 'false',
      TENANT_CACHE_TTL_MS: '0',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_SERVICE_NAME: 'plinth-test',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
      AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  api.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not start: ${stderr}`)), 60_000);
    let buffer = '';
    api.stdout!.on('data', (c: Buffer) => {
      buffer += c.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      apiLines.push(...lines);
      const started = lines.map((l) => /^\[plinth\] API\s+(\S+)/.exec(l)).find(Boolean);
      if (started) {
        clearTimeout(timer);
        resolve(started[1]!);
      }
    });
    api.once('exit', (code) => reject(new Error(`API exited (${code}): ${stderr}`)));
  });
}, 90_000);

afterAll(async () => {
  if (api && api.exitCode === null) {
    api.kill('SIGKILL');
  }
  await h?.close();
  await new Promise((r) => collector?.close(r));
});

async function waitFor<T>(what: string, find: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const found = find();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; spans: ${received.map((r) => `${r.scope}:${r.span.name}`).join(', ')}`);
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('exports the HTTP span with tenant and request id, and PostgreSQL and Redis spans below it', async () => {
    const login = await fetch(`${apiUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant': t.slug }, body: JSON.stringify({ email: t.accounts.owner.email, password: 'correct horse battery staple' }) });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    // A caller that traces passes its context: the API joins that trace.
    const callerTrace = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const res = await fetch(`${apiUrl}/v1/contacts?limit=1`, { headers: { authorization: `Bearer ${accessToken}`, 'x-tenant': t.slug, traceparent: `00-${callerTrace}-1122334455667788-01` } });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toBeTruthy();
    // SIGTERM drains the API and flushes the spans it buffered.
    api.kill('SIGTERM');

    const server = await waitFor('the HTTP server span', () => received.find((r) => r.span.kind === 2 && r.attrs['request.id'] === requestId));
    expect(server.span.traceId).toBe(callerTrace);
    expect(server.span.parentSpanId).toBe('1122334455667788');
    expect(server.span.name).toBe('GET /v1/contacts');
    expect(server.attrs).toMatchObject({ 'tenant.id': t.tenant.id, 'tenant.slug': t.slug, 'request.id': requestId, 'enduser.id': t.accounts.owner.id, 'http.route': '/v1/contacts' });
    expect(server.resource).toMatchObject({ 'service.name': 'plinth-test', 'service.version': pkgVersion });

    const inTrace = () => received.filter((r) => r.span.traceId === callerTrace);
    const descendsFromServer = (r: Received) => {
      const byId = new Map(inTrace().map((x) => [x.span.spanId, x.span]));
      for (let s: OtlpSpan | undefined = r.span; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) if (s.spanId === server.span.spanId) return true;
      return false;
    };
    const pgSpan = await waitFor('a PostgreSQL span below it', () => inTrace().find((r) => r.scope.includes('instrumentation-pg') && r.span.name.startsWith('pg.query') && descendsFromServer(r)));
    expect(pgSpan.attrs['db.system.name'] ?? pgSpan.attrs['db.system']).toBe('postgresql');
    // The rate limiter counts the request in Redis.
    await waitFor('a Redis span below it', () => inTrace().find((r) => r.scope.includes('ioredis') && descendsFromServer(r)));
    // @fastify/otel's request span is labelled too.
    await waitFor('the Fastify request span', () => inTrace().find((r) => r.scope.includes('fastify') && r.attrs['tenant.id'] === t.tenant.id));

    // The request's log line carries the trace id.
    await new Promise<void>((r) => (api.exitCode !== null ? r() : api.once('exit', () => r())));
    const line = apiLines.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return undefined; } }).find((l) => l?.requestId === requestId && l.msg === 'request completed');
    expect(line?.traceId).toBe(callerTrace);
  }, 60_000);
});
