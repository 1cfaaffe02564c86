// The pg client Kysely is given: queries, errors, cursors and release behave as
// with pg's own promise form, against the test database.
import pg from 'pg';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDatabase, forTenant, type Db } from './database.ts';
import { kyselyClient } from './kysely-client.ts';

let pool: pg.Pool | undefined;
let db: Db | undefined;
afterEach(async () => {
  await pool?.end();
  await db?.destroy();
  pool = db = undefined;
});

describe('kyselyClient', () => {
  it('runs parameterised queries, rejects with pg’s own error, and the connection stays usable', async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
    const client = kyselyClient(await pool.connect());
    const ok = await client.query<{ n: number }>('select $1::int + 1 as n', [41]);
    expect(ok.rows).toEqual([{ n: 42 }]);
    const failed = await client.query('select * from no_such_table_here', []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(pg.DatabaseError);
    expect((failed as pg.DatabaseError).code).toBe('42P01');
    expect((await client.query<{ n: number }>('select 7 as n', [])).rows[0]!.n).toBe(7);
    client.release();
    // Released: the pool's single connection can be checked out again, and gets the same wrapper.
    const again = await pool.connect();
    expect(kyselyClient(again)).toBe(client);
    again.release();
  });

  it('hands a submittable (a cursor) to pg as is, which returns it', async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
    const client = kyselyClient(await pool.connect());
    const submittable = new pg.Query('select 5 as n');
    const rows: unknown[] = [];
    submittable.on('row', (row: unknown) => rows.push(row));
    const ended = new Promise((resolve) => submittable.on('end', resolve));
    expect(client.query(submittable as never)).toBe(submittable);
    await ended;
    expect(rows).toEqual([{ n: 5 }]);
    client.release();
  });

  it('serves Kysely on the platform pool and on tenant groups, transactions included', async () => {
    ({ db } = createDatabase({ url: inject('databaseUrl'), poolMax: 4, statementTimeoutMs: 10_000 }));
    const tenantDb = forTenant(db, 't_00000000000000000000000000000001');
    expect((await sql<{ n: number }>`select 1 as n`.execute(db)).rows).toEqual([{ n: 1 }]);
    const inTx = await tenantDb.transaction().execute(async (tx) => {
      await sql`create temporary table kc_probe (n int) on commit drop`.execute(tx);
      await sql`insert into kc_probe values (1), (2)`.execute(tx);
      return (await sql<{ total: number }>`select sum(n)::int as total from kc_probe`.execute(tx)).rows[0]!.total;
    });
    expect(inTx).toBe(3);
    await expect(sql`select 1/0`.execute(tenantDb)).rejects.toMatchObject({ code: '22012' });
  });
});
