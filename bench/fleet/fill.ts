// Filling a bench database with thousands of tenants through the real
// provisioning path takes ~0.1-0.5 s of DDL round trips per tenant, an hour
// for 10,000 on a busy 2-core machine. The fill therefore records the exact
// statements the tenant migrations issue for one template schema (Kysely's
// query log) and replays them per tenant as ONE multi-statement round trip,
// with the schema name and the tenant row swapped in. The result is the same
// catalog (same tables, indexes, ledger, public.tenants row) as provisioning.
import pg from 'pg';
import { CamelCasePlugin, Kysely, PostgresDialect, type LogEvent } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { PublicDatabase } from '../../src/platform/db/public-tables.ts';
import { migrateTenantSchema, type TenantMigrationSet } from '../../src/platform/tenancy/tenant-migrations.ts';
import { schemaNameFor } from '../../src/platform/tenancy/schema-name.ts';

const TEMPLATE = `t_${'f'.repeat(32)}`;

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return pg.Client.prototype.escapeLiteral(value.toISOString());
  if (typeof value === 'object') return pg.Client.prototype.escapeLiteral(JSON.stringify(value));
  return pg.Client.prototype.escapeLiteral(String(value));
}

/** The migration statements for the template schema, parameters inlined. */
export async function recordTenantScript(url: string, set: TenantMigrationSet): Promise<string> {
  const statements: string[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const db = new Kysely<PublicDatabase>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
    log: (event: LogEvent) => {
      // The transaction's own begin/rollback are logged too; the replay brings its own.
      if (event.level !== 'query' || /^(begin|commit|rollback)$/i.test(event.query.sql.trim())) return;
      const params = event.query.parameters;
      statements.push(event.query.sql.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1])));
    },
  });
  try {
    await db.transaction().execute(async (trx) => {
      await migrateTenantSchema(trx, TEMPLATE, set);
      // Recorded only to learn the statements: nothing of the template stays.
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  } finally {
    await db.destroy();
  }
  return withoutTransientPublicForeignKeys(statements).join(';\n');
}

/**
 * Foreign keys from tenant tables into `public` are created by the early
 * module migrations and dropped again by identity's
 * 20261201000000_no_account_foreign_keys (see there why). Replayed as is,
 * each one would take a SHARE ROW EXCLUSIVE lock on public.accounts until
 * commit, so parallel fill connections would run one at a time; the pair
 * cancels out, so both halves are left out of the script. The resulting
 * catalog is the same (checked against a provisioned tenant by fleet.ts).
 * A public foreign key that is NOT dropped later is kept.
 */
export function withoutTransientPublicForeignKeys(statements: string[]): string[] {
  const fk = /,\s*constraint "([^"]+)" foreign key \([^)]*\) references "public"\."[^"]+" \([^)]*\)(?: on delete (?:set null|cascade|restrict|no action|set default))?(?: on update (?:set null|cascade|restrict|no action|set default))?/gi;
  const dropped = new Set(statements.flatMap((s) => [.../^alter table "[^"]+"\."[^"]+" drop constraint "([^"]+)"$/i.exec(s.trim())?.slice(1) ?? []]));
  return statements
    .filter((s) => !dropped.has(/^alter table "[^"]+"\."[^"]+" drop constraint "([^"]+)"$/i.exec(s.trim())?.[1] ?? ''))
    .map((s) => (/^create table /i.test(s) ? s.replace(fk, (clause, name: string) => (dropped.has(name) ? '' : clause)) : s));
}

class Rollback extends Error {}

/** Contacts like the API writes them, dated a day ahead (the first page of the default sort). */
const contactsSql = (schema: string, ownerId: string, count: number) => `
  insert into "${schema}".contacts (id, first_name, last_name, email, phone, job_title, owner_id, created_by, updated_by, created_at, updated_at)
  select gen_random_uuid(), 'First' || i, 'Last' || i, 'contact' || i || '@bench.example', '+1 555 ' || lpad(i::text, 6, '0'), 'Title ' || (i % 50),
         ${literal(ownerId)}::uuid, ${literal(ownerId)}::uuid, ${literal(ownerId)}::uuid,
         date_trunc('milliseconds', now()) + interval '1 day' - i * interval '1 second',
         date_trunc('milliseconds', now()) + interval '1 day' - i * interval '1 second'
  from generate_series(1, ${count}) i`;

export interface FillOptions {
  /** Tenants are named `<prefix>-<n>` for n in [from, to). */
  prefix: string;
  from: number;
  to: number;
  /** An account made owner of every tenant, with `contacts` contacts each (for the scaling read). */
  ownerId?: string;
  contacts?: number;
  /** Parallel connections (default 4: on a shared machine each runnable backend gets its share of CPU). */
  clients?: number;
  /** Tenants per transaction (default 1: the public FK lock is held from the last statements to the commit). */
  batch?: number;
  progress?: (done: number) => void;
}

/** The SQL that creates one tenant: registry row, schema and tables (the recorded script), version, and optionally owner and contacts. */
export function tenantSql(script: string, slug: string, latest: string | null, opts: Pick<FillOptions, 'ownerId' | 'contacts'> = {}): string {
  const id = uuidv7();
  const schema = schemaNameFor(id);
  return [
    `insert into public.tenants (id, slug, display_name, schema_name, status, schema_version) values (${literal(id)}, ${literal(slug)}, ${literal(slug)}, ${literal(schema)}, 'active', null)`,
    script.replaceAll(TEMPLATE, schema),
    `update public.tenants set schema_version = ${literal(latest)} where id = ${literal(id)}`,
    ...(opts.ownerId ? [`insert into public.memberships (tenant_id, account_id, role) values (${literal(id)}, ${literal(opts.ownerId)}, 'owner')`] : []),
    ...(opts.ownerId && opts.contacts ? [contactsSql(schema, opts.ownerId, opts.contacts)] : []),
  ].join(';\n');
}

/** Creates one tenant (registry row + migrated schema) in one round trip. */
export async function fillTenant(pool: pg.Pool, script: string, slug: string, latest: string | null): Promise<void> {
  await pool.query(['begin', tenantSql(script, slug, latest), 'commit'].join(';\n'));
}

/**
 * Grows a fleet: `batch` tenants per transaction and round trip, `clients`
 * connections in parallel, commits not waiting for the WAL flush (a crash
 * loses the last tenants of a bench fill, nothing else). Measured on an idle
 * machine: ~90 ms a tenant at small fleets vs ~135 ms with synchronous commits.
 */
export async function fillFleet(url: string, set: TenantMigrationSet, opts: FillOptions): Promise<void> {
  const script = await recordTenantScript(url, set);
  const batch = opts.batch ?? 1;
  let next = opts.from;
  let done = 0;
  const worker = async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'plinth-bench-fill', options: '-c synchronous_commit=off' });
    await client.connect();
    try {
      while (next < opts.to) {
        const first = next;
        const last = Math.min(opts.to, first + batch);
        next = last;
        const parts: string[] = [];
        for (let n = first; n < last; n++) parts.push(tenantSql(script, `${opts.prefix}-${n}`, set.latest, opts));
        await client.query(['begin', ...parts, 'commit'].join(';\n'));
        const before = done;
        done += last - first;
        if (Math.floor(done / 500) > Math.floor(before / 500)) opts.progress?.(done);
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: opts.clients ?? 4 }, worker));
}
