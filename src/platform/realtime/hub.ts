// Realtime messages to connected browsers. Rooms: `t:<tenant>` (everyone
// in a tenant) and `t:<tenant>:a:<account>` (one member's tabs). Only the
// server puts sockets in rooms, after authenticating the handshake.
//
// `publish(trx, message)` is transactional: it is a NOTIFY, which PostgreSQL
// delivers at commit and drops on rollback, to every API instance; each
// instance then emits to its own sockets. So a rolled-back write never
// notifies, and any process (a worker too) can publish.
// `broadcast()` is for messages outside a transaction: through the socket.io
// Redis adapter with REDIS_URL, else the same NOTIFY sent on its own.
import { sql, type Kysely } from 'kysely';

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
  /** Fire and forget: a failure to deliver is logged, never thrown; a message too large for NOTIFY throws in every mode. */
  broadcast(message: RealtimeMessage): void;
  /** Set by the API process once its socket.io server runs (undefined when it stops). */
  attach(send: BroadcastSender | undefined): void;
}

export type BroadcastSender = (message: RealtimeMessage, payload: string) => void;

/** The NOTIFY payload; refuses what PostgreSQL would refuse, with a message that says what to do. */
function notifyPayload(message: RealtimeMessage): string {
  const payload = JSON.stringify(message);
  if (Buffer.byteLength(payload) > MAX_PAYLOAD) throw new Error(`Realtime message "${message.event}" is too large for NOTIFY (${Buffer.byteLength(payload)} bytes): send an id and let the client fetch`);
  return payload;
}

export function createRealtimeHub(): RealtimeHub {
  let send: BroadcastSender | undefined;
  return {
    async publish(db, message) {
      await sql`select pg_notify(${REALTIME_CHANNEL}, ${notifyPayload(message)})`.execute(db.withoutPlugins());
    },
    broadcast(message) {
      const payload = notifyPayload(message);
      send?.(message, payload);
    },
    attach(fn) {
      send = fn;
    },
  };
}
