// Starting and following imports. The upload streams the CSV (csv-parse, row
// by row, never the whole file in memory) into import_rows, 1,000 rows per
// INSERT, and in the same transaction creates the import, its audit row and
// its job: an upload that fails half-way leaves nothing behind. An
// Idempotency-Key makes a re-sent upload return the first import instead of
// starting a second one.
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { v7 as uuidv7 } from 'uuid';
import type { Kysely } from 'kysely';
import type { RequestContext, TenantDb } from '../../platform/context.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { AppError } from '../../platform/errors.ts';
import { isUniqueViolation } from '../../platform/db/pg-errors.ts';
import { ownerInScope } from '../../platform/record-scope.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import type { CustomFieldsTables } from '../custom-fields/tables.ts';
import { auditCrm } from '../companies/write-log.ts';
import { IMPORT_TASK, MAX_ERRORS } from './run.ts';
import { SPECS } from './specs.ts';
import type { Import, ImportObject, ImportsTables, OnDuplicate } from './tables.ts';

export interface StartImport {
  object: ImportObject;
  dryRun: boolean;
  onDuplicate: OnDuplicate;
  batchSize: number;
  mapping: Record<string, string>;
  idempotencyKey?: string;
  filename?: string;
}

const STAGE_CHUNK = 1000;
const importsDb = (db: RequestContext['db']) => db.withTables<ImportsTables>();
const inScope = (ctx: RequestContext) => ownerInScope(ctx, 'crm.imports.read', 'createdBy');

export type ImportView = Omit<Import, 'mapping' | 'batchSize' | 'checkpointLine' | 'idempotencyKey'> & {
  mapping: Record<string, string>;
  errors: Array<{ line: number; field: string | null; detail: string }>;
};

async function view(db: RequestContext['db'], imp: Import): Promise<ImportView> {
  const errors = await importsDb(db).selectFrom('importErrors').select(['line', 'field', 'detail']).where('importId', '=', imp.id).orderBy('line').orderBy('seq').limit(MAX_ERRORS).execute();
  const { batchSize: _b, checkpointLine: _c, idempotencyKey: _k, ...rest } = imp;
  return { ...rest, errors };
}

export function createImportsService(deps: { jobs: JobQueue }) {
  // Keys are per member: the same key from two members starts two imports.
  const byKey = async (ctx: RequestContext, key: string) => importsDb(ctx.db).selectFrom('imports').selectAll().where('idempotencyKey', '=', `${ctx.actor.accountId}:${key}`).executeTakeFirst();

  return {
    /** Fields a CSV column may map to for `object` (custom fields as custom.<key>). */
    async checkMapping(ctx: RequestContext, object: ImportObject, mapping: Record<string, string>): Promise<void> {
      const spec = SPECS[object];
      const custom = spec.custom ? await fieldsOf(ctx.db.withTables<CustomFieldsTables>(), object as 'company' | 'deal') : [];
      const known = new Set([...spec.fields, ...custom.map((f) => `custom.${f.key}`)]);
      for (const [header, field] of Object.entries(mapping)) {
        if (!known.has(field)) throw new AppError('validation_failed', `Column "${header}" maps to unknown field "${field}" (fields: ${[...known].join(', ')})`, { errors: [{ in: 'query', pointer: '/mapping', detail: `unknown field ${field}` }] });
      }
    },

    /** The import a re-sent upload with this key started (it is returned instead of starting another). */
    async findByKey(ctx: RequestContext, key: string): Promise<ImportView | null> {
      const imp = await byKey(ctx, key);
      return imp ? view(ctx.db, imp) : null;
    },

    async start(ctx: RequestContext, input: StartImport, body: Readable): Promise<{ import: ImportView; replayed: boolean }> {
      await this.checkMapping(ctx, input.object, input.mapping);
      const id = uuidv7();
      try {
        await ctx.db.transaction().execute(async (tx) => {
          const trx = tx as unknown as TenantDb;
          const db = importsDb(trx);
          const now = new Date();
          await db
            .insertInto('imports')
            .values({
              id,
              object: input.object,
              status: 'queued',
              dryRun: input.dryRun,
              onDuplicate: input.onDuplicate,
              batchSize: input.batchSize,
              mapping: JSON.stringify(input.mapping),
              idempotencyKey: input.idempotencyKey ? `${ctx.actor.accountId}:${input.idempotencyKey}` : null,
              filename: input.filename ?? null,
              createdBy: ctx.actor.accountId,
              createdAt: now,
              updatedAt: now,
            })
            .execute();
          const rows = await stage(db, id, body);
          await db.updateTable('imports').set({ rows }).where('id', '=', id).execute();
          await auditCrm(tx as unknown as Kysely<any>, ctx, { type: 'import', action: 'created', id, details: { object: input.object, dryRun: input.dryRun, onDuplicate: input.onDuplicate, rows, filename: input.filename ?? null } });
          await deps.jobs.enqueue(tx as unknown as Kysely<any>, ctx.tenant.id, IMPORT_TASK, { importId: id }, { jobKey: `${IMPORT_TASK}:${id}` });
        });
      } catch (error) {
        if (input.idempotencyKey && isUniqueViolation(error, 'imports_idempotency_key_unique')) {
          // The same upload, sent twice at once: the first one won.
          const first = await byKey(ctx, input.idempotencyKey);
          if (first) return { import: await view(ctx.db, first), replayed: true };
        }
        throw error;
      }
      return { import: await this.get(ctx, id), replayed: false };
    },

    async get(ctx: RequestContext, id: string): Promise<ImportView> {
      const imp = await importsDb(ctx.db).selectFrom('imports').selectAll().where('id', '=', id).where(inScope(ctx)).executeTakeFirst();
      if (!imp) throw new AppError('not_found', 'No such import');
      return view(ctx.db, imp);
    },

    async list(ctx: RequestContext, query: { limit: number; object?: ImportObject }) {
      const rows = await importsDb(ctx.db)
        .selectFrom('imports')
        .selectAll()
        .where(inScope(ctx))
        .$if(query.object !== undefined, (q) => q.where('object', '=', query.object!))
        .orderBy('createdAt', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit)
        .execute();
      return { data: rows.map(({ batchSize: _b, checkpointLine: _c, idempotencyKey: _k, ...rest }) => rest) };
    },
  };
}

/** Streams the CSV rows into import_rows; returns how many. A CSV syntax error is a 400 naming the line. */
async function stage(db: Kysely<ImportsTables>, importId: string, body: Readable): Promise<number> {
  const parser = body.pipe(parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }));
  let chunk: Array<{ importId: string; line: number; data: string }> = [];
  let rows = 0;
  const flush = async () => {
    if (chunk.length > 0) await db.insertInto('importRows').values(chunk).execute();
    chunk = [];
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      rows++;
      chunk.push({ importId, line: info.lines, data: JSON.stringify(record) });
      if (chunk.length >= STAGE_CHUNK) await flush();
    }
  } catch (error) {
    const e = error as { code?: string; lines?: number; message: string };
    if (!e.code?.startsWith('CSV_')) throw error;
    throw new AppError('validation_failed', `The file is not valid CSV at line ${e.lines ?? '?'}: ${e.message}. Nothing was imported.`, { errors: [{ in: 'body', pointer: `/line/${e.lines ?? 0}`, detail: e.message }] });
  }
  await flush();
  if (rows === 0) throw new AppError('validation_failed', 'The file has no rows (a header line, then one line per record)', { errors: [{ in: 'body', pointer: '', detail: 'no rows' }] });
  return rows;
}
