// Files on the local driver: streaming upload, sniffing (415), size limit
// (413), quota, signed download URLs, thumbnails by the media job, delete;
// the five standard cases per route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { SignJWT } from 'jose';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { exeBytes, fileUpload, multipart, pngImage } from './test-support.ts';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let dataDir: string;
const MAX = 100_000;
const QUOTA = 300_000;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'plinth-files-'));
  h = await startApp({
    config: { PLINTH_DATA_DIR: dataDir, FILES_MAX_BYTES: String(MAX), FILES_TENANT_QUOTA_BYTES: String(QUOTA), JOBS_IN_API: 'true', JOBS_TASKS: 'media.*', JOBS_POLL_INTERVAL_MS: '200' },
  });
  [a, b] = await Promise.all([createTenant(h, 'fa'), createTenant(h, 'fb')]);
});
afterAll(() => h?.close());

type FileJson = { id: string; name: string; size: number; sha256: string; contentType: string; status: string; hasThumbnail: boolean; recordType: string | null; recordId: string | null };

async function upload(t: TestTenant, filename: string, body: Buffer | string, contentType?: string, query = ''): Promise<FileJson> {
  const res = await as(h, t, 'member')({ method: 'POST', url: `/v1/files${query}`, ...fileUpload(filename, body, contentType) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const until = async <T>(check: () => Promise<T | undefined | false>, ms = 8000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};
const download = (url: string) => h.app.inject({ method: 'GET', url });

describe('POST /v1/files', () => {
  it('stores the file, answers its metadata, and the signed URL downloads the same bytes', async () => {
    const text = 'hello, plinth\n'.repeat(100);
    const recordId = '0190b6b4-1c2d-7000-8000-000000000001';
    const f = await upload(a, '../../etc/notes.txt', text, 'image/png', `?recordType=crm.contact&recordId=${recordId}`);
    expect(f).toMatchObject({ name: 'notes.txt', size: text.length, contentType: 'text/plain', status: 'ready', hasThumbnail: false, recordType: 'crm.contact', recordId });
    expect(f.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    const files = await readdir(join(dataDir, 'files', 'tenants', a.tenant.id, 'files'));
    expect(files).toEqual([f.id]);
    const { url, expiresAt } = (await as(h, a, 'viewer')({ method: 'GET', url: `/v1/files/${f.id}/url` })).json() as { url: string; expiresAt: string };
    expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(300_000);
    const res = await download(url);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(text);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['content-disposition']).toContain('filename="notes.txt"');
  });

  it('makes a thumbnail of an image in a media job', async () => {
    const f = await upload(a, 'photo.png', await pngImage(), 'application/octet-stream');
    expect(f.contentType).toBe('image/png');
    await until(async () => ((await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}` })).json() as FileJson).hasThumbnail);
    const { url } = (await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}/url?variant=thumbnail` })).json() as { url: string };
    const thumb = await download(url);
    expect(thumb.headers['content-type']).toBe('image/webp');
    const meta = await sharp(thumb.rawPayload).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 256, height: 171 });
  });

  it('415 for content whose bytes are not an accepted type, whatever the header says', async () => {
    const p = expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files', ...fileUpload('cat.png', exeBytes(), 'image/png') }), 415, 'unsupported_file_type');
    expect(p.detail).toContain('application/x-msdownload');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files', ...fileUpload('blob.png', Buffer.from([0, 1, 2, 3, 0, 255]), 'image/png') }), 415, 'unsupported_file_type');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files', payload: { file: 'x' } }), 415, 'unsupported_media_type');
  });

  it('413 over the size limit, and nothing is stored', async () => {
    const t = await createTenant(h, 'fs');
    expectProblem(await as(h, t)({ method: 'POST', url: '/v1/files', ...fileUpload('big.txt', 'a'.repeat(MAX + 1), 'text/plain') }), 413, 'file_too_large');
    await expect(readdir(join(dataDir, 'files', 'tenants', t.tenant.id))).rejects.toThrow();
  });

  it('413 when the tenant quota would be exceeded; other tenants are unaffected', async () => {
    const t = await createTenant(h, 'fq');
    for (let i = 0; i < 3; i++) await upload(t, `part${i}.txt`, 'q'.repeat(MAX - 1));
    expectProblem(await as(h, t)({ method: 'POST', url: '/v1/files', ...fileUpload('more.txt', 'q'.repeat(10_000)) }), 413, 'storage_quota_exceeded');
    await upload(b, 'fine.txt', 'q'.repeat(10_000));
  });

  it('400 for a missing file part, a wrong field or bad link parameters', async () => {
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files', ...multipart([{ field: 'other', filename: 'x.txt', body: 'x' }]) }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files?recordType=crm.contact', ...fileUpload('x.txt', 'x') }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files?recordId=nope', ...fileUpload('x.txt', 'x') }), 400, 'validation_failed');
  });

  it('401 without a token, 403 for a viewer', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/files', headers: { 'x-tenant': a.slug, ...fileUpload('x.txt', 'x').headers }, payload: fileUpload('x.txt', 'x').payload }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/files', ...fileUpload('x.txt', 'x') }), 403, 'permission_denied');
  });
});

