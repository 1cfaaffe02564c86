import { sql, type Insertable, type Kysely } from 'kysely';
import type { FilesTable, FilesTables } from './tables.ts';

export type FilesDb = Kysely<FilesTables>;

export const insertFile = (db: FilesDb, row: Insertable<FilesTable>) => db.insertInto('files').values(row).returningAll().executeTakeFirstOrThrow();

export const findFile = (db: FilesDb, id: string) => db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();

export const deleteFile = (db: FilesDb, id: string) => db.deleteFrom('files').where('id', '=', id).returningAll().executeTakeFirst();

export const markReady = (db: FilesDb, id: string, d: { size: number; contentType: string }) =>
  db.updateTable('files').set({ status: 'ready', size: d.size, contentType: d.contentType }).where('id', '=', id).where('status', '=', 'pending').returningAll().executeTakeFirst();

export const setThumbnail = (db: FilesDb, id: string, key: string) => db.updateTable('files').set({ thumbnailKey: key }).where('id', '=', id).execute();

/** Bytes the tenant uses, pending direct uploads included. */
export async function usedBytes(db: FilesDb): Promise<number> {
  const row = await db.selectFrom('files').select(sql<number>`coalesce(sum(size), 0)::bigint`.as('used')).executeTakeFirstOrThrow();
  return Number(row.used);
}

/**
 * Serialises quota checks of one tenant (released at commit): two parallel
 * uploads cannot both pass a check that only one of them fits.
 */
export const lockQuota = (db: FilesDb, tenantId: string) => sql`select pg_advisory_xact_lock(hashtext(${`files-quota:${tenantId}`}))`.execute(db);
