import { sql, type Kysely } from 'kysely';

// The table @socket.io/postgres-adapter (realtime without Redis, until
// 20261203000000 dropped it) stored payloads over 8 kB in, passing only their
// id through NOTIFY. Its README's definition.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table if not exists socket_io_attachments (id bigserial unique, created_at timestamptz default now(), payload bytea)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists socket_io_attachments`.execute(db);
}
