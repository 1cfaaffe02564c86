// The change log behind each record's timeline: a row per create, update,
// delete and restore, with the changed fields as [before, after].
import { v7 as uuidv7 } from 'uuid';
import type { Kysely } from 'kysely';
import type { CompaniesTables, RecordType } from './tables.ts';

export type ChangeAction = 'created' | 'updated' | 'deleted' | 'restored';

const comparable = (v: unknown) => (v instanceof Date ? v.toISOString() : v ?? null);

/** Custom values (by key) changed between two versions, a cleared one as [before, null]. */
export function diffCustom(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, [unknown, unknown]> {
  return diff(before, { ...Object.fromEntries(Object.keys(before).map((k) => [k, null])), ...after }, []);
}

/** Fields of `after` whose value differs from `before`, as [before, after]. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>, ignore: readonly string[] = ['updatedAt', 'updatedBy']): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const [k, v] of Object.entries(after)) {
    if (ignore.includes(k)) continue;
    const a = comparable(before[k]);
    const b = comparable(v);
    if (JSON.stringify(a) !== JSON.stringify(b)) out[k] = [a, b];
  }
  return out;
}

export async function recordChange(
  db: Kysely<any>,
  change: { recordType: RecordType; recordId: string; action: ChangeAction; changes?: Record<string, [unknown, unknown]>; by: string | null; at: Date },
): Promise<void> {
  await (db as Kysely<CompaniesTables>)
    .insertInto('recordChanges')
    .values({ id: uuidv7(), recordType: change.recordType, recordId: change.recordId, action: change.action, changes: JSON.stringify(change.changes ?? {}), changedBy: change.by, changedAt: change.at })
    .execute();
}
