// Export of 100k rows in constant memory: 100,000 companies (one INSERT …
// SELECT generate_series) exported over real HTTP (app.inject would buffer
// the whole response), the body consumed chunk by chunk while the process's
// live heap is sampled: after a full GC every ~4 MB received, so garbage
// V8 has not collected yet does not count, only what the export retains.
// The export sends ~60 MB of CSV; the same rows held at once as JS objects
// take several times that. The retained growth must stay under a bound far
// below both, so an export that collected the rows first fails.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTenant, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';

const ROWS = 100_000;
const BOUND_MB = 24;

// A full collection on demand (the flag can be set at run time; `gc` then exists in a new context).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let h: Harness;
let a: TestTenant;
let base: string;

beforeAll(async () => {
  h = await startApp();
  a = await createTenant(h, 'exm');
  const owner = a.accounts.owner.id;
  // ~550 bytes of CSV per row: the address is long on purpose.
  await sql`insert into ${sql.id(a.tenant.schemaName, 'companies')} (id, name, domain, industry, employees, address, owner_id, custom, created_by, updated_by, created_at, updated_at)
    select gen_random_uuid(), 'Company ' || i, 'company' || i || '.example', 'Industry ' || (i % 20), i % 5000, repeat('Long street name ', 30) || i, ${owner}::uuid, '{}'::jsonb,
           ${owner}::uuid, ${owner}::uuid, now() - i * interval '1 second', now()
    from generate_series(1, ${ROWS}) i`.execute(h.db);
  await sql`analyze ${sql.id(a.tenant.schemaName, 'companies')}`.execute(h.db);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
}, 120_000);
afterAll(() => h?.close());

describe('GET /v1/companies/export.csv at 100k rows', () => {
  it('streams every row with flat heap use', async () => {
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = used();
    let sinceSample = 0;
    let peak = before;
    const res = await fetch(`${base}/v1/companies/export.csv?sort=name`, { headers: { authorization: `Bearer ${a.tokens.owner}`, 'x-tenant': a.slug } });
    expect(res.status).toBe(200);
    let bytes = 0;
    let lines = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      sinceSample += value.length;
      for (const b of value) if (b === 10) lines++;
      if (sinceSample > 4 * 2 ** 20) {
        sinceSample = 0;
        peak = Math.max(peak, used());
      }
    }
    const growthMb = (peak - before) / 2 ** 20;
    const sentMb = bytes / 2 ** 20;
    expect(lines).toBe(ROWS + 1); // header + every row
    expect(sentMb).toBeGreaterThan(50);
    console.log(`export of ${ROWS} rows: ${sentMb.toFixed(0)} MB sent, peak retained heap growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(BOUND_MB);
  }, 180_000);
});
