import { sql, type Kysely } from 'kysely';

// The trigger function that makes every tenant's audit_log insert-only: the
// application's role cannot change or remove a row, whatever its grants.
// (A superuser can still bypass triggers; the hash chain catches that.)
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create or replace function public.plinth_audit_insert_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is insert-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end
  $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists public.plinth_audit_insert_only()`.execute(db);
}
