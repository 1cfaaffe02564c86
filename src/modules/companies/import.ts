// CSV import of companies, streamed: rows are parsed as they arrive
// (csv-parse), validated, and written in batches, each batch in one
// transaction. A batch with any bad row writes nothing (no partial batch);
// the answer lists every bad row with its line and field. A dry run
// validates everything and writes nothing. Duplicates are matched on the
// normalised domain: skip them, update them, or create anyway (which the
// unique domain refuses, so those rows are reported). Re-running the same
// file with skip or update creates nothing twice for rows with a domain.
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import { applyCustomValues } from '../custom-fields/values.ts';
import type { CustomField, CustomFieldsTables } from '../custom-fields/tables.ts';
import { recordChange } from './changes.ts';
import { normaliseDomain } from './domain.ts';
import type { CompaniesTables } from './tables.ts';

export interface ImportOptions {
  dryRun: boolean;
  onDuplicate: 'skip' | 'update' | 'create';
  batchSize: number;
  /** CSV header → field (name, domain, industry, employees, address, custom.<key>); unmapped headers that are field names map to themselves. */
  mapping: Record<string, string>;
}

export interface ImportResult {
  rows: number;
  created: number;
  updated: number;
  skipped: number;
  /** Rows not written because they, or another row of their batch, failed. */
  notWritten: number;
  errorCount: number;
  errors: Array<{ line: number; field?: string; detail: string }>;
}

const FIELDS = ['name', 'domain', 'industry', 'employees', 'address'] as const;
const MAX_ERRORS = 1000;

interface Op {
  line: number;
  kind: 'create' | 'update' | 'skip';
  id?: string;
  values: Record<string, unknown>;
}

