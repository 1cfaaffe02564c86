// Custom field storage: JSONB (keyed by field id, GIN + expression indexes)
// versus real columns (per-tenant DDL), on 100k deals. Prints query latency
// for the list shapes the API serves, the cost of adding a field, and size.
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres node bench/crm/custom-fields.ts [--rows 100000]
import { parseArgs } from 'node:util';
import { openBenchDatabase } from '../lib/database.ts';
import { fmt, timed, timeQuery } from './stats.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const rows = Number(values.rows);
const database = await openBenchDatabase(process.env.DATABASE_URL);
const pool = database.pool;
const log = (s: string) => process.stdout.write(`${s}\n`);

// Field ids as the JSONB keys (what the API stores: values survive renames).
const F = { tier: '0192f0a0-0000-7000-8000-000000000001', score: '0192f0a0-0000-7000-8000-000000000002', renewal: '0192f0a0-0000-7000-8000-000000000003', active: '0192f0a0-0000-7000-8000-000000000004', tags: '0192f0a0-0000-7000-8000-000000000005' };

try {
  log(`# Custom field storage, ${rows} deals (${database.where})`);
  await pool.query(`create schema j; create schema c`);
  await pool.query(`create table j.deals (id uuid primary key, name text not null, created_at timestamptz not null, custom jsonb not null default '{}')`);
  await pool.query(`create table c.deals (id uuid primary key, name text not null, created_at timestamptz not null, tier text, score numeric, renewal date, active boolean, tags text[])`);
  // The same pseudo-random values in both layouts.
  const gen = `select gen_random_uuid() as id, 'Deal ' || i as name, now() - (i || ' minutes')::interval as created_at,
      (array['bronze','silver','gold','platinum','diamond'])[1 + (i * 7) % 5] as tier,
      ((i * 7919) % 100000) / 100.0 as score,
      date '2026-01-01' + (i % 700) as renewal,
      i % 3 = 0 as active,
      array[(array['a','b','c','d','e','f','g','h'])[1 + i % 8], (array['a','b','c','d','e','f','g','h'])[1 + (i * 3) % 8]] as tags
    from generate_series(1, ${rows}) i`;
  const [, jIns] = await timed(() =>
    pool.query(`insert into j.deals select id, name, created_at, jsonb_build_object('${F.tier}', tier, '${F.score}', score, '${F.renewal}', renewal, '${F.active}', active, '${F.tags}', to_jsonb(tags)) from (${gen}) g`),
  );
  const [, cIns] = await timed(() => pool.query(`insert into c.deals select id, name, created_at, tier, score, renewal, active, tags from (${gen}) g`));
  log(`bulk insert: jsonb ${jIns.toFixed(0)} ms, columns ${cIns.toFixed(0)} ms`);

  const [, jIdx] = await timed(async () => {
    await pool.query(`create index on j.deals using gin (custom jsonb_path_ops)`);
    await pool.query(`create index on j.deals (created_at, id)`);
  });
  const [, jSortIdx] = await timed(() => pool.query(`create index on j.deals (((custom->>'${F.score}')::numeric), id)`));
  const [, cIdx] = await timed(async () => {
    await pool.query(`create index on c.deals (tier)`);
    await pool.query(`create index on c.deals (score, id)`);
    await pool.query(`create index on c.deals using gin (tags)`);
    await pool.query(`create index on c.deals (created_at, id)`);
  });
  await pool.query(`analyze j.deals; analyze c.deals`);
  log(`indexes: jsonb GIN + created ${jIdx.toFixed(0)} ms, jsonb expression index for one sortable field ${jSortIdx.toFixed(0)} ms; columns (3 field indexes + created) ${cIdx.toFixed(0)} ms`);

  const queries: Array<[string, string, string]> = [
    [
      'eq filter + sort by a custom number, limit 50',
      `select * from j.deals where custom @> '{"${F.tier}": "gold"}' order by (custom->>'${F.score}')::numeric desc, id desc limit 50`,
      `select * from c.deals where tier = 'gold' order by score desc, id desc limit 50`,
    ],
    [
      'range on a custom number, newest first, limit 50',
      `select * from j.deals where (custom->>'${F.score}')::numeric between 100 and 200 order by created_at desc, id desc limit 50`,
      `select * from c.deals where score between 100 and 200 order by created_at desc, id desc limit 50`,
    ],
    [
      'multi-select contains, newest first, limit 50',
      `select * from j.deals where custom @> '{"${F.tags}": ["c"]}' order by created_at desc, id desc limit 50`,
      `select * from c.deals where tags @> array['c'] order by created_at desc, id desc limit 50`,
    ],
    [
      'in (2 values) + bool eq, sort by custom date, limit 50',
      `select * from j.deals where (custom @> '{"${F.tier}": "gold"}' or custom @> '{"${F.tier}": "silver"}') and custom @> '{"${F.active}": true}' order by (custom->>'${F.renewal}')::date, id limit 50`,
      `select * from c.deals where tier in ('gold','silver') and active order by renewal, id limit 50`,
    ],
    [
      'is empty (no value), limit 50',
      `select * from j.deals where not (custom ? '${F.renewal}') or custom->'${F.renewal}' = 'null' order by created_at desc, id desc limit 50`,
      `select * from c.deals where renewal is null order by created_at desc, id desc limit 50`,
    ],
  ];
  log('\n| query | JSONB | columns |\n|---|---|---|');
  for (const [label, jq, cq] of queries) log(`| ${label} | ${fmt(await timeQuery(pool, jq))} | ${fmt(await timeQuery(pool, cq))} |`);

  // Adding a field: JSONB needs no DDL; columns need ALTER TABLE (+ an index to filter fast) in every tenant schema.
  const [, alter] = await timed(() => pool.query(`alter table c.deals add column region text`));
  const [, alterIdx] = await timed(() => pool.query(`create index on c.deals (region)`));
  const [, rename] = await timed(() => pool.query(`alter table c.deals rename column region to territory`));
  log(`\nadd a field: jsonb 0 DDL (a row in custom_fields); columns ALTER ADD ${alter.toFixed(1)} ms + index ${alterIdx.toFixed(0)} ms (per tenant schema, under an ACCESS EXCLUSIVE lock); rename column ${rename.toFixed(1)} ms`);
  const size = await pool.query<{ j: string; c: string }>(`select pg_size_pretty(pg_total_relation_size('j.deals')) j, pg_size_pretty(pg_total_relation_size('c.deals')) c`);
  log(`size with indexes: jsonb ${size.rows[0]!.j}, columns ${size.rows[0]!.c}`);
} finally {
  await database.close();
}
