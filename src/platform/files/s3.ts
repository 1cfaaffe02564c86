// S3-compatible driver (AWS, MinIO, R2, ...): path-style addressing for
// servers that need it; downloads and direct uploads through presigned URLs,
// whose signature covers the key (changing the key voids the URL).
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { FileStorage } from './storage.ts';

export interface S3Options {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function createS3Storage(opts: S3Options): FileStorage {
  const client = new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    // Checksums only where S3 requires them: the default (streamed CRC trailers)
    // is not understood by several S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without explicit keys the SDK's default chain applies (env, profile, instance role).
    ...(opts.accessKeyId && opts.secretAccessKey ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } } : {}),
  });
  const Bucket = opts.bucket;
  return {
    driver: 's3',
    async putFile(key, path, { size, contentType }) {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: createReadStream(path), ContentLength: size, ContentType: contentType }));
    },
    async putBuffer(key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async read(key) {
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      return out.Body as Readable;
    },
    async head(key) {
      try {
        const meta = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        const size = meta.ContentLength ?? 0;
        if (size === 0) return { size, firstBytes: Buffer.alloc(0) };
        const out = await client.send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=0-${Math.min(size, 4100) - 1}` }));
        return { size, firstBytes: Buffer.from(await out.Body!.transformToByteArray()) };
      } catch (error) {
        if ((error as { name?: string }).name === 'NotFound' || (error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    async downloadUrl(key, { filename, contentType, ttlSeconds }) {
      // ASCII-only name: the RFC 5987 `filename*=` form is signed differently by some S3-compatible servers.
      const cmd = new GetObjectCommand({ Bucket, Key: key, ResponseContentDisposition: `attachment; filename="${filename.replace(/[^\x20-\x7e]|["\\%*']/g, '_')}"`, ResponseContentType: contentType });
      return { url: await getSignedUrl(client, cmd, { expiresIn: ttlSeconds }), expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
    },
    async uploadUrl(key, { contentType, size, ttlSeconds }) {
      const cmd = new PutObjectCommand({ Bucket, Key: key, ContentType: contentType, ContentLength: size });
      const url = await getSignedUrl(client, cmd, { expiresIn: ttlSeconds, signableHeaders: new Set(['content-type', 'content-length']) });
      return { url, expiresAt: new Date(Date.now() + ttlSeconds * 1000), headers: { 'content-type': contentType, 'content-length': String(size) } };
    },
  };
}
