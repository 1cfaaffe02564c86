// The socket.io server of an API instance: websocket transport only (no
// sticky sessions needed), the handshake authenticated with the access
// token, sockets joined to their tenant and account rooms, and the LISTEN
// connection (kept up, see db/listen.ts) that turns NOTIFYs (committed
// `publish`es, and `broadcast`s without Redis) into emits to this
// instance's sockets. A NOTIFY missed while it reconnects is not replayed:
// the inbox, not the socket, is the record.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { Server } from 'socket.io';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import { keepListening } from '../db/listen.ts';
import { openRedis } from '../redis/client.ts';
import type { Platform } from '../module.ts';
import { REALTIME_CHANNEL, roomOf, type BroadcastSender, type RealtimeMessage } from './hub.ts';

export const REALTIME_PERMISSION = 'notifications.inbox.read';

export interface RealtimeServer {
  io: Server;
  connections(): number;
  /** False while the Redis adapter's connections are down (readiness); always true without Redis. */
  redisReady(): boolean;
  close(): Promise<void>;
}

export async function startRealtime(app: FastifyInstance, platform: Platform, pool: pg.Pool, opts: { redisUrl: string | undefined; corsOrigins: string[] }): Promise<RealtimeServer> {
  const io = new Server(app.server, {
    path: '/socket.io',
    transports: ['websocket'],
    serveClient: false,
    cors: opts.corsOrigins.length > 0 ? { origin: opts.corsOrigins.includes('*') ? '*' : opts.corsOrigins } : undefined,
  });
  const closers: Array<() => Promise<unknown>> = [];
  let redisReady = () => true;
  let send: BroadcastSender;

  if (opts.redisUrl) {
    const pub = openRedis(opts.redisUrl, app.log, { purpose: 'realtime broadcasts' });
    const sub = openRedis(opts.redisUrl, app.log, { purpose: 'realtime broadcasts', waitForConnection: true });
    // The adapter publishes without handling a failure: with Redis down that
    // would be an unhandled rejection. The local emit has happened by then;
    // only other instances miss the message (committed notifications travel
    // by PostgreSQL NOTIFY instead, see hub.ts).
    const publish = pub.client.publish.bind(pub.client) as (channel: string, message: string | Buffer) => Promise<number>;
    (pub.client as unknown as { publish: typeof publish }).publish = (channel, message) => publish(channel, message).catch(() => 0);
    io.adapter(createRedisAdapter(pub.client, sub.client, { key: 'plinth:socket.io' }));
    redisReady = () => pub.isUp() && sub.isUp();
    closers.push(pub.close, sub.close);
    send = (m) => io.to(roomOf(m)).emit(m.event, m.data);
  } else {
    // Without Redis a broadcast is the same NOTIFY as a publish, sent on its
    // own: every instance, this one included, emits it from its LISTEN below.
    // Not @socket.io/postgres-adapter (used until 2026-12-03): its LISTEN
    // connection was set up in the background with a silent retry, and CI saw
    // a broadcast lost between two instances that had been up for seconds.
    send = (m, payload) => {
      pool.query('select pg_notify($1, $2)', [REALTIME_CHANNEL, payload]).catch((err: Error) => app.log.warn({ err: err.message, event: m.event }, 'realtime: broadcast not sent'));
    };
  }

  io.use(async (socket, next) => {
    try {
      const token = socket.handshake.auth?.token;
      if (typeof token !== 'string') throw new Error('Send the access token in auth.token');
      const claims = await platform.tokens.verify(token);
      const tenant = await platform.directory.byId(claims.tenantId);
      if (!tenant || tenant.status !== 'active') throw new Error('Unknown or suspended tenant');
      const access = await platform.directory.access(tenant, claims.accountId);
      if (!access?.permissions.has(REALTIME_PERMISSION)) throw new Error('Not allowed');
      // The only rooms a socket is ever in; clients have no way to join others.
      await socket.join([roomOf({ tenantId: tenant.id }), roomOf({ tenantId: tenant.id, accountId: claims.accountId })]);
      socket.data = { tenantId: tenant.id, accountId: claims.accountId };
      next();
    } catch (error) {
      next(new Error(`unauthorized: ${(error as Error).message}`));
    }
  });

  const deliver = (payload: string) => {
    try {
      const m = JSON.parse(payload) as RealtimeMessage;
      io.local.to(roomOf(m)).emit(m.event, m.data);
    } catch (err) {
      app.log.warn({ err }, 'realtime: unreadable notification');
    }
  };
  const listener = await keepListening(pool.options, {
    channel: REALTIME_CHANNEL,
    name: 'plinth-realtime',
    lostMessage: 'realtime: LISTEN connection lost, reconnecting; notifications sent meanwhile do not reach this instance',
    onPayload: deliver,
    log: app.log,
  });
  platform.realtime.attach(send);

  return {
    io,
    connections: () => io.engine.clientsCount,
    redisReady: () => redisReady(),
    async close() {
      platform.realtime.attach(undefined);
      io.disconnectSockets(true);
      // Not io.close(): it would also close the HTTP server, which Fastify closes itself.
      io.engine.close();
      await Promise.resolve(io.of('/').adapter.close()).catch(() => {});
      await listener.close();
      for (const close of closers) await close().catch(() => {});
    },
  };
}
