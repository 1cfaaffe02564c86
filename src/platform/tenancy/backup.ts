// Tenant backup and restore in a portable format of our own (JSON lines,
// gzip when the file name ends in .gz) rather than `pg_dump -n`: the embedded
// PostgreSQL ships no pg_dump, a system pg_dump must match the server's
// major version, and a restore has to land under a NEW schema name and
// tenant id with the members re-attached, which a dump replays verbatim.
//
// File: line 1 is the header (format, tenant row, the schema's migration
// ledger = its version, members), then `{"table":...,"columns":[...]}` before
// each table's rows, one `[v1, v2, ...]` array per line (values as
// row_to_json renders them, read back with json_populate_record: exact for
// every PostgreSQL type, timestamps to the microsecond).
//
// The backup reads every table in one REPEATABLE READ transaction, so it is
// one consistent snapshot. The restore runs in one transaction: a new tenant
// exists complete or not at all.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/database.ts';
import type { PublicDatabase, Role, Tenant } from '../db/public-tables.ts';
import { hashPassword } from '../auth/passwords.ts';
import { AppError } from '../errors.ts';
import { isUniqueViolation } from '../db/pg-errors.ts';
import { LEDGER_TABLE, migrateTenantSchema, type TenantMigrationSet } from './tenant-migrations.ts';
import { assertSchemaName, assertSlug, schemaNameFor } from './schema-name.ts';

export const BACKUP_FORMAT = 'plinth-tenant-backup/1';
const FETCH = 1000;

export interface BackupMember {
  accountId: string;
  email: string;
  displayName: string;
  role: Role;
}

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  tenant: Pick<Tenant, 'id' | 'slug' | 'displayName' | 'status' | 'schemaName' | 'schemaVersion'>;
  /** The schema's migration ledger: the restore rebuilds exactly this version before loading rows. */
  migrations: string[];
  members: BackupMember[];
  tables: Array<{ name: string; rows: number }>;
}

async function openOut(file: string) {
  await mkdir(dirname(file), { recursive: true });
  const fileStream = createWriteStream(file, { flags: 'wx' });
  const gzip = file.endsWith('.gz') ? createGzip() : undefined;
  if (gzip) gzip.pipe(fileStream);
  const out = gzip ?? fileStream;
  return {
    async write(chunk: string) {
      if (!out.write(chunk)) await once(out, 'drain');
    },
    async close() {
      out.end();
      await once(fileStream, 'close');
    },
  };
}

