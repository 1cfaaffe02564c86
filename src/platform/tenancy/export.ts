// Data-portability export of one tenant: every table of its schema as JSON
// rows, plus the registry row and the members, in one file. Written table by
// table so a large tenant does not have to fit in memory as one JSON value.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { LEDGER_TABLE } from './tenant-migrations.ts';
import { assertSchemaName } from './schema-name.ts';

export const EXPORT_FORMAT = 'plinth-tenant-export/1';

export async function exportTenant(db: Db, slug: string, file: string): Promise<{ file: string; tables: number; rows: number }> {
  const tenant = await db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!tenant) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
  const schema = assertSchemaName(tenant.schemaName);
  const members = await db
    .selectFrom('memberships as m')
    .innerJoin('accounts as a', 'a.id', 'm.accountId')
    .select(['a.id', 'a.email', 'a.displayName', 'm.role', 'm.createdAt'])
    .where('m.tenantId', '=', tenant.id)
    .execute();
  const { rows: tables } = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = ${schema} and tablename <> ${LEDGER_TABLE} order by tablename`.execute(db);

  await mkdir(dirname(file), { recursive: true });
  const out = createWriteStream(file, { flags: 'wx' });
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  let total = 0;
  try {
    await write(`{"format":${JSON.stringify(EXPORT_FORMAT)},"exportedAt":${JSON.stringify(new Date())},"tenant":${JSON.stringify(tenant)},"members":${JSON.stringify(members)},"tables":{`);
    for (const [i, t] of tables.entries()) {
      // Column names as stored (snake_case): the export mirrors the database, not the API.
      const { rows } = await sql<{ row: unknown }>`select row_to_json(x) as row from ${sql.id(schema, t.name)} x`.execute(db.withoutPlugins());
      await write(`${i ? ',' : ''}${JSON.stringify(t.name)}:[`);
      for (const [j, r] of rows.entries()) await write(`${j ? ',' : ''}${JSON.stringify(r.row)}`);
      await write(']');
      total += rows.length;
    }
    await write('}}\n');
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { file, tables: tables.length, rows: total };
}
