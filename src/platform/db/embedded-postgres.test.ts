// The embedded PostgreSQL of `npm start`, in a data folder of its own: it
// initialises, answers, runs with the settings Plinth gives it, and stops.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'plinth-embedded-'));
// Run as root, the server runs as `postgres`, which must reach the folder.
chmodSync(dir, 0o777);
let server: EmbeddedPostgres | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('initialises a data folder, serves the plinth database with a backend file limit sized for a large fleet, and stops', async () => {
    server = await startEmbeddedPostgres({ dataDir: dir, port: 0, log: () => {} });
    expect(server.created).toBe(true);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string; files: string }>('select current_database() as db, current_setting($1) as files', ['max_files_per_process']);
      // PostgreSQL's default (1,000) makes a backend serving thousands of tenants reopen files on every query.
      expect(rows[0]).toEqual({ db: 'plinth', files: '16384' });
    } finally {
      await client.end();
    }
    await server.stop();
    const after = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
    await expect(after.connect()).rejects.toThrow();
    server = undefined;
  }, 60_000);
});
