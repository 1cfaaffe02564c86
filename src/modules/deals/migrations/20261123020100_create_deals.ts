import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';

// The stages every new tenant starts with (editable per tenant afterwards).
export const DEFAULT_STAGES = [
  { name: 'Qualification', probability: 10, kind: 'open' },
  { name: 'Discovery', probability: 25, kind: 'open' },
  { name: 'Proposal', probability: 50, kind: 'open' },
  { name: 'Negotiation', probability: 75, kind: 'open' },
  { name: 'Closed won', probability: 100, kind: 'won' },
  { name: 'Closed lost', probability: 0, kind: 'lost' },
] as const;

// Runs with `withSchema(<tenant schema>)`.
export async function up(db: Kysely<any>): Promise<void> {
  const audit = (t: any) =>
    t
      .addColumn('created_by', 'uuid')
      .addColumn('updated_by', 'uuid')
      .addColumn('created_at', 'timestamptz', (c: any) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
      .addColumn('updated_at', 'timestamptz', (c: any) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`));

  await audit(
    db.schema
      .createTable('pipelines')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false)),
  )
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('pipelines_one_default').on('pipelines').unique().column('is_default').where(sql.ref('is_default'), '=', true).execute();

  await audit(
    db.schema
      .createTable('pipeline_stages')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('pipeline_id', 'uuid', (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('probability', 'integer', (c) => c.notNull().check(sql`probability between 0 and 100`))
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('open', 'won', 'lost')`)),
  ).execute();
  await db.schema.createIndex('pipeline_stages_order').on('pipeline_stages').columns(['pipeline_id', 'position']).execute();

  await audit(
    db.schema
      .createTable('deals')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('amount', 'numeric(18, 2)')
      .addColumn('currency', 'char(3)', (c) => c.check(sql`currency ~ '^[A-Z]{3}$'`))
      .addColumn('close_date', 'date')
      .addColumn('pipeline_id', 'uuid', (c) => c.notNull().references('pipelines.id'))
      .addColumn('stage_id', 'uuid', (c) => c.notNull().references('pipeline_stages.id'))
      .addColumn('stage_changed_at', 'timestamptz', (c) => c.notNull())
      .addColumn('company_id', 'uuid', (c) => c.references('companies.id').onDelete('set null'))
      .addColumn('owner_id', 'uuid'),
  )
    .addColumn('deleted_at', 'timestamptz')
    .addForeignKeyConstraint('deals_owner_fk', ['owner_id'], 'public.accounts', ['id'], (fk: any) => fk.onDelete('set null'))
    .execute();
  await db.schema.createIndex('deals_created_idx').on('deals').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('deals_stage_idx').on('deals').columns(['stage_id']).execute();
  await db.schema.createIndex('deals_company_idx').on('deals').column('company_id').execute();
  await db.schema.createIndex('deals_owner_idx').on('deals').column('owner_id').execute();

  await db.schema
    .createTable('deal_contacts')
    .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deals.id').onDelete('cascade'))
    .addColumn('contact_id', 'uuid', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('deal_contacts_pkey', ['deal_id', 'contact_id'])
    .execute();
  await db.schema.createIndex('deal_contacts_contact_idx').on('deal_contacts').column('contact_id').execute();

  // Every stage a deal entered, with when and by whom: point-in-time reports read this.
  await db.schema
    .createTable('deal_stage_history')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deals.id').onDelete('cascade'))
    .addColumn('from_stage_id', 'uuid', (c) => c.references('pipeline_stages.id'))
    .addColumn('to_stage_id', 'uuid', (c) => c.notNull().references('pipeline_stages.id'))
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('changed_by', 'uuid')
    .execute();
  await db.schema.createIndex('deal_stage_history_deal_idx').on('deal_stage_history').columns(['deal_id', 'changed_at']).execute();
  await db.schema.createIndex('deal_stage_history_at_idx').on('deal_stage_history').columns(['changed_at']).execute();

  const pipelineId = uuidv7();
  await db.insertInto('pipelines').values({ id: pipelineId, name: 'Sales', is_default: true }).execute();
  await db
    .insertInto('pipeline_stages')
    .values(DEFAULT_STAGES.map((s, position) => ({ id: uuidv7(), pipeline_id: pipelineId, name: s.name, probability: s.probability, kind: s.kind, position })))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['deal_stage_history', 'deal_contacts', 'deals', 'pipeline_stages', 'pipelines']) await db.schema.dropTable(t).execute();
}
