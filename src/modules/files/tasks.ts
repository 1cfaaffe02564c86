// Media and housekeeping jobs of the files module.
import { Type } from 'typebox';
import sharp from 'sharp';
import { sql } from 'kysely';
import { defineTenantTask } from '../../platform/jobs/tasks.ts';
import { objectKey } from '../../platform/files/storage.ts';
import * as repo from './repository.ts';
import { THUMBNAIL_TASK, THUMBNAIL_TYPES } from './service.ts';
import type { FilesTables } from './tables.ts';

const THUMBNAIL_SIZE = 256;

export const thumbnailTask = defineTenantTask({
  name: THUMBNAIL_TASK,
  payload: Type.Object({ fileId: Type.String({ format: 'uuid' }) }),
  maxAttempts: 5,
  async run({ fileId }, ctx) {
    const db = ctx.db.withTables<FilesTables>();
    const file = await repo.findFile(db, fileId);
    if (!file || file.status !== 'ready' || file.thumbnailKey || !THUMBNAIL_TYPES.has(file.contentType)) return;
    const storage = ctx.platform.storage;
    // sharp reads the stream; limitInputPixels guards against decompression bombs.
    const resize = sharp({ limitInputPixels: 100_000_000 }).rotate().resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 });
    (await storage.read(file.storageKey)).pipe(resize);
    const thumb = await resize.toBuffer();
    const key = objectKey(ctx.tenant.id, file.id, 'thumbnail');
    await storage.putBuffer(key, thumb, 'image/webp');
    await repo.setThumbnail(db, file.id, key);
    ctx.log.info({ fileId, bytes: thumb.length }, 'thumbnail stored');
  },
});

/** Daily (fan-out): direct uploads granted a day ago and never completed free their quota. */
export const prunePendingTask = defineTenantTask({
  name: 'files.prunePending',
  payload: Type.Object({}),
  daily: true,
  async run(_data, ctx) {
    const db = ctx.db.withTables<FilesTables>();
    const stale = await db.deleteFrom('files').where('status', '=', 'pending').where('createdAt', '<', sql<Date>`now() - interval '1 day'`).returning(['storageKey']).execute();
    for (const f of stale) await ctx.platform.storage.delete(f.storageKey).catch(() => {});
    if (stale.length > 0) ctx.log.info({ pruned: stale.length }, 'abandoned direct uploads pruned');
  },
});
