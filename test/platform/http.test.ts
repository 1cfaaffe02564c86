// The HTTP shell: problem+json for framework errors, request ids, logs,
// health, OpenAPI and docs, security headers, CORS, secure-by-default route
// declarations and graceful shutdown.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyPluginAsync } from 'fastify';
import { modules } from '../../src/modules/index.ts';
import type { PlinthModule } from '../../src/platform/module.ts';
import { as, createTenant, expectProblem, PASSWORD, startApp, type Harness, type TestTenant } from '../helpers.ts';

let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  h = await startApp({ config: { BODY_LIMIT_BYTES: '2048' } });
  t = await createTenant(h, 'http');
});
afterAll(() => h?.close());

describe('errors as problem+json', () => {
  it('unknown route → 404 route_not_found', async () => {
    const p = expectProblem(await h.app.inject({ method: 'GET', url: '/v1/nothing-here?x=1' }), 404, 'route_not_found');
    expect(p).toMatchObject({ type: 'urn:plinth:problem:route_not_found', title: 'No such route', instance: '/v1/nothing-here' });
  });

  it('malformed JSON → 400 malformed_json', async () => {
    const res = await as(h, t)({ method: 'POST', url: '/v1/contacts', headers: { 'content-type': 'application/json' }, payload: '{"firstName": "A",' });
    expectProblem(res, 400, 'malformed_json');
  });

  it('empty JSON body → 400', async () => {
    const res = await as(h, t)({ method: 'POST', url: '/v1/contacts', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('body too large → 413 payload_too_large', async () => {
    const res = await as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'A', jobTitle: 'x'.repeat(5000) } });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('wrong content type → 415 unsupported_media_type', async () => {
    const res = await as(h, t)({ method: 'POST', url: '/v1/contacts', headers: { 'content-type': 'text/plain' }, payload: 'firstName=A' });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('a huge number or odd unicode is a 4xx or stored intact, never a 500', async () => {
    const res = await as(h, t)({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Zoë \u{1F600} \u0000?' } });
    expect(res.statusCode).toBeLessThan(500);
    const q = await as(h, t)({ method: 'GET', url: '/v1/contacts?limit=99999999999999999999' });
    expect(q.statusCode).toBe(400);
  });
});

describe('request ids and logs', () => {
  it('echoes a valid X-Request-Id and puts it in the problem; replaces an invalid one', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'abc-123.DEF' } });
    expect(res.headers['x-request-id']).toBe('abc-123.DEF');
    expect((res.json() as { requestId: string }).requestId).toBe('abc-123.DEF');
    const bad = await h.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'has spaces and "quotes"' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one JSON line per request with request id, tenant and account, and no secrets', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    });
    const h2 = await startApp({ config: { LOG_LEVEL: 'info' }, logStream: stream });
    try {
      const res = await h2.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug, 'x-request-id': 'log-test-1' }, payload: { email: t.accounts.owner.email, password: PASSWORD } });
      const token = (res.json() as { accessToken: string }).accessToken;
      await h2.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${token}`, 'x-tenant': t.slug, 'x-request-id': 'log-test-2' } });
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const done = entries.filter((e) => e.msg === 'request completed');
      expect(done.find((e) => e.requestId === 'log-test-1')).toMatchObject({ tenant: t.slug, res: { statusCode: 200 } });
      expect(done.find((e) => e.requestId === 'log-test-2')).toMatchObject({ tenant: t.slug, accountId: t.accounts.owner.id, req: { method: 'GET', url: '/v1/contacts' } });
      const all = lines.join('\n');
      expect(all).not.toContain(token);
      expect(all).not.toContain(PASSWORD);
    } finally {
      await h2.close();
    }
  });
});

describe('health, docs and headers', () => {
  it('live and ready', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({ status: 'ok', checks: { database: 'ok' } });
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; description?: string; responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/auth/login', '/v1/me', '/v1/contacts', '/v1/contacts/{id}', '/v1/contacts/{id}/restore']));
    const list = doc.paths['/v1/contacts']!.get!;
    expect(list.security).toEqual([{ bearerAuth: [] }]);
    expect(list.description).toContain('crm.contacts.read');
    expect(Object.keys(doc.paths['/v1/contacts/{id}']!.get!.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
    expect(doc.paths['/v1/auth/login']!.post!.security).toBeUndefined();
  });

  it('serves the interactive docs page', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });

  it('sets security headers', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('CORS answers only configured origins', async () => {
    const h2 = await startApp({ config: { CORS_ORIGINS: 'https://app.example' } });
    try {
      const ok = await h2.app.inject({ method: 'OPTIONS', url: '/v1/contacts', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
      const no = await h2.app.inject({ method: 'OPTIONS', url: '/v1/contacts', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(no.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await h2.close();
    }
  });
});

describe('secure by default', () => {
  const withRoute = (routes: FastifyPluginAsync): PlinthModule[] => [...modules, { name: 'extra', permissions: [{ key: 'extra.things.read', description: 'x', roles: ['member'] }], routes }];

  it('refuses to start with a route that declares neither a permission nor public', async () => {
    await expect(startApp({ modules: withRoute(async (app) => void app.get('/v1/oops', async () => 'x')) })).rejects.toThrow(/GET \/v1\/oops declares neither a permission nor public: true/);
  });

  it('refuses a permission no module registers, and both at once', async () => {
    await expect(startApp({ modules: withRoute(async (app) => void app.get('/v1/oops', { config: { permission: 'nope.nope.read' } }, async () => 'x')) })).rejects.toThrow(/no module registers/);
    await expect(startApp({ modules: withRoute(async (app) => void app.get('/v1/oops', { config: { permission: 'extra.things.read', public: true } }, async () => 'x')) })).rejects.toThrow(/both/);
  });

  it('starts with a declared route and enforces it', async () => {
    const h2 = await startApp({ modules: withRoute(async (app) => void app.get('/v1/things', { config: { permission: 'extra.things.read' } }, async () => ({ ok: true }))) });
    try {
      const x = await createTenant(h2, 'sbd');
      expect((await as(h2, x, 'member')({ method: 'GET', url: '/v1/things' })).statusCode).toBe(200);
      expectProblem(await as(h2, x, 'viewer')({ method: 'GET', url: '/v1/things' }), 403, 'permission_denied');
      expectProblem(await h2.app.inject({ method: 'GET', url: '/v1/things' }), 401, 'unauthenticated');
    } finally {
      await h2.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, closing keep-alive connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const slow: PlinthModule = {
      name: 'slow',
      routes: async (app) => {
        app.get('/slow', { config: { public: true } }, async () => {
          entered();
          await gate;
          return { done: true };
        });
      },
    };
    const h2 = await startApp({ modules: [...modules, slow] });
    const address = await h2.app.listen({ host: '127.0.0.1', port: 0 });
    const pending = fetch(`${address}/slow`);
    await inside;
    const closing = h2.close();
    await new Promise((r) => setTimeout(r, 50));
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toEqual({ done: true });
    await closing;
  });
});
