// Readiness while the API drains: once shutdown has begun, /health/ready
// answers 503 (the load balancer stops sending traffic) while liveness was
// fine before; probes carry no rate-limit headers.
import { request, Agent } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.ts';
import { createDatabase } from '../db/database.ts';
import { testConfig } from '../../../test/helpers.ts';

const config = testConfig();
const { db, pool } = createDatabase({ url: config.DATABASE_URL!, poolMax: 2, statementTimeoutMs: 10_000 });
afterAll(() => db.destroy());

function get(url: string, agent: Agent) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('GET /health/ready while draining', () => {
  it('is ready, then answers 503 once shutdown began (requests still being drained)', async () => {
    const app = await buildApp({ config, db, pool });
    // Holds the shutdown in its draining phase until the test has probed.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let draining!: () => void;
    const drainingStarted = new Promise<void>((r) => (draining = r));
    app.addHook('preClose', async () => {
      draining();
      await held;
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const agent = new Agent({ keepAlive: true });
    try {
      const before = await get(`${address}/health/ready`, agent);
      expect(before.status).toBe(200);
      expect(JSON.parse(before.body)).toEqual({ status: 'ok', checks: { database: 'ok' } });
      expect(before.headers['ratelimit-limit']).toBeUndefined();

      const closed = app.close();
      await drainingStarted;
      const during = await get(`${address}/health/ready`, agent);
      expect(during.status).toBe(503);
      expect(during.headers.connection).toBe('close');
      release();
      await closed;
    } finally {
      release();
      agent.destroy();
    }
  });
});