export async function importCompanies(ctx: RequestContext, body: Readable, opts: ImportOptions): Promise<ImportResult> {
  const custom = await fieldsOf(ctx.db.withTables<CustomFieldsTables>(), 'company');
  const customByKey = new Map(custom.map((f) => [`custom.${f.key}`, f]));
  const known = (field: string) => (FIELDS as readonly string[]).includes(field) || customByKey.has(field);
  for (const [header, field] of Object.entries(opts.mapping)) {
    if (!known(field)) throw new AppError('validation_failed', `Column "${header}" maps to unknown field "${field}"`, { errors: [{ in: 'query', pointer: '/mapping', detail: `unknown field ${field}` }] });
  }
  const result: ImportResult = { rows: 0, created: 0, updated: 0, skipped: 0, notWritten: 0, errorCount: 0, errors: [] };
  const fail = (line: number, detail: string, field?: string) => {
    result.errorCount++;
    if (result.errors.length < MAX_ERRORS) result.errors.push({ line, ...(field ? { field } : {}), detail });
  };
  const seenDomains = new Set<string>();
  const db = ctx.db.withTables<CompaniesTables>();
  let batch: Op[] = [];
  let batchFailed = false;

  const flush = async () => {
    const ops = batch;
    const failed = batchFailed;
    batch = [];
    batchFailed = false;
    if (ops.length === 0) return;
    if (failed || opts.dryRun) {
      if (failed) result.notWritten += ops.length;
      else for (const op of ops) result[op.kind === 'create' ? 'created' : op.kind === 'update' ? 'updated' : 'skipped']++;
      return;
    }
    try {
      await ctx.db.transaction().execute(async (trx) => {
        const tdb = trx.withTables<CompaniesTables>();
        const now = new Date();
        const by = ctx.actor.accountId;
        for (const op of ops) {
          if (op.kind === 'skip') continue;
          const values = { ...op.values, ...(op.values.custom ? { custom: JSON.stringify(op.values.custom) } : {}) } as Record<string, never>;
          if (op.kind === 'create') {
            const id = uuidv7();
            await tdb.insertInto('companies').values({ id, name: '', ...values, ownerId: by, createdBy: by, updatedBy: by, createdAt: now, updatedAt: now, deletedAt: null }).execute();
            await recordChange(trx, { recordType: 'company', recordId: id, action: 'created', changes: { importedFromLine: [null, op.line] }, by, at: now });
          } else {
            await tdb.updateTable('companies').set({ ...values, updatedBy: by, updatedAt: now }).where('id', '=', op.id!).execute();
            await recordChange(trx, { recordType: 'company', recordId: op.id!, action: 'updated', changes: { importedFromLine: [null, op.line] }, by, at: now });
          }
        }
      });
      for (const op of ops) result[op.kind === 'create' ? 'created' : op.kind === 'update' ? 'updated' : 'skipped']++;
    } catch (error) {
      // E.g. the unique domain, when a company took it between validation and write: the whole batch is rolled back.
      fail(ops[0]!.line, `batch of lines ${ops[0]!.line}-${ops.at(-1)!.line} rolled back: ${(error as Error).message}`);
      result.notWritten += ops.length;
    }
  };

  const parser = body.pipe(parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      result.rows++;
      const line = info.lines;
      const values: Record<string, unknown> = {};
      const customInput: Record<string, unknown> = {};
      let ok = true;
      const bad = (detail: string, field?: string) => {
        fail(line, detail, field);
        ok = false;
      };
      for (const [header, raw] of Object.entries(record)) {
        const field = opts.mapping[header] ?? (known(header) ? header : undefined);
        if (!field || raw === '') continue;
        const cf = customByKey.get(field);
        if (cf) customInput[cf.key] = csvValue(cf, raw);
        else if (field === 'employees') {
          if (/^\d{1,8}$/.test(raw)) values.employees = Number(raw);
          else bad('not a whole number', field);
        } else if (field === 'domain') {
          const d = normaliseDomain(raw);
          if (d) values.domain = d;
          else bad(`"${raw}" is not a domain name`, field);
        } else if (raw.length > (field === 'name' ? 200 : 500)) bad('too long', field);
        else values[field] = raw;
      }
      if (!values.name) bad('required', 'name');
      const domain = values.domain as string | undefined;
      if (ok && domain && seenDomains.has(domain)) bad(`domain ${domain} appears earlier in this file`, 'domain');
      let existing: { id: string; custom: Record<string, unknown> } | undefined;
      if (ok && domain) {
        seenDomains.add(domain);
        existing = await db.selectFrom('companies').select(['id', 'custom']).where('domain', '=', domain).where('deletedAt', 'is', null).executeTakeFirst();
        if (existing && opts.onDuplicate === 'create') bad(`a company with the domain ${domain} exists (onDuplicate=create cannot create a second one)`, 'domain');
      }
      if (ok && Object.keys(customInput).length > 0) {
        try {
          values.custom = await applyCustomValues(ctx.db, custom, existing?.custom ?? {}, customInput, { creating: !existing });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          for (const e of error.errors ?? [{ pointer: '', detail: error.message }]) bad(e.detail, e.pointer.replace('/custom/', 'custom.') || undefined);
        }
      } else if (ok && !existing && custom.some((f) => f.required)) {
        for (const f of custom.filter((x) => x.required)) bad('required', `custom.${f.key}`);
      }
      if (!ok) batchFailed = true;
      batch.push({ line, kind: existing ? (opts.onDuplicate === 'update' ? 'update' : 'skip') : 'create', id: existing?.id, values });
      if (batch.length >= opts.batchSize) await flush();
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    // csv-parse errors (unclosed quote, ...) carry the line; rows before it are already processed.
    const e = error as { code?: string; lines?: number; message: string };
    if (!e.code?.startsWith('CSV_')) throw error;
    batchFailed = true;
    fail(e.lines ?? 0, `CSV: ${e.message}`);
  }
  await flush();
  return result;
}

/** A CSV cell as the JSON value a custom field takes. */
function csvValue(f: CustomField, raw: string): unknown {
  switch (f.type) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'multi_select':
      return raw.split(';').map((x) => x.trim()).filter(Boolean);
    default:
      return raw;
  }
}
