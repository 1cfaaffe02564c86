import { sql, type Kysely } from 'kysely';

// People get several emails and phones and a company. `email`/`phone` stay
// the primary values (first of each list), so code reading them keeps working
// and the unique live email index still guards the primary address.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('contacts')
    .addColumn('emails', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('phones', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('company_id', 'uuid', (c) => c.references('companies.id').onDelete('set null'))
    .execute();
  await db.updateTable('contacts').set({ emails: sql`case when email is null then '{}'::text[] else array[email] end`, phones: sql`case when phone is null then '{}'::text[] else array[phone] end` }).execute();
  await db.schema.createIndex('contacts_company_idx').on('contacts').column('company_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contacts').dropColumn('company_id').dropColumn('phones').dropColumn('emails').execute();
}
