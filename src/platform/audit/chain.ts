// The tamper-evident part: hash = sha256(prev_hash ‖ canonical row). The
// canonical form is JSON with sorted keys at every level, so what jsonb does
// to key order cannot change a hash.
import { createHash } from 'node:crypto';
import type { AuditRow, Changes } from './tables.ts';

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`;
}

export type ChainedFields = Omit<AuditRow, 'hash' | 'prevHash' | 'changes'> & { changes: Changes | null };

export function rowHash(prevHash: Buffer, row: ChainedFields): Buffer {
  const body = canonical({
    seq: Number(row.seq),
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    changes: row.changes,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
  });
  return createHash('sha256').update(prevHash).update(body).digest();
}

const plain = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v === undefined ? null : v);

/** Fields whose value differs between two versions of a record (all of `after` for a creation, all of `before` for a removal). */
export function diff(before: Record<string, unknown> | null | undefined, after: Record<string, unknown> | null | undefined, ignore: readonly string[] = ['updatedAt', 'updatedBy']): Changes | null {
  if (!before && !after) return null;
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const changes: Changes = {};
  for (const key of keys) {
    if (ignore.includes(key)) continue;
    const b = before ? plain(before[key]) : null;
    const a = after ? plain(after[key]) : null;
    if (canonical(b) !== canonical(a)) changes[key] = { before: b, after: a };
  }
  return changes;
}
