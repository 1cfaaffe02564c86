// bench/lib/pg-waits.ts: the wait-event sampler, against the test run's PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addSnapshot, formatWaits, mergeWaits, sampleWaits, type WaitProfile } from './pg-waits.ts';

describe('sampleWaits', () => {
  let pool: pg.Pool;
  let busy: pg.Client;
  let database: string;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
    busy = new pg.Client({ connectionString: inject('databaseUrl') });
    await busy.connect();
    database = new URL(inject('databaseUrl')).pathname.slice(1);
  });
  afterAll(async () => {
    await busy.end();
    await pool.end();
  });

  it("sees an active backend's wait event", async () => {
    const stop = sampleWaits(pool, database, 20);
    await busy.query('select pg_sleep(0.4)');
    const profile = await stop();
    expect(profile.samples).toBeGreaterThan(5);
    // The sleeping backend, in most snapshots (other test files' backends, on the same database, may show up beside it).
    expect(profile.byEvent['Timeout:PgSleep']).toBeGreaterThan(profile.samples / 2);
    expect(formatWaits(profile)).toMatch(/^PG busy \d+\.\d\d backends: .*Timeout:PgSleep \d+%/);
  });

  it('ends quietly when the database goes away', async () => {
    const gone = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
    const stop = sampleWaits(gone, database, 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await gone.end();
    const profile = await stop();
    expect(profile.samples).toBeGreaterThan(0);
  });
});

describe('wait profiles', () => {
  it('counts CPU for an active backend with no wait event, and merges by event', () => {
    const a: WaitProfile = { samples: 0, active: 0, byEvent: {} };
    addSnapshot(a, [null, 'IO:DataFileRead']);
    addSnapshot(a, [null]);
    const b: WaitProfile = { samples: 0, active: 0, byEvent: {} };
    addSnapshot(b, []);
    addSnapshot(b, [null, 'LWLock:BufferMapping', 'IO:DataFileRead']);
    const m = mergeWaits([a, b]);
    expect(m).toEqual({ samples: 4, active: 6, byEvent: { CPU: 3, 'IO:DataFileRead': 2, 'LWLock:BufferMapping': 1 } });
    expect(formatWaits(m, 2)).toBe('PG busy 1.50 backends: CPU 50%, IO:DataFileRead 33%');
    expect(formatWaits({ samples: 0, active: 0, byEvent: {} })).toBe('PG busy: no samples');
  });
});
