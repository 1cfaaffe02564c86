// keepListening when the first connection fails: startup must see the error,
// and no reconnection loop may outlive it (the process would never exit).
// Reconnection after a loss is tested where it matters: the realtime
// fan-out (notifications.test.ts) and the cache bus (cache.test.ts).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { keepListening } from './listen.ts';

describe('keepListening', () => {
  it('rejects when PostgreSQL cannot be reached, and leaves no reconnection behind', async () => {
    // A port that was free a moment ago: connecting to it is refused.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
    });
    const logged: string[] = [];
    const log = { info: (_o: object, m: string) => logged.push(m), error: (_o: object, m: string) => logged.push(m) };
    await expect(keepListening({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` }, { channel: 'plinth_test', name: 'plinth-test', lostMessage: 'lost', onPayload: () => {}, log })).rejects.toThrow(/ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(logged).toEqual([]);
  });
});
