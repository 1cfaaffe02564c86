// Data access for the email tables of a tenant schema.
import type { Insertable, Kysely } from 'kysely';
import type { EmailOutboxTable, EmailTables } from './tables.ts';

export type EmailDb = Kysely<EmailTables>;

export const insertOutbox = (db: EmailDb, row: Insertable<EmailOutboxTable>) => db.insertInto('email_outbox').values(row).execute();

export const findOutbox = (db: EmailDb, id: string) => db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirst();

export const markSent = (db: EmailDb, id: string, d: { messageId: string; filePath: string | null }) =>
  db
    .updateTable('email_outbox')
    .set((eb) => ({ status: 'sent', sentAt: new Date(), messageId: d.messageId, filePath: d.filePath, data: null, lastError: null, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .execute();

export const markAttemptFailed = (db: EmailDb, id: string, error: string, final: boolean) =>
  db
    .updateTable('email_outbox')
    .set((eb) => ({ lastError: error.slice(0, 2000), attempts: eb('attempts', '+', 1), ...(final ? { status: 'failed' as const } : {}) }))
    .where('id', '=', id)
    .execute();

export const findBranding = (db: EmailDb) => db.selectFrom('email_branding').selectAll().executeTakeFirst();

export const upsertBranding = (db: EmailDb, b: { name: string | null; logoUrl: string | null; primaryColor: string | null; footer: string | null }) =>
  db
    .insertInto('email_branding')
    .values({ ...b })
    .onConflict((oc) => oc.column('singleton').doUpdateSet({ ...b, updatedAt: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();

export const findOverride = (db: EmailDb, name: string) => db.selectFrom('email_template_overrides').selectAll().where('name', '=', name).executeTakeFirst();

export const upsertOverride = (db: EmailDb, row: { name: string; subject: string; html: string; text: string; updatedBy: string }) =>
  db
    .insertInto('email_template_overrides')
    .values(row)
    .onConflict((oc) => oc.column('name').doUpdateSet({ subject: row.subject, html: row.html, text: row.text, updatedBy: row.updatedBy, updatedAt: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();

export const deleteOverride = async (db: EmailDb, name: string) =>
  (await db.deleteFrom('email_template_overrides').where('name', '=', name).executeTakeFirst()).numDeletedRows > 0n;
