import { sql, type Kysely } from 'kysely';

// Trigram similarity for CRM duplicate detection. pg_trgm ships with
// PostgreSQL (checked on the embedded 17 and on 15) and is a trusted
// extension, so the database owner can create it. Installed once in
// `public`; tenant schemas call it as public.similarity / public.gin_trgm_ops.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm with schema public`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop extension if exists pg_trgm`.execute(db);
}