describe('GET /v1/files/:id and /url', () => {
  it("400, 401, 403, and another tenant's file is a 404 like a missing one", async () => {
    const f = await upload(a, 'secret.txt', 'top secret');
    for (const url of [`/v1/files/${f.id}`, `/v1/files/${f.id}/url`]) {
      expectProblem(await as(h, a)({ method: 'GET', url: url.replace(f.id, 'nope') }), 400, 'validation_failed');
      expectProblem(await h.app.inject({ method: 'GET', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
      const other = expectProblem(await as(h, b)({ method: 'GET', url }), 404, 'not_found');
      const missing = expectProblem(await as(h, b)({ method: 'GET', url: url.replace(f.id, '00000000-0000-7000-8000-000000000000') }), 404, 'not_found');
      expect(other.detail).toBe(missing.detail);
    }
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}/url?variant=huge` }), 400, 'validation_failed');
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}/url?variant=thumbnail` }), 404, 'not_found');
    const t = await createTenant(h, 'fr');
    await h.db.deleteFrom('memberships').where('tenantId', '=', t.tenant.id).where('accountId', '=', t.accounts.viewer.id).execute();
    expectProblem(await as(h, t, 'viewer')({ method: 'GET', url: `/v1/files/${f.id}` }), 403, 'permission_denied');
  });

  it('a download link cannot be forged or pointed at another key', async () => {
    const f = await upload(a, 'private.txt', 'only for tenant a');
    const { url } = (await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}/url` })).json() as { url: string };
    const token = new URL(url, 'http://x').searchParams.get('token')!;
    const [header, , sig] = token.split('.');
    // Same signature, payload naming a guessed key of tenant A by tenant B:
    const guessed = Buffer.from(JSON.stringify({ key: `tenants/${a.tenant.id}/files/${f.id}`, filename: 'x', contentType: 'text/plain', aud: 'plinth-file-download', exp: 9999999999 })).toString('base64url');
    expectProblem(await download(`/v1/files/content?token=${header}.${guessed}.${sig}`), 403, 'permission_denied');
    const forged = await new SignJWT({ key: `tenants/${a.tenant.id}/files/${f.id}`, filename: 'x', contentType: 'text/plain' }).setProtectedHeader({ alg: 'HS256' }).setAudience('plinth-file-download').setExpirationTime('1h').sign(new TextEncoder().encode('a guessed secret that is long enough'));
    expectProblem(await download(`/v1/files/content?token=${forged}`), 403, 'permission_denied');
    expectProblem(await download('/v1/files/content?token=garbage'), 403, 'permission_denied');
    expect((await download(url)).body).toBe('only for tenant a');
  });
});

describe('DELETE /v1/files/:id', () => {
  it('removes metadata and bytes; the URL stops working', async () => {
    const f = await upload(a, 'gone.txt', 'bye');
    const { url } = (await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}/url` })).json() as { url: string };
    expect((await as(h, a, 'member')({ method: 'DELETE', url: `/v1/files/${f.id}` })).statusCode).toBe(204);
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}` }), 404, 'not_found');
    expect(await readdir(join(dataDir, 'files', 'tenants', a.tenant.id, 'files'))).not.toContain(f.id);
    expectProblem(await download(url), 404, 'not_found');
  });

  it('400, 401, 403, other tenant 404: the file stays', async () => {
    const f = await upload(a, 'stay.txt', 'stay');
    expectProblem(await as(h, a)({ method: 'DELETE', url: '/v1/files/123' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/v1/files/${f.id}`, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'DELETE', url: `/v1/files/${f.id}` }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'DELETE', url: `/v1/files/${f.id}` }), 404, 'not_found');
    expect((await as(h, a)({ method: 'GET', url: `/v1/files/${f.id}` })).statusCode).toBe(200);
  });
});

describe('direct uploads on the local driver', () => {
  it('409: they need S3 (validation, 401 and 403 are checked first)', async () => {
    const body = { name: 'big.pdf', contentType: 'application/pdf', size: 1000 };
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: body }), 409, 'direct_upload_unavailable');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { ...body, size: 0 } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/files/uploads', headers: { 'x-tenant': a.slug }, payload: body }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/files/uploads', payload: body }), 403, 'permission_denied');
  });
});
