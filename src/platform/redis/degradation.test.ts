// Redis stopped mid-run: a real redis-server on its own port, killed while
// the API serves requests, then started again. No request may fail with a
// 500 (or crash the process); rate limits keep counting in-process; the
// realtime broadcast still reaches this instance's sockets; a warning is
// logged; /health/ready reports redis; and everything recovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    child.once('error', reject);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });
}
const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

async function until(what: string, check: () => Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let port: number;
let redis: ChildProcess;
let h: Harness;
let t: TestTenant;
let socket: Socket;
const logs: Array<{ level: number; msg: string }> = [];

beforeAll(async () => {
  port = await freePort();
  redis = await startRedis(port);
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  h = await startApp({ logStream, config: { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'info', RATE_LIMIT_ACCOUNT_PER_MINUTE: '40' } });
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  t = await createTenant(h, 'rd');
  socket = connect(address, { transports: ['websocket'], auth: { token: t.tokens.member }, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => resolve());
    socket.on('connect_error', reject);
  });
});
afterAll(async () => {
  socket?.disconnect();
  await h?.close();
  if (redis) await stop(redis);
});

const ready = () => h.app.inject({ method: 'GET', url: '/health/ready' });
const readAll = () => as(h, t, 'member')({ method: 'POST', url: '/v1/notifications/read-all' });
const readEvent = () =>
  new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no notification.read event')), 3000);
    socket.once('notification.read', (d) => {
      clearTimeout(timer);
      resolve(d);
    });
  });

let attempts = 0;
/** A mix of reads, writes, broadcasts and failed logins (unknown emails); returns the status codes. */
async function traffic(rounds: number) {
  const codes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    codes.push((await as(h, t, 'owner')({ method: 'GET', url: '/v1/me' })).statusCode);
    codes.push((await as(h, t, 'admin')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'R', lastName: `Down ${i}` } })).statusCode);
    codes.push((await readAll()).statusCode);
    codes.push((await h.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': t.slug }, payload: { email: `nobody-${++attempts}@${t.slug}.example`, password: 'wrong password' } })).statusCode);
  }
  return codes;
}

describe('Redis stopped mid-run', () => {
  it('degrades to in-process without a 500, reports it, and recovers when Redis is back', async () => {
    // Up: the shared store counts, readiness includes redis.
    expect((await ready()).json()).toMatchObject({ checks: { redis: 'ok' } });
    expect(await traffic(2)).not.toContain(500);

    await stop(redis);
    // Requests go on while the connections notice.
    const during = await traffic(3);
    await until('readiness to report redis down', async () => (await ready()).statusCode === 503);
    during.push(...(await traffic(3)));
    expect(during.filter((c) => c >= 500)).toEqual([]);
    expect(new Set(during)).toEqual(new Set([200, 201, 401]));

    const notReady = await ready();
    expect(expectProblem(notReady, 503, 'service_unavailable').detail).toMatch(/redis/);
    expect(logs.some((l) => l.level === 40 && /Redis is unreachable/.test(l.msg))).toBe(true);

    // Budgets still hold, counted in this process: the viewer's 40 requests a minute.
    const viewer = as(h, t, 'viewer');
    const codes: number[] = [];
    for (let i = 0; i < 41; i++) codes.push((await viewer({ method: 'GET', url: '/v1/me' })).statusCode);
    expect(codes.slice(0, 40).every((c) => c === 200)).toBe(true);
    expect(codes[40]).toBe(429);

    // The member's own sockets still get the broadcast (local emit).
    const event = readEvent();
    expect((await readAll()).statusCode).toBe(200);
    expect(await event).toEqual({ all: true });

    // Back: readiness recovers and the shared store counts again (a fresh Redis: full budget).
    redis = await startRedis(port);
    await until('readiness to recover', async () => (await ready()).statusCode === 200);
    expect((await ready()).json()).toMatchObject({ checks: { redis: 'ok' } });
    expect(await traffic(2)).not.toContain(500);
    const res = await viewer({ method: 'GET', url: '/v1/me' });
    expect(res.statusCode).toBe(200);
    expect(Number(res.headers['ratelimit-remaining'])).toBeGreaterThan(30);
    expect(logs.some((l) => /Redis is back/.test(l.msg))).toBe(true);
    const event2 = readEvent();
    expect((await readAll()).statusCode).toBe(200);
    expect(await event2).toEqual({ all: true });

    // A Redis that hangs (process paused, connections open): commands time
    // out, requests are counted in-process instead, still no 500.
    redis.kill('SIGSTOP');
    try {
      const hung = await traffic(3);
      expect(hung.filter((c) => c >= 500)).toEqual([]);
      expect(logs.some((l) => l.level === 40 && /a Redis command failed/.test(l.msg))).toBe(true);
      expect((await ready()).statusCode).toBe(503);
    } finally {
      redis.kill('SIGCONT');
    }
    expect(await traffic(1)).not.toContain(500);
  });
});

describe('Redis down at startup', () => {
  it('the API starts, serves without 500s, reports redis not ready, and picks Redis up once it runs', async () => {
    const lonelyPort = await freePort();
    const app = await startApp({ config: { REDIS_URL: `redis://127.0.0.1:${lonelyPort}` } });
    let late: ChildProcess | undefined;
    try {
      const u = await createTenant(app, 'rs');
      const me = await as(app, u, 'member')({ method: 'GET', url: '/v1/me' });
      expect(me.statusCode).toBe(200);
      expect(me.headers['ratelimit-limit']).toBeDefined();
      expect((await as(app, u, 'member')({ method: 'POST', url: '/v1/notifications/read-all' })).statusCode).toBe(200);
      expect(expectProblem(await app.app.inject({ method: 'GET', url: '/health/ready' }), 503, 'service_unavailable').detail).toMatch(/redis/);
      late = await startRedis(lonelyPort);
      await until('readiness once Redis runs', async () => (await app.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200);
    } finally {
      await app.close();
      if (late) await stop(late);
    }
  });
});
