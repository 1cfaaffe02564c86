// Tenant-affine connections. A PostgreSQL backend keeps the catalog entries
// (relcache, catcache) of every relation it has opened for as long as it
// lives: with thousands of tenant schemas, backends that each serve every
// tenant spend their CPU loading catalog entries and their memory holding
// them (bench/RESULTS.md, "tenant scaling"). The pool is therefore split into
// groups, and a tenant's queries go to its group's connections, so each
// backend sees 1/G of the tenants. A tenant joins the group with the fewest
// tenants when first seen and stays there (see groupOf). With many tenants
// active, a tenant whose group's line grows well past the others' (see pick)
// spills over to them, so a busy tenant is never held to its group's share
// while others sit idle; with few, a busy tenant takes any idle connection,
// and when none is idle, the first one released in any group (one line).
//
// Hand-written: pg-pool hands out any idle connection, and no maintained
// library routes pooled connections by key. Each group is a plain pg.Pool;
// this file only chooses among them.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { PostgresPool } from 'kysely';
import { kyselyClient } from './kysely-client.ts';

/** Connections a pool can hand out now without waiting (idle, or not opened yet), less those already promised to waiters. */
const spare = (p: pg.Pool) => p.idleCount + ((p.options.max ?? 10) - p.totalCount) - p.waitingCount;

/** How many group-lengths shorter another group's line must be before a tenant's request joins it (see pick). */
export const BORROW_GAP = 3;

/**
 * While at most this many tenants have queried within ACTIVE_WINDOW_MS, a busy
 * tenant takes any idle connection at once (see pick): each backend soon holds
 * the catalog of all of them, so a borrowed one is warm too. 50 tenants on 10
 * backends is at most 500 first queries of ~3 ms per connection lifetime.
 */
export const FEW_TENANTS = 50;
const ACTIVE_WINDOW_MS = 60_000;

const ACQUIRED = 'plinth:acquired';
/** pg-pool's own message for a pool used after end(). */
const ENDED = 'Cannot use a pool after calling end on the pool';
const POOL_EVENTS = new Set<string | symbol>(['error', 'connect', 'acquire', 'release', 'remove']);

/** Calls `listener` after each tenant query got its connection: the wait in ms, and whether it was borrowed from another group. */
export function onAcquired(pool: pg.Pool, listener: (waitMs: number, borrowed: boolean) => void): void {
  (pool as unknown as EventEmitter).on(ACQUIRED, listener);
}

/** Tenants whose group this process remembers; past it, the least recently seen is forgotten and rejoins a group on its next query. */
export const MAX_REMEMBERED_TENANTS = 100_000;

export interface AffinityPool {
  /** The whole pool, shaped like a pg.Pool (platform queries, LISTEN clients, metrics, health). */
  pool: pg.Pool;
  /** Number of groups. */
  size: number;
  /** Which group serves `key` (a tenant schema name): the same one on every call while the key is remembered. */
  groupOf(key: string): number;
  /** A pool for Kysely's PostgresDialect that prefers group `g`, or any group (the platform's queries; its end() ends the whole pool). */
  dialectPool(g?: number): PostgresPool;
}

export interface AffinityOptions {
  /** Tenants whose group is remembered (default MAX_REMEMBERED_TENANTS). */
  remember?: number;
  /**
   * With many tenants active, how long a tenant query waits in its own group's
   * line before taking another group's spare connection (0: it waits as pick() says).
   */
  borrowAfterMs?: number;
}

