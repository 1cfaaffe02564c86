// Merging duplicates: the target keeps its values (or the source's where the
// caller prefers them, or where the target has none), takes over the
// source's deals, deal memberships and activity links, and the source is
// soft-deleted. A dry run returns the result without writing. Every merge is
// logged with the target as it was and exactly what moved, so undo puts both
// records and their links back; merge and undo also go to the audit trail.
import { v7 as uuidv7 } from 'uuid';
import type { Kysely } from 'kysely';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { isUniqueViolation } from '../../platform/db/pg-errors.ts';
import { auditSourceOf, recordAudit } from '../../platform/audit/writer.ts';
import { diff, recordChange } from './changes.ts';
import { patchedList } from '../contacts/service.ts';
import { ownerInScope } from '../../platform/record-scope.ts';

export type MergeType = 'company' | 'contact';

interface LinkRef {
  table: 'dealContacts' | 'activityLinks';
  /** The column holding the merged record's id, and the other side of the link. */
  column: 'contactId' | 'recordId';
  other: 'dealId' | 'activityId';
  where?: Record<string, string>;
}

const SPECS = {
  company: {
    table: 'companies',
    fields: ['name', 'domain', 'industry', 'employees', 'address', 'ownerId', 'custom'],
    fk: [
      { table: 'deals', column: 'companyId' },
      { table: 'contacts', column: 'companyId' },
    ],
    links: [{ table: 'activityLinks', column: 'recordId', other: 'activityId', where: { recordType: 'company' } }] as LinkRef[],
    taken: ['companies_domain_live_unique', 'company_domain_taken', 'domain'] as const,
  },
  contact: {
    table: 'contacts',
    fields: ['firstName', 'lastName', 'email', 'phone', 'jobTitle', 'companyId', 'ownerId'],
    fk: [] as Array<{ table: string; column: string }>,
    links: [
      { table: 'dealContacts', column: 'contactId', other: 'dealId' },
      { table: 'activityLinks', column: 'recordId', other: 'activityId', where: { recordType: 'contact' } },
    ] as LinkRef[],
    taken: ['contacts_email_live_unique', 'contact_email_taken', 'email'] as const,
  },
} as const;

interface Moved {
  fk: Record<string, string[]>;
  /** Per link table: ids moved from source to target, and ids the target already had (source link dropped). */
  links: Record<string, { moved: string[]; dropped: string[] }>;
}

type Row = Record<string, unknown> & { id: string };

const jsonSafe = (row: Row) => JSON.parse(JSON.stringify(row)) as Record<string, unknown>;

function merged(type: MergeType, target: Row, source: Row, prefer: Record<string, 'target' | 'source'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of SPECS[type].fields) {
    if (f === 'custom') {
      const [a, b] = prefer.custom === 'source' ? [target.custom, source.custom] : [source.custom, target.custom];
      out.custom = { ...(a as object), ...(b as object) };
    } else out[f] = prefer[f] === 'source' ? (source[f] ?? target[f]) : (target[f] ?? source[f]);
  }
  if (type === 'contact') {
    // Every email and phone of both people is kept; the chosen primary leads.
    out.emails = patchedList({ primary: null, list: [] }, out.email as string | null, [...(target.emails as string[]), ...(source.emails as string[])]);
    out.phones = patchedList({ primary: null, list: [] }, out.phone as string | null, [...(target.phones as string[]), ...(source.phones as string[])]);
  }
  return out;
}

async function linkIds(db: Kysely<any>, ref: LinkRef, recordId: string): Promise<string[]> {
  let q = db.selectFrom(ref.table).select(ref.other).where(ref.column, '=', recordId);
  for (const [k, v] of Object.entries(ref.where ?? {})) q = q.where(k, '=', v);
  return (await q.execute()).map((r) => r[ref.other] as string);
}