const tablesOf = async (db: Kysely<any>, schema: string) =>
  (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = ${schema} and tablename <> ${LEDGER_TABLE} order by tablename`.execute(db)).rows.map((r) => r.name);

/** Stored (non-generated) columns in order. */
const columnsOf = async (db: Kysely<any>, schema: string, table: string) =>
  (
    await sql<{ name: string }>`select attname as name from pg_attribute
      where attrelid = ${`"${schema}"."${table}"`}::regclass and attnum > 0 and not attisdropped and attgenerated = '' order by attnum`.execute(db)
  ).rows.map((r) => r.name);

export async function backupTenant(db: Db, slug: string, file: string, opts: { onTable?: (table: string, rows: number, done: number, total: number) => void } = {}): Promise<{ file: string; tables: number; rows: number; version: string | null }> {
  const raw = db.withoutPlugins() as Kysely<any>;
  return raw
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const tenant = (
        await sql<BackupHeader['tenant']>`select id, slug, display_name as "displayName", status, schema_name as "schemaName", schema_version as "schemaVersion" from public.tenants where slug = ${slug}`.execute(trx)
      ).rows[0];
      if (!tenant) throw new AppError('tenant_not_found', `No tenant "${slug}"`);
      const schema = assertSchemaName(tenant.schemaName);
      const members = (
        await sql<BackupMember>`select a.id as "accountId", a.email, a.display_name as "displayName", m.role
          from public.memberships m join public.accounts a on a.id = m.account_id where m.tenant_id = ${tenant.id} order by a.email`.execute(trx)
      ).rows;
      const migrations = (await sql<{ name: string }>`select name from ${sql.id(schema, LEDGER_TABLE)} order by name`.execute(trx)).rows.map((r) => r.name);
      const tables = await tablesOf(trx, schema);
      const counts: BackupHeader['tables'] = [];
      for (const t of tables) counts.push({ name: t, rows: Number((await sql<{ n: string }>`select count(*) as n from ${sql.id(schema, t)}`.execute(trx)).rows[0]!.n) });
      const header: BackupHeader = { format: BACKUP_FORMAT, createdAt: new Date().toISOString(), tenant, migrations, members, tables: counts };
      const out = await openOut(file);
      let total = 0;
      try {
        await out.write(`${JSON.stringify(header)}\n`);
        for (const t of tables) {
          const columns = await columnsOf(trx, schema, t);
          await out.write(`${JSON.stringify({ table: t, columns })}\n`);
          await sql`declare backup_rows no scroll cursor for select row_to_json(x) as r from ${sql.id(schema, t)} x`.execute(trx);
          let rows = 0;
          for (;;) {
            const batch = (await sql<{ r: Record<string, unknown> }>`fetch ${sql.raw(String(FETCH))} from backup_rows`.execute(trx)).rows;
            for (const b of batch) await out.write(`${JSON.stringify(columns.map((c) => b.r[c]))}\n`);
            rows += batch.length;
            if (batch.length < FETCH) break;
          }
          await sql`close backup_rows`.execute(trx);
          total += rows;
          opts.onTable?.(t, rows, counts.findIndex((c) => c.name === t) + 1, tables.length);
        }
      } finally {
        await out.close();
      }
      return { file, tables: tables.length, rows: total, version: tenant.schemaVersion };
    });
}

async function* lines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file);
  const rl = createInterface({ input: file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  for await (const line of rl) if (line) yield line;
}

export interface RestoreResult {
  tenant: Tenant;
  restoredFrom: { slug: string; id: string; version: string | null };
  tables: number;
  rows: number;
  members: { attached: number; created: number };
  migratedAfterRestore: string[];
}

/**
 * Restores a backup as a new tenant `slug` (new id, new schema), in one transaction:
 * rebuild the backup's schema version from the code's migrations, empty what
 * those migrations seeded, load every table with the foreign keys set aside
 * (re-added, so validated, at the end), re-attach the members, then migrate
 * to the code's latest version.
 *
 * Members: accounts are global. A member whose account id exists here keeps
 * its role. One whose account is missing is re-created with the same id and
 * email and an unusable random password (it signs in after a password reset);
 * backups carry no password hashes. An email held here by a different
 * account id is a conflict: nothing is restored.
 */
export async function restoreTenant(db: Db, set: TenantMigrationSet, file: string, input: { slug: string; displayName?: string }): Promise<RestoreResult> {
  const slug = assertSlug(input.slug);
  const it = lines(file)[Symbol.asyncIterator]();
  const first = await it.next();
  let header: BackupHeader;
  try {
    header = JSON.parse(first.done ? '' : first.value) as BackupHeader;
  } catch {
    throw new AppError('validation_failed', `${file} is not a Plinth tenant backup (no header line)`);
  }
  if (header.format !== BACKUP_FORMAT) throw new AppError('validation_failed', `${file} is not a Plinth tenant backup (format ${JSON.stringify(header.format)}, expected ${BACKUP_FORMAT})`);
  const unknown = header.migrations.filter((m) => !(m in set.migrations));
  if (unknown.length) throw new AppError('validation_failed', `The backup was taken by newer code: its schema has migrations this code does not know (${unknown.join(', ')})`);
  if (await db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst()) throw new AppError('tenant_slug_taken', `The slug "${slug}" is taken`);

  const id = uuidv7();
  const schema = schemaNameFor(id);
  const atBackup: TenantMigrationSet = { names: set.names.filter((n) => header.migrations.includes(n)), migrations: set.migrations, latest: header.migrations.at(-1) ?? null };
  const unusable = await hashPassword(randomBytes(32).toString('base64url'));
  try {
    return await db.transaction().execute(async (trx) => {
      const raw = trx.withoutPlugins() as Transaction<any>;
      const tenant = await trx
        .insertInto('tenants')
        .values({ id, slug, displayName: input.displayName ?? header.tenant.displayName, schemaName: schema, status: 'active', schemaVersion: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      await migrateTenantSchema(trx, schema, atBackup);
      const members = await attachMembers(trx, tenant.id, header.members, unusable);

      // Foreign keys aside while loading (rows arrive table by table), re-added below: re-adding validates them.
      const fks = (
        await sql<{ table: string; name: string; def: string }>`select c.relname as table, k.conname as name, pg_get_constraintdef(k.oid) as def
          from pg_constraint k join pg_class c on c.oid = k.conrelid where k.connamespace = ${schema}::regnamespace and k.contype = 'f'`.execute(raw)
      ).rows;
      for (const fk of fks) await sql`alter table ${sql.id(schema, fk.table)} drop constraint ${sql.id(fk.name)}`.execute(raw);
      const tables = await tablesOf(raw, schema);
      // Rows the migrations seeded (e.g. the audit chain head) are in the backup too. Deleted, not truncated:
      // the audit log refuses TRUNCATE; its guard lets a delete through while plinth.audit_purge is on
      // (only here, in this brand-new schema, and off again right after).
      await sql`select set_config('plinth.audit_purge', 'on', true)`.execute(raw);
      for (const t of tables) await sql`delete from ${sql.id(schema, t)}`.execute(raw);
      await sql`select set_config('plinth.audit_purge', 'off', true)`.execute(raw);

      let total = 0;
      let loaded = 0;
      let current: { table: string; columns: string[] } | undefined;
      let batch: unknown[][] = [];
      const flush = async () => {
        if (!current || batch.length === 0) return;
        const cols = sql.join(current.columns.map((c) => sql.id(c)));
        const objects = batch.map((r) => Object.fromEntries(current!.columns.map((c, i) => [c, r[i]])));
        await sql`insert into ${sql.id(schema, current.table)} (${cols}) overriding system value
          select ${cols} from json_populate_recordset(null::${sql.id(schema, current.table)}, ${JSON.stringify(objects)}::json)`.execute(raw);
        total += batch.length;
        batch = [];
      };
      for (let next = await it.next(); !next.done; next = await it.next()) {
        const value = JSON.parse(next.value) as unknown;
        if (Array.isArray(value)) {
          if (!current) throw new AppError('validation_failed', 'The backup has rows before any table header');
          batch.push(value);
          if (batch.length >= 500) await flush();
          continue;
        }
        await flush();
        const t = value as { table: string; columns: string[] };
        if (!tables.includes(t.table)) throw new AppError('validation_failed', `The backup has a table "${t.table}" that schema version ${atBackup.latest} does not have`);
        const here = await columnsOf(raw, schema, t.table);
        const missing = t.columns.filter((c) => !here.includes(c));
        if (missing.length) throw new AppError('validation_failed', `Table ${t.table} of the backup has columns this schema version lacks: ${missing.join(', ')}`);
        current = t;
        loaded++;
      }
      await flush();
      for (const fk of fks) await sql`alter table ${sql.id(schema, fk.table)} add constraint ${sql.id(fk.name)} ${sql.raw(fk.def)}`.execute(raw);
      // Sequences owned by restored columns continue after the restored values.
      const seqs = (
        await sql<{ seq: string; table: string; column: string }>`select s.relname as seq, t.relname as table, a.attname as column
          from pg_class s join pg_depend d on d.objid = s.oid and d.deptype in ('a', 'i') join pg_class t on t.oid = d.refobjid
          join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
          where s.relkind = 'S' and s.relnamespace = ${schema}::regnamespace`.execute(raw)
      ).rows;
      for (const s of seqs) {
        await sql`select setval(${`"${schema}"."${s.seq}"`}::regclass, coalesce((select max(${sql.id(s.column)}) from ${sql.id(schema, s.table)}), 0) + 1, false)`.execute(raw);
      }
      const migratedAfterRestore = await migrateTenantSchema(trx, schema, set);
      return {
        tenant: { ...tenant, schemaVersion: set.latest },
        restoredFrom: { slug: header.tenant.slug, id: header.tenant.id, version: header.tenant.schemaVersion },
        tables: loaded,
        rows: total,
        members,
        migratedAfterRestore,
      };
    });
  } catch (error) {
    if (isUniqueViolation(error, 'tenants_slug_key')) throw new AppError('tenant_slug_taken', `The slug "${slug}" is taken`, { cause: error });
    throw error;
  }
}

async function attachMembers(trx: Transaction<PublicDatabase>, tenantId: string, members: BackupMember[], unusableHash: string) {
  let created = 0;
  const conflicts: string[] = [];
  for (const m of members) {
    const byId = await trx.selectFrom('accounts').select(['id', 'email']).where('id', '=', m.accountId).executeTakeFirst();
    if (!byId) {
      const byEmail = await trx.selectFrom('accounts').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', m.email.toLowerCase())).executeTakeFirst();
      if (byEmail) {
        conflicts.push(m.email);
        continue;
      }
      await trx.insertInto('accounts').values({ id: m.accountId, email: m.email, displayName: m.displayName, passwordHash: unusableHash }).execute();
      created++;
    }
    await trx.insertInto('memberships').values({ tenantId, accountId: m.accountId, role: m.role }).execute();
  }
  if (conflicts.length) {
    throw new AppError('validation_failed', `These members' emails belong to other accounts in this installation (the backup's account ids differ): ${conflicts.join(', ')}. Nothing was restored.`);
  }
  return { attached: members.length, created };
}
