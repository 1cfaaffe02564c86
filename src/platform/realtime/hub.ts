// Realtime messages to connected browsers. Rooms: `t:<tenant>` (everyone
// in a tenant) and `t:<tenant>:a:<account>` (one member's tabs). Only the
// server puts sockets in rooms, after authenticating the handshake.
//
// `publish(trx, message)` is transactional: it is a NOTIFY, which PostgreSQL
// delivers at commit and drops on rollback, to every API instance; each
// instance then emits to its own sockets. So a rolled-back write never
// notifies, and any process (a worker too) can publish.
// `broadcast()` is for messages outside a transaction and goes through the
// socket.io adapter (Redis pub/sub with REDIS_URL, else PostgreSQL).
import { sql, type Kysely } from 'kysely';
import type { Server } from 'socket.io';

export const REALTIME_CHANNEL = 'plinth_realtime';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;

export interface RealtimeMessage {
  tenantId: string;
  /** Only this member's sockets; unset: the whole tenant. */
  accountId?: string;
  event: string;
  data: unknown;
}

export const roomOf = (m: { tenantId: string; accountId?: string }) => (m.accountId ? `t:${m.tenantId}:a:${m.accountId}` : `t:${m.tenantId}`);

export interface RealtimeHub {
  publish(db: Kysely<any>, message: RealtimeMessage): Promise<void>;
  broadcast(message: RealtimeMessage): void;
  /** Set by the API process once its socket.io server runs. */
  attach(io: Server | undefined): void;
}

export function createRealtimeHub(): RealtimeHub {
  let io: Server | undefined;
  return {
    async publish(db, message) {
      const payload = JSON.stringify(message);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD) throw new Error(`Realtime message "${message.event}" is too large for NOTIFY (${Buffer.byteLength(payload)} bytes): send an id and let the client fetch`);
      await sql`select pg_notify(${REALTIME_CHANNEL}, ${payload})`.execute(db.withoutPlugins());
    },
    broadcast(message) {
      io?.to(roomOf(message)).emit(message.event, message.data);
    },
    attach(server) {
      io = server;
    },
  };
}
