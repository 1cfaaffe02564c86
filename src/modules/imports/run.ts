// The import job. It works through the staged rows one batch per
// transaction: lock the import row, read the rows after its checkpoint,
// validate them, write them (or, if any row of the batch is bad, write
// nothing of it and record the errors), then move the checkpoint and the
// counters, and commit. The lock serialises two runs of the same import (a
// retry racing a slow first attempt), and the checkpoint committing with the
// writes makes a retried job resume exactly after the last written batch: a
// retry never creates a record twice.
import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { defineTenantTask } from '../../platform/jobs/tasks.ts';
import type { RequestContext, TenantDb, TenantRef } from '../../platform/context.ts';
import type { DomainEvents } from '../../platform/events/events.ts';
import { AppError } from '../../platform/errors.ts';
import { isDataException, isUniqueViolation } from '../../platform/db/pg-errors.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import { applyCustomValues } from '../custom-fields/values.ts';
import type { CustomField, CustomFieldsTables } from '../custom-fields/tables.ts';
import { auditCrm } from '../companies/write-log.ts';
import { REQUIRED, SPECS, type ParsedRow } from './specs.ts';
import type { Import, ImportsTables } from './tables.ts';

export const IMPORT_TASK = 'crm.imports.run';
/** Errors kept per import (all are counted). */
export const MAX_ERRORS = 1000;

/** The importer as the actor of the job's writes (audit rows name them). */
const actorOf = (imp: Import): Pick<RequestContext, 'requestId' | 'actor'> => ({
  requestId: `import:${imp.id}`,
  actor: { accountId: imp.createdBy, role: 'member', permissions: new Set() },
});

function parseRows(imp: Import, rows: Array<{ line: number; data: Record<string, string> }>, custom: readonly CustomField[]): ParsedRow[] {
  const spec = SPECS[imp.object];
  const customKeys = new Set(custom.map((f) => `custom.${f.key}`));
  const known = (f: string) => spec.fields.includes(f) || customKeys.has(f);
  return rows.map(({ line, data }) => {
    const row: ParsedRow = { line, values: {}, custom: {}, key: null, errors: [] };
    const cells: Record<string, string> = {};
    for (const [header, raw] of Object.entries(data)) {
      const field = imp.mapping[header] ?? (known(header) ? header : undefined);
      if (!field || raw === '') continue;
      if (customKeys.has(field)) row.custom[field.slice('custom.'.length)] = csvValue(custom.find((f) => `custom.${f.key}` === field)!, raw);
      else cells[field] = raw;
    }
    spec.parse(cells, row);
    return row;
  });
}

