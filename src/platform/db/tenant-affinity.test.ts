// Tenant-affine connection groups against the test database: a tenant's
// queries stay on its group's backends, a busy group borrows, and the pool as
// a whole still behaves like a pg.Pool.
import { createServer, type AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { createDatabase, forTenant, type Db } from './database.ts';
import { BORROW_GAP, FEW_TENANTS, createAffinityPool, onAcquired } from './tenant-affinity.ts';
import { scopeToTenant } from '../context.ts';

const url = () => inject('databaseUrl');
const schemaOf = (i: number) => `t_${i.toString(16).padStart(32, '0')}`;
const backendPid = async (db: Db) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;

/** Has more than FEW_TENANTS tenants query, as a busy fleet does: from then on the pool keeps each tenant on its own group. */
const manyTenantsActive = (db: Db) => {
  for (let i = 0; i <= FEW_TENANTS; i++) forTenant(db, schemaOf(100_000 + i));
};

let open: Array<{ db: Db }> = [];
const database = (poolMax: number, groups?: number, borrowAfterMs?: number) => {
  const d = createDatabase({ url: url(), poolMax, statementTimeoutMs: 10_000, groups, borrowAfterMs });
  open.push(d);
  return d;
};
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.map((d) => d.db.destroy()));
  open = [];
});

