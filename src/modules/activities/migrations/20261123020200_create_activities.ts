import { sql, type Kysely } from 'kysely';

// Runs with `withSchema(<tenant schema>)`.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('activities')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('note', 'task', 'call', 'meeting')`))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text')
    // Tasks only (enforced below): status, due date, assignee, completion time.
    .addColumn('status', 'text', (c) => c.check(sql`status in ('todo', 'in_progress', 'done')`))
    .addColumn('due_at', 'timestamptz')
    .addColumn('assignee_id', 'uuid')
    .addColumn('completed_at', 'timestamptz')
    // Calls and meetings: when, how long; call outcome; meeting location.
    .addColumn('starts_at', 'timestamptz')
    .addColumn('duration_minutes', 'integer', (c) => c.check(sql`duration_minutes >= 0`))
    .addColumn('outcome', 'text')
    .addColumn('location', 'text')
    // When it happened, for the timeline: starts_at of calls and meetings, creation time otherwise.
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('owner_id', 'uuid')
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('updated_by', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .addCheckConstraint('activities_task_status', sql`(type = 'task') = (status is not null)`)
    .addForeignKeyConstraint('activities_owner_fk', ['owner_id'], 'public.accounts', ['id'], (fk) => fk.onDelete('set null'))
    .addForeignKeyConstraint('activities_assignee_fk', ['assignee_id'], 'public.accounts', ['id'], (fk) => fk.onDelete('set null'))
    .execute();
  await db.schema.createIndex('activities_created_idx').on('activities').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('activities_open_tasks_idx').on('activities').columns(['assignee_id', 'due_at']).where(sql.ref('status'), 'in', sql`('todo', 'in_progress')`).execute();
  await db.schema.createIndex('activities_owner_idx').on('activities').columns(['owner_id', 'occurred_at']).execute();

  // An activity links to any number of companies, people and deals.
  await db.schema
    .createTable('activity_links')
    .addColumn('activity_id', 'uuid', (c) => c.notNull().references('activities.id').onDelete('cascade'))
    .addColumn('record_type', 'text', (c) => c.notNull().check(sql`record_type in ('company', 'contact', 'deal')`))
    .addColumn('record_id', 'uuid', (c) => c.notNull())
    .addPrimaryKeyConstraint('activity_links_pkey', ['activity_id', 'record_type', 'record_id'])
    .execute();
  await db.schema.createIndex('activity_links_record_idx').on('activity_links').columns(['record_type', 'record_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('activity_links').execute();
  await db.schema.dropTable('activities').execute();
}
