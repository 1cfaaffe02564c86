// Local disk driver (the default): objects under <data folder>/files/<key>.
// Download URLs point at the API itself and carry a short-lived HS256 token
// (jose) naming the key: without a valid token, guessing a key gets nothing.
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import type { FileStorage } from './storage.ts';

export const LOCAL_CONTENT_ROUTE = '/v1/files/content';

export interface LocalDownloadClaims {
  key: string;
  filename: string;
  contentType: string;
}

export interface LocalStorage extends FileStorage {
  /** Checks a download token; null when it is forged, altered or expired. */
  verifyToken(token: string): Promise<LocalDownloadClaims | null>;
  pathOf(key: string): string;
}

export function createLocalStorage(opts: { dataDir: string; secret: Uint8Array; publicUrl: string }): LocalStorage {
  const root = resolve(opts.dataDir, 'files');
  const pathOf = (key: string) => {
    const path = resolve(root, key);
    if (!path.startsWith(root + sep)) throw new Error(`Key ${key} escapes the storage folder`);
    return path;
  };
  const place = async (key: string, write: (target: string) => Promise<void>) => {
    const target = pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.part`;
    await write(tmp);
    await rename(tmp, target);
  };
  return {
    driver: 'local',
    pathOf,
    putFile: (key, path) => place(key, (tmp) => copyFile(path, tmp)),
    async putBuffer(key, body) {
      await place(key, async (tmp) => {
        const fh = await open(tmp, 'w');
        try {
          await fh.writeFile(body);
        } finally {
          await fh.close();
        }
      });
    },
    // Opened before returning, so a missing object fails here and not mid-response.
    read: async (key) => (await open(pathOf(key), 'r')).createReadStream(),
    async head(key) {
      try {
        const path = pathOf(key);
        const { size } = await stat(path);
        const fh = await open(path, 'r');
        try {
          const buf = Buffer.alloc(Math.min(size, 4100));
          await fh.read(buf, 0, buf.length, 0);
          return { size, firstBytes: buf };
        } finally {
          await fh.close();
        }
      } catch {
        return null;
      }
    },
    delete: (key) => rm(pathOf(key), { force: true }),
    async downloadUrl(key, { filename, contentType, ttlSeconds }) {
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      const token = await new SignJWT({ key, filename, contentType } satisfies LocalDownloadClaims)
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .setAudience('plinth-file-download')
        .sign(opts.secret);
      return { url: `${opts.publicUrl}${LOCAL_CONTENT_ROUTE}?token=${token}`, expiresAt };
    },
    async verifyToken(token) {
      try {
        const { payload } = await jwtVerify(token, opts.secret, { audience: 'plinth-file-download', algorithms: ['HS256'] });
        const { key, filename, contentType } = payload as unknown as LocalDownloadClaims;
        return typeof key === 'string' && typeof filename === 'string' && typeof contentType === 'string' ? { key, filename, contentType } : null;
      } catch {
        return null;
      }
    },
  };
}