/** `groups` pools sharing `config.max` connections between them (each group gets at least one). */
export function createAffinityPool(config: pg.PoolConfig, groups: number, { remember = MAX_REMEMBERED_TENANTS, borrowAfterMs = 0 }: AffinityOptions = {}): AffinityPool {
  const max = config.max ?? 10;
  const n = Math.max(1, Math.min(groups, max));
  const pools = Array.from({ length: n }, (_, i) => new pg.Pool({ ...config, max: Math.floor(max / n) + (i < max % n ? 1 : 0) }));

  /**
   * Without `preferred` (pg.Pool's own connect/query on the facade): the group
   * with the most spare connections. With it (a tenant query while many tenants
   * are active; few go to the shared line, see acquireFor): `preferred` when it
   * has a spare connection, else the request waits in its own group's line unless another group's line is
   * shorter by more than BORROW_GAP group-lengths (an idle connection counting as a negative line):
   * a connection of another group has most likely never served this tenant,
   * and a backend's first query on a tenant's tables loads their catalog
   * entries, ~3 ms of PostgreSQL CPU against ~0.4 ms warm at 10,000 tenants
   * (bench/RESULTS.md). Waiting a few queries' time is cheaper; a hot tenant
   * whose line keeps growing still spreads over the whole pool.
   */
  const pick = (preferred?: pg.Pool): pg.Pool => {
    const own = preferred ? spare(preferred) : 0;
    if (preferred && own > 0) return preferred;
    let best = preferred ?? pools[0]!;
    let most = spare(best);
    for (const p of pools) {
      const s = spare(p);
      if (s > most) [best, most] = [p, s];
    }
    if (preferred && most - own <= BORROW_GAP * (preferred.options.max ?? 1)) return preferred;
    return best;
  };

  /**
   * One line for queries that may take any group's connection (platform
   * queries; tenant queries while few tenants are active) when none is spare:
   * each gets the first connection freed in any group, in the order they came.
   * In one group's pg-pool line instead (5 lines of 2 connections, not one of
   * 10), a query waited behind its group's busy pair while other groups'
   * connections freed and sat idle. pg-pool has no line across pools, hence
   * this one. (It did not lower the 10-tenant p99 at a fixed rate, which is
   * made elsewhere: bench/RESULTS.md, "Ninth session".)
   */
  type Waiter = (got: { pool: pg.Pool; client: Promise<pg.PoolClient> }) => void;
  const line: Waiter[] = [];
  /** The group with the most spare connections (other than `except`), if any has one. */
  const mostSpare = (except?: pg.Pool): pg.Pool | undefined => {
    let best: pg.Pool | undefined;
    for (const p of pools) if (p !== except && spare(p) > 0 && (!best || spare(p) > spare(best))) best = p;
    return best;
  };
  const drain = () => {
    for (let p = mostSpare(); p && line.length > 0; p = mostSpare()) line.shift()!({ pool: p, client: checkout(p) });
  };
  const drainSoon = () => line.length > 0 && queueMicrotask(drain);
  // connect() counts at once (a pending waiter or a new client), so spare() is current for the next one.
  // A new client that fails to connect leaves its pool with no event: look at the line again then.
  // The callback form: one plain promise (see kysely-client.ts on pg's derived ones).
  const checkout = (p: pg.Pool) =>
    new Promise<pg.PoolClient>((resolve, reject) =>
      p.connect((error, client) => {
        if (error || !client) {
          reject(error ?? new Error('no client'));
          drainSoon();
        } else resolve(client);
      }),
    );
  // pg-pool emits these before the client is idle (or handed to that pool's own waiter): look once it has settled.
  for (const p of pools) for (const event of ['release', 'remove'] as const) p.on(event, drainSoon);
  let ended = false;
  const acquireAny = async (): Promise<{ pool: pg.Pool; client: pg.PoolClient }> => {
    if (ended) throw new Error(ENDED);
    const turn = new Promise<Parameters<Waiter>[0]>((resolve) => line.push(resolve));
    drain();
    const got = await turn;
    return { pool: got.pool, client: await got.client };
  };

  /**
   * A tenant query's connection when its group has none spare: its own group's
   * after at most borrowAfterMs, else another group's spare one. A backend that
   * never served the tenant loads its catalog entries first (~3 ms at 10,000
   * tenants), but a query stuck behind a slow one (a read from disk, an export)
   * can wait far longer. Leaving the line is done by taking the connection it
   * would have got and releasing it at once, to whoever is next in that line
   * (pg-pool cannot withdraw a waiting checkout).
   */
  const waitOrBorrow = async (own: pg.Pool): Promise<{ client: pg.PoolClient; borrowed: boolean }> => {
    const queued = own.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = await Promise.race([queued, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), borrowAfterMs)))]);
      if (first) return { client: first, borrowed: false };
    } finally {
      clearTimeout(timer);
    }
    const other = mostSpare(own);
    if (!other) return { client: await queued, borrowed: false };
    queued.then(
      (client) => client.release(),
      () => {},
    );
    return { client: await other.connect(), borrowed: true };
  };

  /** A tenant query's connection: see pick, the shared line (few tenants active) and waitOrBorrow. */
  const acquireFor = async (own: pg.Pool): Promise<{ client: pg.PoolClient; borrowed: boolean }> => {
    if (spare(own) > 0 && line.length === 0) return { client: await own.connect(), borrowed: false };
    if (activeTenants() <= FEW_TENANTS) {
      const { pool, client } = await acquireAny();
      return { client, borrowed: pool !== own };
    }
    const from = pick(own);
    if (borrowAfterMs > 0 && from === own && spare(own) <= 0) return waitOrBorrow(own);
    return { client: await from.connect(), borrowed: from !== own };
  };

  // The members of pg.Pool that Plinth and its libraries use (graphile-worker,
  // the LISTEN clients read `options`), over all groups.
  class Facade extends EventEmitter {
    readonly options = { ...config, max };
    get totalCount() {
      return pools.reduce((n, p) => n + p.totalCount, 0);
    }
    get idleCount() {
      return pools.reduce((n, p) => n + p.idleCount, 0);
    }
    get waitingCount() {
      return pools.reduce((n, p) => n + p.waitingCount, 0);
    }
    connect(...args: unknown[]) {
      return (pick().connect as (...a: unknown[]) => unknown)(...args);
    }
    query(...args: unknown[]) {
      return (pick().query as (...a: unknown[]) => unknown)(...args);
    }
    async end() {
      ended = true;
      for (const waiter of line.splice(0)) waiter({ pool: pools[0]!, client: Promise.reject(new Error(ENDED)) });
      await Promise.all(pools.map((p) => (p.ending ? undefined : p.end())));
    }
    // pg-pool's events are heard from every group; the facade's own (ACQUIRED) stay on it.
    override on(event: string | symbol, listener: (...args: any[]) => void) {
      if (POOL_EVENTS.has(event)) for (const p of pools) p.on(event as 'error', listener);
      return super.on(event, listener);
    }
  }
  const facade = new Facade();

  /**
   * A tenant seen for the first time joins the group with the fewest tenants,
   * and stays there while remembered. A hash of the name spread 10 tenants
   * over 5 groups as 1/4/2/0/3 in bench/fleet's fleet: one group served 40%
   * of the requests on 20% of the connections while another sat idle. Counting
   * gives 2 each, and 2,000 each for 10,000. Tenants differ in traffic, which
   * counting cannot see; pick's spill-over covers a busy one.
   */
  const groupOfKey = new Map<string, number>(); // insertion order = least recently seen first
  const members = new Array<number>(n).fill(0);
  // Tenants seen in this window and the last one: their count is the number active.
  let seen = new Set<string>();
  let seenBefore = new Set<string>();
  let windowEnds = 0;
  const activeTenants = () => Math.max(seen.size, seenBefore.size);
  const groupOf = (key: string): number => {
    const now = Date.now();
    if (now >= windowEnds) {
      // After a quiet spell longer than a window, the last window's tenants are no longer active either.
      seenBefore = now >= windowEnds + ACTIVE_WINDOW_MS ? new Set() : seen;
      seen = new Set();
      windowEnds = now + ACTIVE_WINDOW_MS;
    }
    seen.add(key);
    let g = groupOfKey.get(key);
    if (g !== undefined) {
      groupOfKey.delete(key);
      groupOfKey.set(key, g);
      return g;
    }
    if (groupOfKey.size >= remember) {
      const [oldest, og] = groupOfKey.entries().next().value!;
      groupOfKey.delete(oldest);
      members[og]!--;
    }
    g = 0;
    for (let i = 1; i < n; i++) if (members[i]! < members[g]!) g = i;
    members[g]!++;
    groupOfKey.set(key, g);
    return g;
  };

  return {
    pool: facade as unknown as pg.Pool,
    size: n,
    groupOf,
    dialectPool: (g) =>
      g === undefined
        ? { connect: async () => kyselyClient((await acquireAny()).client), end: () => facade.end() }
        : {
            connect: async () => {
              const own = pools[g]!;
              const t0 = performance.now();
              const { client, borrowed } = await acquireFor(own);
              facade.emit(ACQUIRED, performance.now() - t0, borrowed);
              return kyselyClient(client);
            },
            end: async () => {},
          },
  };
}
