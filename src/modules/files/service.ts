// Files: uploads stream through a temporary file (hashing, sizing and
// keeping the first bytes for sniffing on the way), then go to the storage
// driver under the tenant's prefix; metadata and the thumbnail job are
// written in one transaction, after the quota check.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { v7 as uuidv7 } from 'uuid';
import { scopeToTenant, type RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/module.ts';
import { sniffType, SNIFF_BYTES } from '../../platform/files/sniff.ts';
import { objectKey } from '../../platform/files/storage.ts';
import { auditRequest } from '../../platform/audit/writer.ts';
import * as repo from './repository.ts';
import type { FileRow, FilesTables } from './tables.ts';

export const THUMBNAIL_TASK = 'media.thumbnail';
export const THUMBNAIL_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export interface RecordLink {
  recordType?: string;
  recordId?: string;
}

const filesDb = (ctx: { db: RequestContext['db'] }) => ctx.db.withTables<FilesTables>();
/** What the audit trail keeps of a file (never its storage key). */
const audited = (f: FileRow) => ({ name: f.name, size: f.size, contentType: f.contentType, sha256: f.sha256, recordType: f.recordType, recordId: f.recordId });

/** The client's file name without any path, bounded; never used in a storage key. */
export const cleanName = (name: string | undefined) => basename((name ?? '').replace(/\\/g, '/')).replace(/\p{Cc}/gu, '').slice(0, 255) || 'file';

function linkOf(link: RecordLink) {
  if (Boolean(link.recordType) !== Boolean(link.recordId)) {
    throw new AppError('validation_failed', 'recordType and recordId go together', { errors: [{ pointer: link.recordType ? '/recordId' : '/recordType', in: 'query', detail: 'must be given with the other' }] });
  }
  return { recordType: link.recordType ?? null, recordId: link.recordId ?? null };
}

export function createFilesService(platform: Platform) {
  const { config, storage, jobs } = platform;
  const allowed = new Set(config.FILES_ALLOWED_TYPES.split(',').map((t) => t.trim()).filter(Boolean));

  async function checkQuota(db: repo.FilesDb, tenantId: string, adding: number) {
    await repo.lockQuota(db, tenantId);
    const used = await repo.usedBytes(db);
    if (used + adding > config.FILES_TENANT_QUOTA_BYTES) {
      throw new AppError('storage_quota_exceeded', `This file needs ${adding} bytes; the tenant uses ${used} of ${config.FILES_TENANT_QUOTA_BYTES}`);
    }
  }

  const enqueueThumbnail = (db: repo.FilesDb, ctx: RequestContext, file: FileRow) =>
    THUMBNAIL_TYPES.has(file.contentType) ? jobs.enqueue(db, ctx.tenant.id, THUMBNAIL_TASK, { fileId: file.id }, { jobKey: `thumb:${file.id}` }) : undefined;

  return {
    async upload(ctx: RequestContext, part: { filename?: string; file: Readable & { truncated?: boolean } }, link: RecordLink): Promise<FileRow> {
      const record = linkOf(link);
      const dir = await mkdtemp(join(tmpdir(), 'plinth-upload-'));
      const tmp = join(dir, 'body');
      try {
        const hash = createHash('sha256');
        let size = 0;
        let head = Buffer.alloc(0);
        const meter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            size += chunk.length;
            hash.update(chunk);
            if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
            done(null, chunk);
          },
        });
        try {
          await pipeline(part.file, meter, createWriteStream(tmp));
        } catch (error) {
          if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw new AppError('file_too_large', `Files may be at most ${config.FILES_MAX_BYTES} bytes`);
          throw error;
        }
        // The multipart parser stops at FILES_MAX_BYTES and marks the stream truncated.
        if (part.file.truncated) throw new AppError('file_too_large', `Files may be at most ${config.FILES_MAX_BYTES} bytes`);
        const contentType = await sniffType(head);
        if (!contentType || !allowed.has(contentType)) {
          throw new AppError('unsupported_file_type', `${contentType ? `"${contentType}"` : 'This content'} is not accepted (the type is read from the bytes, not the header); accepted: ${[...allowed].join(', ')}`);
        }
        const id = uuidv7();
        const key = objectKey(ctx.tenant.id, id);
        return await platform.db.transaction().execute(async (trx) => {
          const db = scopeToTenant(trx, ctx.tenant.schemaName).withTables<FilesTables>();
          await checkQuota(db, ctx.tenant.id, size);
          await storage.putFile(key, tmp, { size, contentType });
          try {
            const file = await repo.insertFile(db, { id, name: cleanName(part.filename), size, sha256: hash.digest('hex'), contentType, storageKey: key, status: 'ready', ...record, uploadedBy: ctx.actor.accountId });
            await enqueueThumbnail(db, ctx, file);
            await auditRequest(trx, ctx, { action: 'files.file.uploaded', targetType: 'file', targetId: file.id, after: audited(file) });
            return file;
          } catch (error) {
            await storage.delete(key).catch(() => {});
            throw error;
          }
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },

    async get(ctx: RequestContext, id: string): Promise<FileRow> {
      const file = await repo.findFile(filesDb(ctx), id);
      if (!file) throw new AppError('not_found', 'No such file');
      return file;
    },

    async downloadUrl(ctx: RequestContext, id: string, variant: 'original' | 'thumbnail') {
      const file = await this.get(ctx, id);
      if (file.status !== 'ready') throw new AppError('not_found', 'The file has not been uploaded yet');
      if (variant === 'thumbnail') {
        if (!file.thumbnailKey) throw new AppError('not_found', 'This file has no thumbnail (yet)');
        return storage.downloadUrl(file.thumbnailKey, { filename: `${file.name}.webp`, contentType: 'image/webp', ttlSeconds: config.FILES_URL_TTL_SECONDS });
      }
      return storage.downloadUrl(file.storageKey, { filename: file.name, contentType: file.contentType, ttlSeconds: config.FILES_URL_TTL_SECONDS });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      const file = await platform.db.transaction().execute(async (trx) => {
        const deleted = await repo.deleteFile(scopeToTenant(trx, ctx.tenant.schemaName).withTables<FilesTables>(), id);
        if (!deleted) throw new AppError('not_found', 'No such file');
        await auditRequest(trx, ctx, { action: 'files.file.deleted', targetType: 'file', targetId: id, before: audited(deleted) });
        return deleted;
      });
      // After the row is gone: a failure here leaves an unreachable object, never a row without bytes.
      await Promise.all([storage.delete(file.storageKey), file.thumbnailKey ? storage.delete(file.thumbnailKey) : undefined]);
    },

    /** Direct upload (S3): a pending row counted against the quota, and a presigned PUT for its key. */
    async grantUpload(ctx: RequestContext, input: { name: string; contentType: string; size: number } & RecordLink) {
      if (!storage.uploadUrl) throw new AppError('direct_upload_unavailable', 'This server stores files locally: upload through POST /v1/files');
      const record = linkOf(input);
      if (input.size > config.FILES_MAX_BYTES) throw new AppError('file_too_large', `Files may be at most ${config.FILES_MAX_BYTES} bytes`);
      if (!allowed.has(input.contentType)) throw new AppError('unsupported_file_type', `"${input.contentType}" is not accepted; accepted: ${[...allowed].join(', ')}`);
      const id = uuidv7();
      const key = objectKey(ctx.tenant.id, id);
      const file = await platform.db.transaction().execute(async (trx) => {
        const db = scopeToTenant(trx, ctx.tenant.schemaName).withTables<FilesTables>();
        await checkQuota(db, ctx.tenant.id, input.size);
        const row = await repo.insertFile(db, { id, name: cleanName(input.name), size: input.size, sha256: null, contentType: input.contentType, storageKey: key, status: 'pending', ...record, uploadedBy: ctx.actor.accountId });
        await auditRequest(trx, ctx, { action: 'files.upload.granted', targetType: 'file', targetId: id, after: audited(row) });
        return row;
      });
      const upload = await storage.uploadUrl(key, { contentType: input.contentType, size: input.size, ttlSeconds: config.FILES_URL_TTL_SECONDS });
      return { file, upload: { method: 'PUT' as const, ...upload } };
    },

    /** Checks what arrived (size, sniffed type) before the file becomes ready. */
    async completeUpload(ctx: RequestContext, id: string): Promise<FileRow> {
      const file = await this.get(ctx, id);
      if (file.status !== 'pending') throw new AppError('conflict', 'This upload is already complete');
      const head = await storage.head(file.storageKey);
      if (!head) throw new AppError('conflict', 'Nothing was uploaded to the upload URL yet');
      const type = await sniffType(head.firstBytes);
      const refuse = head.size > file.size ? new AppError('file_too_large', `The upload has ${head.size} bytes, ${file.size} were granted`) : type !== file.contentType ? new AppError('unsupported_file_type', `The bytes are ${type ?? 'of an unknown type'}, not ${file.contentType}`) : null;
      if (refuse) {
        await storage.delete(file.storageKey);
        await platform.db.transaction().execute(async (trx) => {
          await repo.deleteFile(scopeToTenant(trx, ctx.tenant.schemaName).withTables<FilesTables>(), id);
          await auditRequest(trx, ctx, { action: 'files.upload.rejected', targetType: 'file', targetId: id, before: audited(file), details: { reason: refuse.code } });
        });
        throw refuse;
      }
      return platform.db.transaction().execute(async (trx) => {
        const db = scopeToTenant(trx, ctx.tenant.schemaName).withTables<FilesTables>();
        const ready = await repo.markReady(db, id, { size: head.size, contentType: file.contentType });
        if (!ready) throw new AppError('conflict', 'This upload is already complete');
        await enqueueThumbnail(db, ctx, ready);
        await auditRequest(trx, ctx, { action: 'files.file.uploaded', targetType: 'file', targetId: id, after: audited(ready), details: { direct: true } });
        return ready;
      });
    },
  };
}
