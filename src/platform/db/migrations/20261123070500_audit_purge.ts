import { sql, type Kysely } from 'kysely';

// Retention: the purge (audit/retention.ts) may delete old audit rows inside
// its own transaction, after setting plinth.audit_purge; updates, truncation
// and any other delete stay refused.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create or replace function public.plinth_audit_insert_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and current_setting('plinth.audit_purge', true) = 'on' then
        return old;
      end if;
      raise exception 'audit_log is insert-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end
  $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create or replace function public.plinth_audit_insert_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is insert-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end
  $$`.execute(db);
}