/** A CSV cell as the JSON value a custom field takes. */
function csvValue(f: CustomField, raw: string): unknown {
  switch (f.type) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'multi_select':
      return raw
        .split(';')
        .map((x) => x.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

type Kind = 'create' | 'update' | 'skip';
interface Planned {
  row: ParsedRow;
  kind: Kind;
  id?: string;
}

/** Validates a batch against the tenant's data: duplicates, references, custom values. */
async function plan(trx: Kysely<any>, imp: Import, rows: ParsedRow[], custom: readonly CustomField[], seen: Set<string>): Promise<Planned[]> {
  const spec = SPECS[imp.object];
  for (const r of rows) {
    if (r.key && seen.has(r.key)) r.errors.push({ field: r.values.domain !== undefined ? 'domain' : r.values.email !== undefined ? 'email' : 'name', detail: `${r.key} appears earlier in this file` });
    if (r.key) seen.add(r.key);
  }
  await spec.resolve?.(trx, rows);
  const keys = [...new Set(rows.map((r) => r.key).filter((k): k is string => !!k))];
  const existing = keys.length ? await spec.existing(trx, keys) : new Map<string, { id: string; custom?: Record<string, unknown> }>();
  const planned: Planned[] = [];
  for (const r of rows) {
    const found = r.key ? existing.get(r.key) : undefined;
    // Deals have no unique key: onDuplicate=create makes another deal of the same name.
    if (found && imp.onDuplicate === 'create' && imp.object !== 'deal') r.errors.push({ field: imp.object === 'company' ? 'domain' : 'email', detail: `a ${imp.object} with ${r.key} exists (onDuplicate=create cannot create a second one)` });
    const kind: Kind = found && imp.onDuplicate !== 'create' ? (imp.onDuplicate === 'update' ? 'update' : 'skip') : 'create';
    if (kind === 'create' && r.values[REQUIRED[imp.object]] === undefined) r.errors.push({ field: REQUIRED[imp.object], detail: 'required' });
    if (spec.custom && kind !== 'skip' && r.errors.length === 0) {
      try {
        const stored = await applyCustomValues(trx, custom, kind === 'update' ? (found!.custom ?? {}) : {}, r.custom, { creating: kind === 'create' });
        if (kind === 'create' || Object.keys(r.custom).length > 0) r.values.custom = stored;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        for (const e of error.errors ?? [{ pointer: '', detail: error.message }]) r.errors.push({ field: e.pointer.replace('/custom/', 'custom.') || undefined, detail: e.detail });
      }
    }
    planned.push({ row: r, kind, id: kind === 'create' ? undefined : found?.id });
  }
  return planned;
}

async function write(trx: Kysely<any>, imp: Import, planned: Planned[], at: Date): Promise<{ created: string[]; updated: string[] }> {
  const spec = SPECS[imp.object];
  const meta = { by: imp.createdBy, at };
  const asColumns = (v: Record<string, unknown>) => (v.custom === undefined ? v : { ...v, custom: JSON.stringify(v.custom) });
  const creates = planned.filter((p) => p.kind === 'create').map((p) => ({ id: uuidv7(), values: p.row.values, line: p.row.line }));
  if (creates.length > 0) {
    await trx
      .insertInto(spec.table)
      .values(creates.map((c) => spec.insertRow(c.id, asColumns(c.values), meta)))
      .execute();
    await spec.afterInsert?.(trx, creates, meta);
  }
  const updates = planned.filter((p) => p.kind === 'update');
  for (const u of updates) {
    // An import updates fields; it does not move deals between stages (that is a stage change with history).
    const { pipelineId: _p, stageId: _s, ...values } = u.row.values;
    await trx
      .updateTable(spec.table)
      .set({ ...asColumns(values), updatedBy: meta.by, updatedAt: at })
      .where('id', '=', u.id!)
      .execute();
  }
  const changes = [
    ...creates.map((c) => ({ recordId: c.id, action: 'created', line: c.line })),
    ...updates.map((u) => ({ recordId: u.id!, action: 'updated', line: u.row.line })),
  ];
  if (changes.length > 0) {
    await trx
      .insertInto('recordChanges')
      .values(changes.map((c) => ({ id: uuidv7(), recordType: imp.object, recordId: c.recordId, action: c.action, changes: JSON.stringify({ importedFromLine: [null, c.line], importId: [null, imp.id] }), changedBy: meta.by, changedAt: at })))
      .execute();
  }
  return { created: creates.map((c) => c.id), updated: updates.map((u) => u.id!) };
}

async function recordErrors(trx: Kysely<any>, imp: Import, errors: Array<{ line: number; field?: string; detail: string }>): Promise<void> {
  const room = Math.max(0, MAX_ERRORS - imp.errorCount);
  const kept = errors.slice(0, room);
  if (kept.length === 0) return;
  const seq = new Map<number, number>();
  await trx
    .withTables<ImportsTables>()
    .insertInto('importErrors')
    .values(
      kept.map((e) => {
        const n = (seq.get(e.line) ?? 0) + 1;
        seq.set(e.line, n);
        return { importId: imp.id, line: e.line, seq: n, field: e.field ?? null, detail: e.detail.slice(0, 1000) };
      }),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export interface BatchDeps {
  events: DomainEvents;
}

/**
 * Processes the next batch of an import in one transaction; 'done' once the
 * import has finished (then or before). `seen` carries the duplicate keys of
 * this run across batches.
 */
export async function runImportBatch(db: TenantDb, tenant: TenantRef, importId: string, deps: BatchDeps, seen: Set<string>): Promise<'more' | 'done'> {
  const attempt = async (onWriteError?: unknown) =>
    db.transaction().execute(async (tx) => {
      const trx = tx as unknown as Kysely<any>;
      const idb = tx.withTables<ImportsTables>();
      const imp = await idb.selectFrom('imports').selectAll().where('id', '=', importId).forUpdate().executeTakeFirst();
      if (!imp || imp.status === 'completed' || imp.status === 'failed') return 'done' as const;
      const now = new Date();
      if (imp.status === 'queued') await idb.updateTable('imports').set({ status: 'running', startedAt: now, updatedAt: now }).where('id', '=', imp.id).execute();
      const staged = await idb.selectFrom('importRows').select(['line', 'data']).where('importId', '=', imp.id).where('line', '>', imp.checkpointLine).orderBy('line').limit(imp.batchSize).execute();
      if (staged.length === 0) {
        const done = await idb.updateTable('imports').set({ status: 'completed', finishedAt: now, updatedAt: now }).where('id', '=', imp.id).returningAll().executeTakeFirstOrThrow();
        await idb.deleteFrom('importRows').where('importId', '=', imp.id).execute();
        const counts = { rows: done.rows, created: done.created, updated: done.updated, skipped: done.skipped, errorCount: done.errorCount };
        await auditCrm(trx, actorOf(imp), { type: 'import', action: 'completed', id: imp.id, details: { object: imp.object, dryRun: imp.dryRun, ...counts, notWritten: done.notWritten } });
        await deps.events.publish(trx, { tenant }, 'crm.import.completed', { id: imp.id, object: imp.object, dryRun: imp.dryRun, status: done.status, ...counts });
        return 'done' as const;
      }
      // Only the imported object's fields, and only when there are rows to check.
      const fields = imp.object === 'contact' ? [] : await fieldsOf(tx.withTables<CustomFieldsTables>(), imp.object);
      const rows = parseRows(imp, staged, fields);
      const planned = await plan(trx, imp, rows, fields, seen);
      const errors = rows.flatMap((r) => r.errors.map((e) => ({ line: r.line, ...e })));
      const first = staged[0]!.line;
      const last = staged.at(-1)!.line;
      if (onWriteError) errors.push({ line: first, detail: `batch of lines ${first}-${last} rolled back: ${(onWriteError as Error).message}` });
      const counts = { created: 0, updated: 0, skipped: 0, notWritten: 0 };
      if (errors.length > 0) counts.notWritten = staged.length;
      else {
        for (const p of planned) counts[p.kind === 'create' ? 'created' : p.kind === 'update' ? 'updated' : 'skipped']++;
        if (!imp.dryRun) {
          const written = await write(trx, imp, planned, now);
          await auditCrm(trx, actorOf(imp), { type: 'import', action: 'batch_written', id: imp.id, details: { object: imp.object, lines: [first, last], created: written.created, updated: written.updated } });
        }
      }
      await recordErrors(trx, imp, errors);
      await idb
        .updateTable('imports')
        .set({
          processed: imp.processed + staged.length,
          created: imp.created + counts.created,
          updated: imp.updated + counts.updated,
          skipped: imp.skipped + counts.skipped,
          notWritten: imp.notWritten + counts.notWritten,
          errorCount: imp.errorCount + errors.length,
          checkpointLine: last,
          updatedAt: now,
        })
        .where('id', '=', imp.id)
        .execute();
      return 'more' as const;
    });
  try {
    return await attempt();
  } catch (error) {
    // Data the database refused (a domain taken since validation, a value out of range): the batch
    // is rolled back whole and reported; anything else fails the job, which retries from the checkpoint.
    if (!isUniqueViolation(error) && !isDataException(error)) throw error;
    return attempt(error);
  }
}

export async function markFailed(db: TenantDb, importId: string, failure: string): Promise<void> {
  const now = new Date();
  await db.withTables<ImportsTables>().updateTable('imports').set({ status: 'failed', failure: failure.slice(0, 1000), finishedAt: now, updatedAt: now }).where('id', '=', importId).where('status', 'in', ['queued', 'running']).execute();
}

export const importTask = defineTenantTask({
  name: IMPORT_TASK,
  payload: Type.Object({ importId: Type.String({ format: 'uuid' }) }),
  maxAttempts: 5,
  async run({ importId }, ctx) {
    const seen = new Set<string>();
    try {
      while ((await runImportBatch(ctx.db, ctx.tenant, importId, ctx.platform, seen)) === 'more') {
        // next batch
      }
    } catch (error) {
      if (ctx.attempt >= ctx.maxAttempts) await markFailed(ctx.db, importId, (error as Error).message);
      throw error;
    }
  },
});
