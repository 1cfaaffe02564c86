import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, problemResponses } from '../../platform/http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import { LOCAL_CONTENT_ROUTE, type LocalStorage } from '../../platform/files/local.ts';
import { contentDisposition } from '../../platform/files/storage.ts';
import { createFilesService } from './service.ts';
import { File, GrantUpload, RecordLinkQuery, SignedUrl, UploadGrant, UrlQuery } from './schemas.ts';
import type { FileRow } from './tables.ts';

const FileRef = Type.Ref('File');
const tags = ['files'];

const toJson = (f: FileRow) => ({
  id: f.id,
  name: f.name,
  size: f.size,
  sha256: f.sha256,
  contentType: f.contentType,
  status: f.status,
  hasThumbnail: f.thumbnailKey !== null,
  recordType: f.recordType,
  recordId: f.recordId,
  uploadedBy: f.uploadedBy,
  createdAt: f.createdAt.toISOString(),
});
const urlJson = (u: { url: string; expiresAt: Date }) => ({ url: u.url, expiresAt: u.expiresAt.toISOString() });

export const fileRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const files = createFilesService(platform);
  app.addSchema(File);
  // Only this plugin parses multipart bodies; one part, the file, bounded in size.
  await app.register(multipart, { limits: { fileSize: platform.config.FILES_MAX_BYTES, files: 1, fields: 0, parts: 1 }, throwFileSizeLimit: true });

  app.post('/v1/files', {
    config: { permission: 'files.files.write' },
    schema: {
      tags,
      summary: 'Upload a file (multipart/form-data, field "file")',
      description: 'The type is sniffed from the bytes; the part\'s own Content-Type is ignored.',
      consumes: ['multipart/form-data'],
      querystring: RecordLinkQuery,
      response: { 201: FileRef, ...problemResponses(400, 401, 403, 413, 415) },
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send the file as multipart/form-data in the field "file"');
    const part = await request.file();
    if (!part) throw new AppError('validation_failed', 'No file part', { errors: [{ pointer: '/file', in: 'body', detail: 'is required' }] });
    if (part.fieldname !== 'file') {
      part.file.resume();
      throw new AppError('validation_failed', 'The file goes in the field "file"', { errors: [{ pointer: '/file', in: 'body', detail: 'is required' }] });
    }
    return reply.code(201).send(toJson(await files.upload(ctxOf(request), part, request.query)));
  });

  app.get('/v1/files/:id', {
    config: { permission: 'files.files.read' },
    schema: { tags, summary: "A file's metadata", params: IdParams, response: { 200: FileRef, ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => toJson(await files.get(ctxOf(request), request.params.id)));

  app.get('/v1/files/:id/url', {
    config: { permission: 'files.files.read' },
    schema: { tags, summary: 'A short-lived signed download URL (original or thumbnail)', params: IdParams, querystring: UrlQuery, response: { 200: SignedUrl, ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => urlJson(await files.downloadUrl(ctxOf(request), request.params.id, request.query.variant)));

  app.delete('/v1/files/:id', {
    config: { permission: 'files.files.delete' },
    schema: { tags, summary: 'Delete a file and its bytes', params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    await files.remove(ctxOf(request), request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/v1/files/uploads', {
    config: { permission: 'files.files.write' },
    schema: { tags, summary: 'Direct upload (S3 driver): reserve a file and get a presigned PUT URL', body: GrantUpload, response: { 201: UploadGrant, ...problemResponses(400, 401, 403, 409, 413, 415) } },
  }, async (request, reply) => {
    const { file, upload } = await files.grantUpload(ctxOf(request), request.body);
    return reply.code(201).send({ file: toJson(file), upload: { method: upload.method, url: upload.url, headers: upload.headers, expiresAt: upload.expiresAt.toISOString() } });
  });

  app.post('/v1/files/:id/complete', {
    config: { permission: 'files.files.write' },
    schema: { tags, summary: 'Finish a direct upload: checks the size and the sniffed type', params: IdParams, response: { 200: FileRef, ...problemResponses(400, 401, 403, 404, 409, 413, 415) } },
  }, async (request) => toJson(await files.completeUpload(ctxOf(request), request.params.id)));

  if (platform.storage.driver === 'local') {
    const local = platform.storage as LocalStorage;
    // The signed URL is the credential (like an S3 presigned URL): no token, no tenant header.
    app.get(LOCAL_CONTENT_ROUTE, {
      config: { public: true },
      schema: { tags, summary: 'Download through a signed URL (local storage driver)', querystring: Type.Object({ token: Type.String({ maxLength: 4000 }) }), response: { ...problemResponses(403, 404) } },
    }, async (request, reply) => {
      const claims = await local.verifyToken(request.query.token);
      if (!claims) throw new AppError('permission_denied', 'This download link is invalid or has expired');
      const body = await local.read(claims.key).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new AppError('not_found', 'The file was deleted');
        throw error;
      });
      return reply.header('content-type', claims.contentType).header('content-disposition', contentDisposition(claims.filename)).header('cache-control', 'private, max-age=60').send(body);
    });
  }
};
