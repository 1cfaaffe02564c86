// One fresh database per test run: on DATABASE_URL's server when set (CI),
// otherwise on an embedded PostgreSQL in .plinth-test/ (a fresh machine).
// Platform migrations run once here; each test file provisions its own
// tenants with unique slugs, so runs never depend on what an earlier one left.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/platform/db/embedded-postgres.ts';
import { createDatabase } from '../src/platform/db/database.ts';
import { migratePlatform } from '../src/platform/db/platform-migrations.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let embedded: EmbeddedPostgres | undefined;
let serverUrl: string;
let dbName: string;

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    embedded = await startEmbeddedPostgres({ dataDir: process.env.PLINTH_TEST_DATA_DIR ?? './.plinth-test', port: 0 });
    serverUrl = embedded.url;
  }
  dbName = `plinth_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = withDatabase(serverUrl, dbName);
  const { db } = createDatabase({ url, poolMax: 2, statementTimeoutMs: 0 });
  await migratePlatform(db);
  await db.destroy();
  project.provide('databaseUrl', url);
}

export async function teardown() {
  try {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  } finally {
    await embedded?.stop();
  }
}