describe('tenant affinity', () => {
  it('puts each new tenant in the group with the fewest tenants, and keeps it there', () => {
    const { groupOf, size, pool } = createAffinityPool({ max: 10 }, 5);
    expect(size).toBe(5);
    const countsOf = (tenants: number) => {
      const counts = new Array<number>(5).fill(0);
      for (let i = 0; i < tenants; i++) counts[groupOf(schemaOf(i * 7919))]!++;
      return counts;
    };
    expect(countsOf(10)).toEqual([2, 2, 2, 2, 2]);
    expect(countsOf(10)).toEqual([2, 2, 2, 2, 2]);
    expect(countsOf(10_000)).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(pool.options.max).toBe(10);
    void pool.end();
  });

  it('forgets the least recently seen tenant past its limit, and gives its place to the next new one', () => {
    const { groupOf, pool } = createAffinityPool({ max: 4 }, 2, { remember: 4 });
    expect(['a', 'b', 'c', 'd'].map(groupOf)).toEqual([0, 1, 0, 1]);
    groupOf('a'); // seen again: b is now the least recent
    expect(groupOf('e')).toBe(1); // b forgotten: group 1 has fewer tenants (d)
    expect(groupOf('f')).toBe(0); // c forgotten: group 0 has a only
    expect(groupOf('a')).toBe(0); // remembered throughout
    expect(groupOf('b')).toBe(1); // d forgotten (group 1: e), b rejoins there
    void pool.end();
  });

  it("runs a tenant's queries on its own group's connections, and the groups share no backend", async () => {
    const { db } = database(6, 3);
    // Tenants of each group, as the pool assigns them.
    const byGroup = new Map<Db, string[]>();
    for (let i = 0; byGroup.size < 3 || [...byGroup.values()].some((l) => l.length < 4); i++) {
      const s = schemaOf(i);
      const g = forTenant(db, s);
      byGroup.set(g, [...(byGroup.get(g) ?? []), s]);
    }
    expect(byGroup.size).toBe(3);
    const pidsOf = new Map<Db, Set<number>>();
    // Two at a time per group of two: within its connections, never waiting for another group's.
    for (const [group, schemas] of byGroup) {
      const pids = new Set<number>();
      for (let round = 0; round < 5; round++) {
        const got = await Promise.all(schemas.slice(0, 2).map((s) => backendPid(scopeToTenant(db, s) as unknown as Db)));
        for (const p of got) pids.add(p);
      }
      pidsOf.set(group, pids);
      expect(pids.size).toBeLessThanOrEqual(2);
    }
    const all = [...pidsOf.values()].flatMap((s) => [...s]);
    expect(new Set(all).size).toBe(all.length);
  });

  it("waits for its own group's connections, and spills over to an idle group once its line is BORROW_GAP groups long", async () => {
    const { db, pool } = database(4, 2);
    manyTenantsActive(db);
    const borrowed: boolean[] = [];
    onAcquired(pool, (_, b) => borrowed.push(b));
    const mine = schemaOf(1);
    const group = forTenant(db, mine);
    // Hold both connections of the tenant's group in open transactions.
    const release: Array<() => void> = [];
    const held = [0, 1].map(
      () =>
        new Promise<number>((resolve) => {
          void group.transaction().execute(async (trx) => {
            resolve(await backendPid(trx));
            await new Promise<void>((r) => release.push(r));
          });
        }),
    );
    const busy = await Promise.all(held);
    // The other group's two idle connections count as a line of -2: the tenant's
    // queries queue on their own group until its line is longer by more than BORROW_GAP groups.
    const queued = BORROW_GAP * 2 - 2 + 1;
    const done: number[] = [];
    const waiting = Array.from({ length: queued }, (_, i) => backendPid(scopeToTenant(db, mine) as unknown as Db).then((pid) => (done.push(i), pid)));
    const spilled = await Promise.race([backendPid(scopeToTenant(db, mine) as unknown as Db), new Promise<number>((_, reject) => setTimeout(() => reject(new Error('waited for its own group')), 3000))]);
    expect(busy).not.toContain(spilled);
    expect(done).toEqual([]);
    expect(borrowed).toEqual([false, false, true]); // the two held transactions on their own group, then the spilled query
    for (const r of release) r();
    expect(busy).toEqual(expect.arrayContaining([...new Set(await Promise.all(waiting))]));
  });

  it("when every connection is busy, a tenant's requests queue in their group until that line is BORROW_GAP groups longer than the others'", async () => {
    const { db } = database(4, 2);
    manyTenantsActive(db);
    const mine = schemaOf(1);
    const other = [...Array(100).keys()].map(schemaOf).find((s) => forTenant(db, s) !== forTenant(db, mine))!;
    // Hold all four connections: two in each group.
    const release = new Map<string, Array<() => void>>([[mine, []], [other, []]]);
    const hold = (s: string) =>
      new Promise<void>((resolve) => {
        void forTenant(db, s).transaction().execute(async () => {
          resolve();
          await new Promise<void>((r) => release.get(s)!.push(r));
        });
      });
    await Promise.all([hold(mine), hold(mine), hold(other), hold(other)]);
    // BORROW_GAP * 2 + 1 queries of the first tenant wait in its group; the next one joins the other group's (empty) line.
    const stay = BORROW_GAP * 2 + 1;
    const waiting = Array.from({ length: stay + 1 }, () => backendPid(scopeToTenant(db, mine) as unknown as Db));
    const done: number[] = [];
    waiting.forEach((w, i) => void w.then(() => done.push(i)));
    release.get(other)!.shift()!();
    await Promise.race([...waiting, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('every waiter queued on its own busy group')), 3000))]);
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toEqual([stay]);
    for (const rs of release.values()) for (const r of rs) r();
    await Promise.all(waiting);
  });

  /** Holds `n` connections of `schema`'s group in open transactions: their backend pids, and how to let them go. */
  const holdConnections = async (db: Db, schema: string, n: number) => {
    const release: Array<() => void> = [];
    const pids = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<number>((resolve) => {
            void forTenant(db, schema).transaction().execute(async (trx) => {
              resolve(await backendPid(trx));
              await new Promise<void>((r) => release.push(r));
            });
          }),
      ),
    );
    return { pids, release: () => release.splice(0).forEach((r) => r()) };
  };

  it("with borrowAfterMs, a query stuck behind its busy group takes another group's spare connection after that wait, and its place in line passes on", async () => {
    const { db, pool } = database(4, 2, 150);
    manyTenantsActive(db);
    const borrowed: boolean[] = [];
    onAcquired(pool, (_, b) => borrowed.push(b));
    const mine = schemaOf(1);
    const held = await holdConnections(db, mine, 2);
    const t0 = performance.now();
    const pid = await Promise.race([backendPid(scopeToTenant(db, mine) as unknown as Db), new Promise<number>((_, reject) => setTimeout(() => reject(new Error('waited for its own group')), 3000))]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(held.pids).not.toContain(pid);
    expect(borrowed).toEqual([false, false, true]);
    // The checkout it left in its group's line gets a connection when one frees, and hands it straight back.
    held.release();
    await vi.waitFor(() => expect([pool.waitingCount, pool.idleCount]).toEqual([0, pool.totalCount]));
    expect(held.pids).toContain(await backendPid(forTenant(db, mine)));
  });

  it('with borrowAfterMs and no spare connection anywhere, the query keeps its place in its own line', async () => {
    const { db } = database(4, 2, 50);
    manyTenantsActive(db);
    const mine = schemaOf(1);
    const other = [...Array(100).keys()].map(schemaOf).find((s) => forTenant(db, s) !== forTenant(db, mine))!;
    const own = await holdConnections(db, mine, 2);
    const theirs = await holdConnections(db, other, 2);
    let pid: number | undefined;
    const query = backendPid(scopeToTenant(db, mine) as unknown as Db).then((p) => (pid = p));
    await new Promise((r) => setTimeout(r, 200));
    expect(pid).toBeUndefined();
    own.release();
    await query;
    expect(own.pids).toContain(pid);
    theirs.release();
  });

  it.each([
    ['with few tenants active', 0],
    ['after many tenants and then a quiet spell of two minutes', 121_000],
  ])('%s, a busy group borrows an idle connection at once', async (_, quietMs) => {
    const { db, pool } = database(4, 2);
    if (quietMs) {
      manyTenantsActive(db);
      const later = Date.now() + quietMs;
      vi.spyOn(Date, 'now').mockImplementation(() => later);
    }
    const borrowed: boolean[] = [];
    onAcquired(pool, (_, b) => borrowed.push(b));
    const mine = schemaOf(1);
    const group = forTenant(db, mine);
    const release: Array<() => void> = [];
    const busy = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<number>((resolve) => {
            void group.transaction().execute(async (trx) => {
              resolve(await backendPid(trx));
              await new Promise<void>((r) => release.push(r));
            });
          }),
      ),
    );
    const next = await Promise.race([backendPid(scopeToTenant(db, mine) as unknown as Db), new Promise<number>((_, reject) => setTimeout(() => reject(new Error('waited for its own group')), 3000))]);
    expect(busy).not.toContain(next);
    expect(borrowed).toEqual([false, false, true]);
    for (const r of release) r();
  });

  /** Resolves to `what` or rejects after `ms`: a query that must not wait for a connection that stays held. */
  const within = <T,>(what: Promise<T>, ms: number, why: string) => Promise.race([what, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(why)), ms))]);

  it("with few tenants active and every connection busy, a tenant's query takes the first connection released in any group", async () => {
    const { db, pool } = database(4, 2);
    const borrowed: boolean[] = [];
    const mine = schemaOf(1);
    const other = [...Array(100).keys()].map(schemaOf).find((s) => forTenant(db, s) !== forTenant(db, mine))!;
    const own = await holdConnections(db, mine, 2);
    const theirs = await holdConnections(db, other, 2);
    onAcquired(pool, (_, b) => borrowed.push(b));
    const first = backendPid(scopeToTenant(db, mine) as unknown as Db);
    const second = backendPid(scopeToTenant(db, mine) as unknown as Db);
    await new Promise((r) => setTimeout(r, 100));
    // The other group's connections free first: the waiting queries take them (both the same one,
    // when the first query is done before the second transaction has released its connection).
    theirs.release();
    const pids = await within(Promise.all([first, second]), 3000, "waited for its own group's busy connections");
    for (const pid of pids) expect(theirs.pids).toContain(pid);
    expect(borrowed).toEqual([true, true]);
    own.release();
    await vi.waitFor(() => expect([pool.waitingCount, pool.idleCount]).toEqual([0, pool.totalCount]));
  });

  it('a platform query waits for the first connection released in any group', async () => {
    const { db } = database(4, 2);
    const mine = schemaOf(1);
    forTenant(db, mine);
    const other = [...Array(100).keys()].map(schemaOf).find((s) => forTenant(db, s) !== forTenant(db, mine))!;
    const own = await holdConnections(db, mine, 2);
    const theirs = await holdConnections(db, other, 2);
    const platform = backendPid(db);
    await new Promise((r) => setTimeout(r, 100));
    // The second group frees first (mine, seen first, is in the first group, where a pg-pool line would have put it).
    theirs.release();
    expect(theirs.pids).toContain(await within(platform, 3000, 'waited in one group for a connection freed in another'));
    own.release();
  });

  it('ending the pool fails the queries still waiting in the shared line', { timeout: 5000 }, async () => {
    const { db, pool } = database(2, 2);
    const held = await holdConnections(db, schemaOf(1), 1);
    const held2 = await holdConnections(db, [...Array(100).keys()].map(schemaOf).find((s) => forTenant(db, s) !== forTenant(db, schemaOf(1)))!, 1);
    const waiting = backendPid(db);
    await vi.waitFor(() => expect(pool.waitingCount).toBe(0)); // in the shared line, not in a group's
    await new Promise((r) => setTimeout(r, 50));
    const ended = pool.end();
    await expect(waiting).rejects.toThrow(/end/);
    await expect(backendPid(db)).rejects.toThrow(/end/);
    held.release();
    held2.release();
    await ended;
  });

  it('a query waiting in the shared line is not stranded when new connections fail', async () => {
    // A port nothing listens on: every new connection is refused, and pg-pool emits no event for it.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const { dialectPool, pool } = createAffinityPool({ host: '127.0.0.1', port, max: 2 }, 2);
    // Two take the groups' places, the third waits in the line for one of them.
    const results = await within(Promise.allSettled([0, 1, 2].map(() => dialectPool().connect())), 3000, 'a waiter stranded in the line');
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await pool.end();
  });

  it('looks like one pg.Pool: query, counts over every group, end', async () => {
    const { pool } = database(4, 2);
    const { rows } = await pool.query<{ n: number }>('select 1 as n');
    expect(rows).toEqual([{ n: 1 }]);
    const client = await pool.connect();
    expect(pool.totalCount).toBeGreaterThanOrEqual(1);
    expect(pool.idleCount).toBe(pool.totalCount - 1);
    client.release();
    expect(pool.waitingCount).toBe(0);
  });

  it('one group is the plain pool: no twins', () => {
    const { db } = database(4, 1);
    expect(forTenant(db, schemaOf(3))).toBe(db);
  });
});
