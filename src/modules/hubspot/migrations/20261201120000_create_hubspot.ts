import { sql, type Kysely } from 'kysely';

// HubSpot integration: the connection (one row), id links with the last agreed
// values, conflicts, webhook event ids (processed once) and sync runs.
export async function up(db: Kysely<any>): Promise<void> {
  const ms = sql`date_trunc('milliseconds', now())`;
  await db.schema
    .createTable('hubspot_connection')
    .addColumn('id', 'boolean', (c) => c.primaryKey().defaultTo(true).check(sql`id`))
    .addColumn('token_enc', 'text', (c) => c.notNull())
    .addColumn('client_secret_enc', 'text')
    .addColumn('portal_id', 'text')
    .addColumn('field_rules', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('default_currency', 'text', (c) => c.notNull())
    .addColumn('cursors', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('connected', 'auth_failed')`))
    .addColumn('connected_by', 'uuid', (c) => c.notNull())
    .addColumn('connected_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('hubspot_links')
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('hubspot_id', 'text', (c) => c.notNull())
    .addColumn('plinth_id', 'uuid', (c) => c.notNull())
    .addColumn('snapshot', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('plinth_synced_at', 'timestamptz')
    .addColumn('needs_push', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('hubspot_links_pk', ['object_type', 'hubspot_id'])
    .addUniqueConstraint('hubspot_links_plinth_unique', ['object_type', 'plinth_id'])
    .execute();
  await db.schema
    .createTable('hubspot_conflicts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('plinth_id', 'uuid', (c) => c.notNull())
    .addColumn('hubspot_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('base_value', 'jsonb')
    .addColumn('plinth_value', 'jsonb')
    .addColumn('hubspot_value', 'jsonb')
    .addColumn('detected_at', 'timestamptz', (c) => c.notNull().defaultTo(ms))
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('resolved_by', 'uuid')
    .addColumn('resolution', 'text', (c) => c.check(sql`resolution in ('hubspot', 'plinth')`))
    .execute();
  // At most one open conflict per record field: a later run refreshes it.
  await db.schema.createIndex('hubspot_conflicts_open_unique').on('hubspot_conflicts').unique().columns(['object_type', 'plinth_id', 'field']).where(sql.ref('resolved_at'), 'is', null).execute();
  await db.schema
    .createTable('hubspot_webhook_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_type', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(ms))
    .execute();
  await db.schema
    .createTable('hubspot_sync_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'succeeded', 'failed')`))
    .addColumn('counts', 'jsonb', (c) => c.notNull())
    .addColumn('errors', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['hubspot_sync_runs', 'hubspot_webhook_events', 'hubspot_conflicts', 'hubspot_links', 'hubspot_connection']) await db.schema.dropTable(t).execute();
}
