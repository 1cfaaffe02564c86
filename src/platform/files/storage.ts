// File storage behind one small interface, so the files module never knows
// whether bytes sit on local disk or in S3. Keys are built by the platform
// from the tenant id and a server-generated file id, never from client input,
// and every key of a tenant starts with its prefix.
import type { Readable } from 'node:stream';

export const tenantPrefix = (tenantId: string) => `tenants/${tenantId}/`;
export const objectKey = (tenantId: string, fileId: string, variant?: 'thumbnail') =>
  `${tenantPrefix(tenantId)}files/${fileId}${variant === 'thumbnail' ? '.thumb.webp' : ''}`;

export interface SignedUrl {
  url: string;
  expiresAt: Date;
}

export interface FileStorage {
  readonly driver: 'local' | 's3';
  /** Stores a finished temporary file under `key`. */
  putFile(key: string, path: string, meta: { size: number; contentType: string }): Promise<void>;
  putBuffer(key: string, body: Buffer, contentType: string): Promise<void>;
  read(key: string): Promise<Readable>;
  /** The first bytes of an object (content sniffing of direct uploads). */
  head(key: string): Promise<{ size: number; firstBytes: Buffer } | null>;
  delete(key: string): Promise<void>;
  /** A short-lived URL that downloads the object with this name and type. */
  downloadUrl(key: string, opts: { filename: string; contentType: string; ttlSeconds: number }): Promise<SignedUrl>;
  /** A short-lived URL the client PUTs the bytes to directly (S3 only). */
  uploadUrl?(key: string, opts: { contentType: string; size: number; ttlSeconds: number }): Promise<SignedUrl & { headers: Record<string, string> }>;
}

/** RFC 6266 attachment header with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
