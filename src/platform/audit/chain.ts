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

/** The fields of a row known before it is appended: its place in the chain (seq) and time are given by the append. */
export type UnplacedFields = Omit<ChainedFields, 'seq' | 'occurredAt'>;

/**
 * A row's canonical body, split around its time and sequence number:
 * body = parts[0] + occurredAt (ISO 8601 in ms, the quotes are in the parts) + parts[1] + seq + parts[2].
 * The writer sends the parts to PostgreSQL, which hashes the row in the same
 * statement that locks the chain head (writer.ts); the verifier fills them in.
 */
export function bodyParts(row: UnplacedFields): [string, string, string] {
  const NUMBER = Symbol('number');
  const STRING = Symbol('string');
  const top: Record<string, unknown> = {
    seq: NUMBER,
    id: row.id,
    occurredAt: STRING,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    changes: row.changes,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
  };
  // Same text as canonical(top) with the holes left open; the keys sort occurredAt before seq.
  const parts: string[] = [];
  let text = '{';
  Object.keys(top)
    .filter((k) => top[k] !== undefined)
    .sort()
    .forEach((k, i) => {
      text += `${i ? ',' : ''}${JSON.stringify(k)}:`;
      const v = top[k];
      if (v === NUMBER || v === STRING) {
        const quote = v === STRING ? '"' : '';
        parts.push(text + quote);
        text = quote;
      } else text += canonical(v);
    });
  parts.push(`${text}}`);
  return parts as [string, string, string];
}

export function rowHash(prevHash: Buffer, row: ChainedFields): Buffer {
  const [a, b, c] = bodyParts(row);
  return createHash('sha256').update(prevHash).update(`${a}${row.occurredAt.toISOString()}${b}${Number(row.seq)}${c}`).digest();
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
