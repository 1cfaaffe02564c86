// Walks a tenant's chain in order and reports the first row that does not
// hold: a gap in the sequence (a deleted row), a prev_hash that is not the
// previous row's hash, or a hash that does not match the row's content (an
// edited row). The head must match the last row (a removed tail).
import type { TenantDb } from '../context.ts';
import type { AuditTables } from './tables.ts';
import { rowHash } from './chain.ts';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first broken link (absent when ok). */
  firstBrokenSeq?: number;
  reason?: string;
}

const BATCH = 1000;

export async function verifyChain(db: TenantDb): Promise<VerifyResult> {
  const adb = db.withTables<AuditTables>();
  const anchor = await adb.selectFrom('auditHead').select(['anchorSeq', 'anchorHash']).executeTakeFirstOrThrow();
  let prevHash: Buffer = anchor.anchorHash;
  let expectedSeq = Number(anchor.anchorSeq) + 1;
  let checked = 0;
  for (;;) {
    const rows = await adb.selectFrom('auditLog').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(BATCH).execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return { ok: false, checked, firstBrokenSeq: expectedSeq, reason: `row ${expectedSeq} is missing` };
      if (!row.prevHash.equals(prevHash)) return { ok: false, checked, firstBrokenSeq: seq, reason: 'prev_hash does not match the previous row' };
      if (!rowHash(prevHash, row).equals(row.hash)) return { ok: false, checked, firstBrokenSeq: seq, reason: 'the row content does not match its hash' };
      prevHash = row.hash;
      expectedSeq = seq + 1;
      checked++;
    }
    if (rows.length < BATCH) break;
  }
  const head = await adb.selectFrom('auditHead').select(['seq', 'hash']).executeTakeFirstOrThrow();
  if (Number(head.seq) !== expectedSeq - 1 || !head.hash.equals(prevHash)) {
    return { ok: false, checked, firstBrokenSeq: expectedSeq, reason: `the chain head names row ${head.seq}, the log ends at ${expectedSeq - 1}` };
  }
  return { ok: true, checked };
}
