// List 50 of 100k deals with filters and sorts, through the real app
// (access guard, validation, query, serialisation): the time of app.inject,
// i.e. server time without the network. Also prints the SQL plans.
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx node bench/crm/list-deals.ts [--rows 100000] [--no-sort-index]
// (--no-sort-index: the baseline without the custom score field's sort index)
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createDatabase } from '../../src/platform/db/database.ts';
import { openBenchDatabase } from '../lib/database.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, BENCH_RATE_LIMITS, createBenchTenant } from '../lib/fixtures.ts';
import { timed } from './stats.ts';
import { syncSortIndex } from '../../src/modules/custom-fields/sort-index.ts';
import { scopeToTenant } from '../../src/platform/context.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, runs: { type: 'string', default: '50' }, 'no-sort-index': { type: 'boolean', default: false } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
const log = (s: string) => process.stdout.write(`${s}\n`);

const database = await openBenchDatabase(process.env.DATABASE_URL);
const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', DEMO_SEED: 'false', JOBS_IN_API: 'false', TENANT_CACHE_TTL_MS: '60000', ...BENCH_RATE_LIMITS });
const { db, pool } = createDatabase({ url: database.url, poolMax: 4, statementTimeoutMs: 0 });
try {
  const { tenant, ownerId } = await createBenchTenant(database.db, 'crm-bench', 0);
  const app = await buildApp({ config, db, pool });
  await app.ready();
  const login = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'x-tenant': 'crm-bench' }, payload: { email: BENCH_EMAIL, password: BENCH_PASSWORD } });
  const headers = { authorization: `Bearer ${(login.json() as { accessToken: string }).accessToken}`, 'x-tenant': 'crm-bench' };
  const call = async (url: string, payload?: object) => {
    const res = await app.inject({ method: payload ? 'POST' : 'GET', url, headers, payload });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as Record<string, unknown>;
  };
  const tier = (await call('/v1/custom-fields', { object: 'deal', key: 'tier', label: 'Tier', type: 'select', options: ['bronze', 'silver', 'gold', 'platinum'] })) as { id: string };
  const score = (await call('/v1/custom-fields', { object: 'deal', key: 'score', label: 'Score', type: 'number' })) as { id: string };
  const pipeline = ((await call('/v1/pipelines')) as { data: Array<{ id: string; stages: Array<{ id: string; name: string }> }> }).data[0]!;
  const s = (n: string) => sql.id(tenant.schemaName, n);
  const [, seedMs] = await timed(async () => {
    await sql`insert into ${s('companies')} (id, name, domain, owner_id, created_by, updated_by, created_at, updated_at)
      select gen_random_uuid(), 'Company ' || i, 'company' || i || '.example', ${ownerId}::uuid, ${ownerId}::uuid, ${ownerId}::uuid, now(), now() from generate_series(1, 2000) i`.execute(database.db);
    await sql`insert into ${s('deals')} (id, name, amount, currency, close_date, pipeline_id, stage_id, stage_changed_at, company_id, owner_id, custom, created_by, updated_by, created_at, updated_at)
      select gen_random_uuid(), 'Deal ' || i || ' ' || (array['renewal','expansion','pilot','licence','services'])[1 + i % 5],
             ((i * 7919) % 200000) / 4.0, 'EUR', date '2026-01-01' + (i % 365),
             ${pipeline.id}::uuid, (${sql.val(pipeline.stages.map((x) => x.id))}::uuid[])[1 + i % ${pipeline.stages.length}],
             now() - (i || ' minutes')::interval, c.id, ${ownerId}::uuid,
             jsonb_build_object(${tier.id}::text, (array['bronze','silver','gold','platinum'])[1 + (i * 3) % 4], ${score.id}::text, (i * 31) % 1000),
             ${ownerId}::uuid, ${ownerId}::uuid, date_trunc('milliseconds', now() - (i || ' seconds')::interval), now()
      from generate_series(1, ${rows}) i
      join lateral (select id from ${s('companies')} order by id offset (i % 2000) limit 1) c on true`.execute(database.db);
    await sql`insert into ${s('deal_stage_history')} (id, deal_id, from_stage_id, to_stage_id, changed_at, changed_by) select gen_random_uuid(), id, null, stage_id, created_at, owner_id from ${s('deals')}`.execute(database.db);
    // What the field's job does once the field exists (the bench app runs no worker).
    if (!values['no-sort-index']) await syncSortIndex(scopeToTenant(database.db, tenant.schemaName), tenant.schemaName, score.id);
    await sql`vacuum analyze ${s('deals')}`.execute(database.db);
    await sql`vacuum analyze ${s('deal_stage_history')}`.execute(database.db);
  });
  log(`# List 50 of ${rows} deals (${database.where}); seeded in ${(seedMs / 1000).toFixed(1)} s; ${runs} runs per query after 5 warm-ups`);
  const proposal = pipeline.stages.find((x) => x.name === 'Proposal')!.id;
  const firstPage = (await call('/v1/deals?sort=-amount&limit=50')) as { nextCursor: string };
  const queries: Array<[string, string]> = [
    ['default (newest first)', '/v1/deals?limit=50'],
    ['stage eq, sort -amount', `/v1/deals?limit=50&filter=stageId:eq:${proposal}&sort=-amount`],
    ['amount range + close date range, sort closeDate,-amount', '/v1/deals?limit=50&filter=amount:gte:10000&filter=amount:lt:20000&filter=closeDate:gte:2026-03-01&filter=closeDate:lt:2026-06-01&sort=closeDate,-amount'],
    ['status open, sort -amount', '/v1/deals?limit=50&status=open&sort=-amount'],
    ['custom select eq, sort -custom.score', '/v1/deals?limit=50&filter=custom.tier:eq:gold&sort=-custom.score'],
    ['custom number range + custom select in, newest first', '/v1/deals?limit=50&filter=custom.score:gte:900&filter=custom.tier:in:gold,platinum'],
    ['full-text search "pilot 123"', '/v1/deals?limit=50&search=pilot%20123'],
    ['second page by cursor, sort -amount', `/v1/deals?limit=50&sort=-amount&cursor=${firstPage.nextCursor}`],
  ];
  log('\n| query | p50 | p95 | rows |\n|---|---|---|---|');
  for (const [label, url] of queries) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = ((await call(url)) as { data: unknown[] }).data.length;
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await timed(() => call(url)))[1]);
    ms.sort((x, y) => x - y);
    log(`| ${label} | ${ms[Math.floor(runs / 2)]!.toFixed(1)} ms | ${ms[Math.floor(runs * 0.95)]!.toFixed(1)} ms | ${n} |`);
  }
  const report = await timed(() => call(`/v1/reports/pipeline?pipelineId=${pipeline.id}`));
  log(`\npipeline report at now over ${rows} deals (from stage history): ${report[1].toFixed(0)} ms`);
  await app.close();
} finally {
  await db.destroy();
  await database.close();
}
