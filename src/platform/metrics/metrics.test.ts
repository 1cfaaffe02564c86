// /metrics: RED per route template, pool and job-queue gauges, no tenant
// label; optional bearer token. /health/ready includes the job worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

let h: Harness;
let a: TestTenant;

beforeAll(async () => {
  h = await startApp({ config: { JOBS_IN_API: 'true', JOBS_TASKS: 'none.*' } });
  a = await createTenant(h, 'ma');
});
afterAll(() => h?.close());

describe('GET /metrics', () => {
  it('counts requests per route template and status, never per tenant', async () => {
    await as(h, a)({ method: 'GET', url: '/v1/contacts/00000000-0000-7000-8000-000000000000' });
    await as(h, a)({ method: 'GET', url: '/v1/contacts' });
    await h.app.inject({ method: 'GET', url: `/no/such/${a.slug}` });
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/contacts\/:id",status_code="404"\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/contacts",status_code="200"\} 1/);
    expect(text).toMatch(/route="__unmatched__",status_code="404"/);
    for (const gauge of ['plinth_db_pool_connections', 'plinth_db_pool_idle', 'plinth_db_pool_waiting', 'plinth_jobs_waiting', 'plinth_jobs_running', 'plinth_jobs_failed', 'plinth_process_cpu_seconds_total']) {
      expect(text).toMatch(new RegExp(`^${gauge} \\d+`, 'm'));
    }
    // The list query waited for a connection of its own group.
    expect(text).toMatch(/^plinth_db_pool_acquire_seconds_count\{group="own"\} [1-9]/m);
    expect(text).not.toContain(a.tenant.id);
    expect(text).not.toContain(a.slug);
    expect(text).not.toMatch(/tenant/i);
  });

  it('asks for the bearer token when METRICS_TOKEN is set', async () => {
    const other = await startApp({ config: { METRICS_TOKEN: 'scrape-token-123456' } });
    try {
      expect((await other.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await other.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
      const ok = await other.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-token-123456' } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('GET /health/ready', () => {
  it('reports the in-process job worker', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { database: 'ok', jobWorker: 'ok' } });
  });
});
