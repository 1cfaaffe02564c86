import { sql, type Kysely } from 'kysely';

// Tenant tables refer to public.accounts (and other public rows) by id
// WITHOUT foreign keys: this drops the ones earlier migrations created.
// A foreign key into `public` puts two RI triggers on the public table for
// every tenant table that references it, so with schema-per-tenant they grow
// with the fleet. Measured (bench/fleet): 23,000 triggers on public.accounts
// at 1,900 tenants; a fresh connection's first query on accounts took
// 100-130 ms (the relcache entry loads them all), each new tenant's FK took
// ~85 ms and invalidated that entry in every backend, and creating one took
// a SHARE ROW EXCLUSIVE lock on accounts that blocks sign-ups. Accounts are
// never deleted (they are disabled), so the ON DELETE actions never fired;
// services check that an account id is a member of the tenant before writing it.
// `plinth check citus` (test/fleet/citus-readiness.test.ts) keeps new ones out.
export async function up(db: Kysely<any>): Promise<void> {
  // The runner scopes `db` to the tenant schema (withSchema); raw SQL is not rewritten, so read the name from a compiled query.
  const schema = /from "([^"]+)"\./.exec(db.selectFrom('plinth_migrations').select('name').compile().sql)?.[1];
  if (!schema) throw new Error('no tenant schema in scope');
  const { rows } = await sql<{ table: string; name: string }>`
    select c.relname as table, k.conname as name
    from pg_constraint k join pg_class c on c.oid = k.conrelid
    where k.contype = 'f' and k.connamespace = ${schema}::regnamespace and k.confrelid in (select oid from pg_class where relnamespace = 'public'::regnamespace)
    order by 1, 2`.execute(db);
  for (const fk of rows) await db.schema.alterTable(fk.table).dropConstraint(fk.name).execute();
}

// Not restored on the way down: dropping them lost no data, and putting them
// back on every tenant is what this migration exists to avoid.
export async function down(): Promise<void> {}