async function moveLinks(db: Kysely<any>, ref: LinkRef, ids: readonly string[], from: string, to: string, deleteFrom: boolean): Promise<void> {
  if (ids.length === 0) return;
  await db
    .insertInto(ref.table)
    .values(ids.map((id) => ({ [ref.other]: id, [ref.column]: to, ...(ref.where ?? {}) })))
    .onConflict((oc) => oc.doNothing())
    .execute();
  if (deleteFrom) {
    let q = db.deleteFrom(ref.table).where(ref.column, '=', from).where(ref.other, 'in', ids);
    for (const [k, v] of Object.entries(ref.where ?? {})) q = q.where(k, '=', v);
    await q.execute();
  }
}

function taken(type: MergeType, error: unknown): never {
  const [constraint, code, field] = SPECS[type].taken;
  if (isUniqueViolation(error, constraint)) throw new AppError(code, `Another live ${type} now holds this ${field}`, { cause: error });
  throw error;
}

export interface MergeInput {
  sourceId: string;
  prefer?: Record<string, 'target' | 'source'>;
  dryRun?: boolean;
}

export async function mergeRecords(ctx: RequestContext, type: MergeType, targetId: string, input: MergeInput) {
  const spec = SPECS[type];
  if (input.sourceId === targetId) throw new AppError('validation_failed', 'A record cannot be merged into itself', { errors: [{ in: 'body', pointer: '/sourceId', detail: 'same as the target' }] });
  const unknown = Object.keys(input.prefer ?? {}).filter((f) => !(spec.fields as readonly string[]).includes(f));
  if (unknown.length > 0) throw new AppError('validation_failed', `Unknown fields: ${unknown.join(', ')}`, { errors: unknown.map((f) => ({ in: 'body' as const, pointer: `/prefer/${f}`, detail: 'not a mergeable field' })) });
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const db = trx as unknown as Kysely<any>;
      // Merging deletes the source: both records must be in the caller's scope for deleting.
      const inScope = ownerInScope(ctx, `crm.${spec.table}.delete`, 'ownerId');
      const load = (id: string) => db.selectFrom(spec.table).selectAll().where('id', '=', id).where('deletedAt', 'is', null).where(inScope).forUpdate().executeTakeFirst() as Promise<Row | undefined>;
      const target = await load(targetId);
      if (!target) throw new AppError('not_found', `No such ${type}`);
      const source = await load(input.sourceId);
      if (!source) throw new AppError('invalid_reference', `No such ${type} to merge in`, { errors: [{ in: 'body', pointer: '/sourceId', detail: `unknown ${type}` }] });
      const values = merged(type, target, source, input.prefer ?? {});
      const moved: Moved = { fk: {}, links: {} };
      for (const fk of spec.fk) moved.fk[fk.table] = (await db.selectFrom(fk.table).select('id').where(fk.column, '=', source.id).execute()).map((r) => r.id as string);
      for (const ref of spec.links) {
        const [fromSource, onTarget] = await Promise.all([linkIds(db, ref, source.id), linkIds(db, ref, target.id)]);
        moved.links[ref.table] = { moved: fromSource.filter((x) => !onTarget.includes(x)), dropped: fromSource.filter((x) => onTarget.includes(x)) };
      }
      const counts = {
        deals: (moved.fk.deals ?? []).length + (moved.links.dealContacts?.moved.length ?? 0),
        activities: moved.links.activityLinks?.moved.length ?? 0,
      };
      if (input.dryRun) return { mergeId: null, record: { ...target, ...values }, moved: counts };

      const now = new Date();
      const by = ctx.actor.accountId;
      // The source goes first so a unique domain/email it holds is free for the target.
      await db.updateTable(spec.table).set({ deletedAt: now, updatedAt: now, updatedBy: by }).where('id', '=', source.id).execute();
      const record = (await db
        .updateTable(spec.table)
        .set({ ...values, ...(type === 'company' ? { custom: JSON.stringify(values.custom) } : {}), updatedAt: now, updatedBy: by })
        .where('id', '=', target.id)
        .returningAll()
        .executeTakeFirstOrThrow()) as Row;
      for (const fk of spec.fk) if (moved.fk[fk.table]!.length) await db.updateTable(fk.table).set({ [fk.column]: target.id }).where('id', 'in', moved.fk[fk.table]!).execute();
      for (const ref of spec.links) {
        const m = moved.links[ref.table]!;
        await moveLinks(db, ref, m.moved, source.id, target.id, true);
        if (m.dropped.length) {
          let q = db.deleteFrom(ref.table).where(ref.column, '=', source.id).where(ref.other, 'in', m.dropped);
          for (const [k, v] of Object.entries(ref.where ?? {})) q = q.where(k, '=', v);
          await q.execute();
        }
      }
      const mergeId = uuidv7();
      await db.insertInto('recordMerges').values({ id: mergeId, recordType: type, targetId: target.id, sourceId: source.id, targetBefore: JSON.stringify(jsonSafe(target)), moved: JSON.stringify(moved), mergedBy: by, mergedAt: now }).execute();
      await recordChange(db, { recordType: type, recordId: target.id, action: 'updated', changes: { ...diff(target, values, ['custom']), mergedFrom: [null, source.id] }, by, at: now });
      await recordChange(db, { recordType: type, recordId: source.id, action: 'deleted', changes: { mergedInto: [null, target.id] }, by, at: now });
      await recordAudit(trx, auditSourceOf(ctx), { action: `crm.${type}.merged`, targetType: type, targetId: target.id, before: jsonSafe(target), after: jsonSafe(record), details: { sourceId: source.id, mergeId } });
      return { mergeId, record, moved: counts };
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    return taken(type, error);
  }
}

