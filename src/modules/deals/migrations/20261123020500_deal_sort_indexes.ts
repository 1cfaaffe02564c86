import { sql, type Kysely } from 'kysely';

// Indexes matching the sort expressions of the deal list (see
// DEAL_FIELDS/sortableField: NULLs coalesced to a sentinel, id as
// tie-break), over live deals, so "filter + sort + limit 50" walks an index
// instead of sorting every match (bench/crm/list-deals.ts).
export async function up(db: Kysely<any>): Promise<void> {
  const live = (b: any) => b.where(sql.ref('deleted_at'), 'is', null);
  await live(db.schema.createIndex('deals_amount_sort_idx').on('deals').expression(sql`coalesce(amount, '-Infinity'::numeric), id`)).execute();
  await live(db.schema.createIndex('deals_close_date_sort_idx').on('deals').expression(sql`coalesce(close_date, '-infinity'::date), id`)).execute();
  await live(db.schema.createIndex('deals_name_sort_idx').on('deals').expression(sql`lower(name), id`)).execute();
  await live(db.schema.createIndex('deals_updated_sort_idx').on('deals').columns(['updated_at', 'id'])).execute();
  await live(db.schema.createIndex('deals_stage_changed_sort_idx').on('deals').columns(['stage_changed_at', 'id'])).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const i of ['deals_amount_sort_idx', 'deals_close_date_sort_idx', 'deals_name_sort_idx', 'deals_updated_sort_idx', 'deals_stage_changed_sort_idx']) await db.schema.dropIndex(i).execute();
}
