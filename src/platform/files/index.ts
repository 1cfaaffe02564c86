import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.ts';
import { createLocalStorage } from './local.ts';
import { createS3Storage } from './s3.ts';
import type { FileStorage } from './storage.ts';

/** The configured storage driver (FILES_DRIVER). */
export function createFileStorage(config: Config): FileStorage {
  if (config.FILES_DRIVER === 's3') {
    if (!config.S3_BUCKET) throw new Error('FILES_DRIVER=s3 needs S3_BUCKET');
    return createS3Storage({
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    });
  }
  // Unset secret: a random one per process, so download URLs only work on
  // the instance that issued them (set FILES_URL_SECRET when running several).
  const secret = config.FILES_URL_SECRET ? new TextEncoder().encode(config.FILES_URL_SECRET) : randomBytes(32);
  return createLocalStorage({ dataDir: config.PLINTH_DATA_DIR, secret, publicUrl: config.PUBLIC_URL?.replace(/\/$/, '') ?? '' });
}
