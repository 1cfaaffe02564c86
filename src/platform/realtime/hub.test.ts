// The hub refuses, in every mode and before any I/O, a message PostgreSQL's
// NOTIFY would refuse, and hands the others to whatever sender is attached.
import { describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createRealtimeHub, type RealtimeMessage } from './hub.ts';

const message = (size: number): RealtimeMessage => ({ tenantId: 't', accountId: 'a', event: 'x.big', data: { text: 'x'.repeat(size) } });

describe('realtime hub', () => {
  it('refuses a message too large for NOTIFY, from publish and from broadcast', async () => {
    const hub = createRealtimeHub();
    const sent: string[] = [];
    hub.attach((_m, payload) => sent.push(payload));
    // publish checks before touching the database: this db is never used.
    await expect(hub.publish(undefined as unknown as Kysely<any>, message(8000))).rejects.toThrow(/too large for NOTIFY.*send an id/);
    expect(() => hub.broadcast(message(8000))).toThrow(/too large for NOTIFY/);
    expect(sent).toEqual([]);
  });

  it('hands a broadcast to the attached sender as the NOTIFY payload, and drops it once detached', () => {
    const hub = createRealtimeHub();
    const sent: string[] = [];
    hub.attach((_m, payload) => sent.push(payload));
    hub.broadcast(message(10));
    hub.attach(undefined);
    hub.broadcast(message(10));
    expect(sent.map((p) => JSON.parse(p) as RealtimeMessage)).toEqual([message(10)]);
  });
});
