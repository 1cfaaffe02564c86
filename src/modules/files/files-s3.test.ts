// The S3 driver against a real S3-compatible server (s3rver, in-process):
// keys under the tenant prefix, presigned downloads, presigned direct
// uploads checked on completion, and no reading another tenant's object by
// guessing its key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../../../test/helpers.ts';
import { fileUpload, pngImage } from './test-support.ts';

const BUCKET = 'plinth-test';
let server: { run(): Promise<{ port: number }>; close(): Promise<void> };
let endpoint: string;
let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  const directory = await mkdtemp(join(tmpdir(), 'plinth-s3-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: BUCKET }] }) as unknown as typeof server;
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  h = await startApp({
    config: {
      FILES_DRIVER: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      FILES_MAX_BYTES: '200000',
    },
  });
  [a, b] = await Promise.all([createTenant(h, 'sa'), createTenant(h, 'sb')]);
});
afterAll(async () => {
  await h?.close();
  await server?.close();
});

// s3rver answers unsigned requests (real S3 would not): fine to look at what is stored.
const exists = async (key: string) => (await fetch(`${endpoint}/${BUCKET}/${key}`, { method: 'HEAD' })).status === 200;
const uploadAs = async (t: TestTenant, name: string, body: string | Buffer) => {
  const res = await as(h, t)({ method: 'POST', url: '/v1/files', ...fileUpload(name, body) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; size: number; contentType: string; status: string };
};
const urlOf = async (t: TestTenant, id: string) => ((await as(h, t)({ method: 'GET', url: `/v1/files/${id}/url` })).json() as { url: string }).url;

describe('S3 driver', () => {
  it('stores under the tenant prefix and downloads through a presigned URL', async () => {
    const f = await uploadAs(a, 'report.txt', 'quarterly numbers');
    expect(await exists(`tenants/${a.tenant.id}/files/${f.id}`)).toBe(true);
    const url = await urlOf(a, f.id);
    expect(url).toContain(`/${BUCKET}/tenants/${a.tenant.id}/files/${f.id}?`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('quarterly numbers');
    expect(res.headers.get('content-disposition')).toContain('report.txt');
  });

  it("a tenant cannot read another tenant's object by guessing its key", async () => {
    const secret = await uploadAs(a, 'secret.txt', 'tenant a only');
    const mine = await uploadAs(b, 'mine.txt', 'tenant b');
    // Through the API: another tenant's id is a 404.
    expectProblem(await as(h, b)({ method: 'GET', url: `/v1/files/${secret.id}/url` }), 404, 'not_found');
    // Through storage: B's own signed URL, pointed at A's key, is refused by the signature.
    const own = await urlOf(b, mine.id);
    const guessed = own.replace(`tenants/${b.tenant.id}/files/${mine.id}`, `tenants/${a.tenant.id}/files/${secret.id}`);
    expect(guessed).not.toBe(own);
    const res = await fetch(guessed);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('tenant a only');
  });

  it('direct upload: presigned PUT, then completion checks the bytes', async () => {
    const png = await pngImage(64, 64);
    const grant = await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { name: 'direct.png', contentType: 'image/png', size: png.length } });
    expect(grant.statusCode, grant.body).toBe(201);
    const { file, upload } = grant.json() as { file: { id: string; status: string }; upload: { url: string; method: string; headers: Record<string, string> } };
    expect(file.status).toBe('pending');
    expect(upload.url).toContain(`tenants/${a.tenant.id}/files/${file.id}`);
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/files/${file.id}/complete` }), 409, 'conflict'); // nothing uploaded yet
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: png });
    expect(put.status).toBe(200);
    const done = await as(h, a)({ method: 'POST', url: `/v1/files/${file.id}/complete` });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ id: file.id, status: 'ready', contentType: 'image/png', size: png.length });
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/files/${file.id}/complete` }), 409, 'conflict');
  });

  it('direct upload: bytes that are not the declared type are refused (415) and removed', async () => {
    const bytes = Buffer.from('just text pretending to be a PNG');
    const grant = (await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { name: 'fake.png', contentType: 'image/png', size: bytes.length } })).json() as { file: { id: string }; upload: { url: string; headers: Record<string, string> } };
    await fetch(grant.upload.url, { method: 'PUT', headers: grant.upload.headers, body: bytes });
    expectProblem(await as(h, a)({ method: 'POST', url: `/v1/files/${grant.file.id}/complete` }), 415, 'unsupported_file_type');
    expect(await exists(`tenants/${a.tenant.id}/files/${grant.file.id}`)).toBe(false);
    expectProblem(await as(h, a)({ method: 'GET', url: `/v1/files/${grant.file.id}` }), 404, 'not_found');
  });

  it('grant: 400, 401, 403, 413 over the limit, 415 for a type not accepted', async () => {
    const body = { name: 'x.pdf', contentType: 'application/pdf', size: 1000 };
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { ...body, extra: true } }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url: '/v1/files/uploads', headers: { 'x-tenant': a.slug }, payload: body }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url: '/v1/files/uploads', payload: body }), 403, 'permission_denied');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { ...body, size: 200001 } }), 413, 'file_too_large');
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { ...body, contentType: 'text/html' } }), 415, 'unsupported_file_type');
  });

  it('complete: 400, 401, 403, other tenant 404', async () => {
    const grant = (await as(h, a)({ method: 'POST', url: '/v1/files/uploads', payload: { name: 'y.pdf', contentType: 'application/pdf', size: 10 } })).json() as { file: { id: string } };
    const url = `/v1/files/${grant.file.id}/complete`;
    expectProblem(await as(h, a)({ method: 'POST', url: '/v1/files/nope/complete' }), 400, 'validation_failed');
    expectProblem(await h.app.inject({ method: 'POST', url, headers: { 'x-tenant': a.slug } }), 401, 'unauthenticated');
    expectProblem(await as(h, a, 'viewer')({ method: 'POST', url }), 403, 'permission_denied');
    expectProblem(await as(h, b)({ method: 'POST', url }), 404, 'not_found');
  });

  it('delete removes the object', async () => {
    const f = await uploadAs(a, 'temp.txt', 'temporary');
    expect((await as(h, a)({ method: 'DELETE', url: `/v1/files/${f.id}` })).statusCode).toBe(204);
    expect(await exists(`tenants/${a.tenant.id}/files/${f.id}`)).toBe(false);
  });
});
