import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseTimestamptz } from './timestamptz.ts';

// pg-types' own parser (postgres-date), whatever database.ts installed since.
const reference = (s: string) => pg.types.getTypeParser(pg.types.builtins.TIMESTAMP, 'text')(s) as Date | number | null;
const same = (s: string) => {
  const a = parseTimestamptz(s);
  const b = reference(s);
  expect(a instanceof Date ? a.getTime() : a, s).toEqual(b instanceof Date ? b.getTime() : b);
};

describe('parseTimestamptz', () => {
  it('gives the same instant as postgres-date on generated values', () => {
    let seed = 42;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const zones = ['+00', '-05', '+05:30', '-09:30', '+14', '-03:30:15', '+00:00'];
    for (let k = 0; k < 20_000; k++) {
      const fraction = rand(4) === 0 ? '' : `.${String(rand(1_000_000)).padStart(6, '0').slice(0, 1 + rand(6))}`;
      same(`${pad(100 + rand(9900), 4)}-${pad(1 + rand(12))}-${pad(1 + rand(28))} ${pad(rand(24))}:${pad(rand(60))}:${pad(rand(60))}${fraction}${zones[rand(zones.length)]}`);
    }
  });

  it('hands everything else to postgres-date', () => {
    for (const s of ['infinity', '-infinity', '0044-03-15 12:00:00+00', '0044-03-15 12:00:00+00 BC', '12345-01-01 00:00:00+00', '2026-12-01 16:00:00Z', '2026-12-01 16:00:00', '2026-12-01', '2026-1x-01 16:00:00+00', '2026-12-01 16:00:00+0a', '2026-12-01 16:00:00.5+01 junk']) {
      same(s);
    }
  });

  it('reads what PostgreSQL writes, in any session time zone', async () => {
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    try {
      for (const zone of ['UTC', 'America/St_Johns', 'Asia/Kolkata', 'Pacific/Chatham']) {
        await client.query(`set time zone '${zone}'`);
        const { rows } = await client.query<{ t: string; ms: string }>(
          `select t::text, (extract(epoch from t) * 1000)::bigint::text as ms from (values ('2026-12-01 16:29:33.123+00'::timestamptz), ('1999-12-31 23:59:59.999999+00'), ('2000-02-29 00:00:00+00'), (now())) v(t)`,
        );
        for (const r of rows) {
          same(r.t);
          expect(Math.abs((parseTimestamptz(r.t) as Date).getTime() - Number(r.ms)), r.t).toBeLessThanOrEqual(1);
        }
      }
    } finally {
      await client.end();
    }
  });
});