export async function undoMerge(ctx: RequestContext, mergeId: string) {
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const db = trx as unknown as Kysely<any>;
      const m = await db.selectFrom('recordMerges').selectAll().where('id', '=', mergeId).forUpdate().executeTakeFirst();
      if (!m) throw new AppError('not_found', 'No such merge');
      if (m.undoneAt) throw new AppError('conflict', 'This merge was already undone');
      const type = m.recordType as MergeType;
      const spec = SPECS[type];
      const before = m.targetBefore as Record<string, unknown>;
      const moved = m.moved as Moved;
      const now = new Date();
      const by = ctx.actor.accountId;
      const restore = Object.fromEntries(spec.fields.map((f) => [f, f === 'custom' ? JSON.stringify(before.custom ?? {}) : (before[f] ?? null)]));
      const target = await db.updateTable(spec.table).set({ ...restore, updatedAt: now, updatedBy: by }).where('id', '=', m.targetId).where('deletedAt', 'is', null).returning('id').executeTakeFirst();
      if (!target) throw new AppError('conflict', `The ${type} merged into was deleted since: restore it first`);
      await db.updateTable(spec.table).set({ deletedAt: null, updatedAt: now, updatedBy: by }).where('id', '=', m.sourceId).execute();
      for (const fk of spec.fk) {
        const ids = moved.fk[fk.table] ?? [];
        if (ids.length) await db.updateTable(fk.table).set({ [fk.column]: m.sourceId }).where('id', 'in', ids).where(fk.column, '=', m.targetId).execute();
      }
      for (const ref of spec.links) {
        const l = moved.links[ref.table] ?? { moved: [], dropped: [] };
        await moveLinks(db, ref, l.moved, m.targetId, m.sourceId, true);
        await moveLinks(db, ref, l.dropped, m.targetId, m.sourceId, false);
      }
      await db.updateTable('recordMerges').set({ undoneAt: now, undoneBy: by }).where('id', '=', mergeId).execute();
      await recordChange(db, { recordType: type, recordId: m.targetId, action: 'updated', changes: { mergeUndone: [mergeId, null] }, by, at: now });
      await recordChange(db, { recordType: type, recordId: m.sourceId, action: 'restored', changes: { mergeUndone: [mergeId, null] }, by, at: now });
      await recordAudit(trx, auditSourceOf(ctx), { action: `crm.${type}.merge_undone`, targetType: type, targetId: m.targetId, details: { sourceId: m.sourceId, mergeId } });
      return { mergeId, recordType: type, targetId: m.targetId as string, sourceId: m.sourceId as string };
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    const m = await ctx.db.withTables<{ recordMerges: { id: string; recordType: MergeType } }>().selectFrom('recordMerges').select('recordType').where('id', '=', mergeId).executeTakeFirst();
    return taken(m?.recordType ?? 'company', error);
  }
}

