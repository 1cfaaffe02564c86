// The pooled pg client as Kysely's PostgresDialect sees it, running each
// query through pg's callback form.
//
// Kysely calls `client.query(sql, params)`, pg's promise form, and pg derives
// that promise with `.catch()` (to point an error's stack at the caller).
// Under HTTP load, with that form every query's rows and everything the
// request held outlived V8's young-generation collections and were promoted to
// the old generation: ~37 KiB per reference read against ~0.1 for the bare pg
// route, so each scavenge paused ~28 ms instead of ~5 and a full collection
// followed every few seconds. The callback form wrapped in one plain promise
// promotes 0.2-0.7 KiB (bench/gc-probe.ts; bench/README.md, "Garbage", which
// also says what we do not know: why V8 keeps them). Kysely's own error
// handling still extends the stack.
// Hand-written: neither pg nor Kysely offers this switch.
import type pg from 'pg';
import type { PostgresCursor, PostgresPoolClient, PostgresQueryResult } from 'kysely';

// One wrapper per pooled connection: Kysely keys its connection objects on the client it is given.
const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();

export function kyselyClient(client: pg.PoolClient): PostgresPoolClient {
  let wrapper = wrappers.get(client);
  if (!wrapper) {
    function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>) {
      // A cursor (Kysely's streamQuery) is a pg Submittable: pg returns it as is.
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
      return new Promise<PostgresQueryResult<R>>((resolve, reject) =>
        client.query(sqlOrCursor, parameters as unknown[], (error, result) => (error ? reject(error) : resolve(result as unknown as PostgresQueryResult<R>))),
      );
    }
    // pg-pool gives the client a new release() at each checkout: call the current one.
    wrapper = { query, release: () => client.release() };
    wrappers.set(client, wrapper);
  }
  return wrapper;
}
