import { sql, type Kysely } from 'kysely';

// Realtime without Redis no longer uses @socket.io/postgres-adapter (see
// src/platform/realtime/server.ts), so its attachments table goes.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists socket_io_attachments`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create table if not exists socket_io_attachments (id bigserial unique, created_at timestamptz default now(), payload bytea)`.execute(db);
}
