// What every CRM write leaves behind in its own transaction: an audit row
// (who changed what, hash-chained per tenant) and, where subscribers care, a
// typed domain event (webhooks). Both commit or roll back with the change.
import type { Kysely } from 'kysely';
import type { RequestContext, TenantDb } from '../../platform/context.ts';
import { auditSourceOf, recordAudit } from '../../platform/audit/writer.ts';

/** Dates as ISO strings, numerics as they are: what the audit diff and event payloads store. */
export const jsonSafe = (row: object | null | undefined): Record<string, unknown> | null => (row ? (JSON.parse(JSON.stringify(row)) as Record<string, unknown>) : null);

export interface CrmWrite {
  /** company, contact, deal, pipeline, activity, custom_field, saved_view, import */
  type: string;
  /** created, updated, deleted, restored, ... → audit action `crm.<type>.<action>` */
  action: string;
  id: string;
  before?: object | null;
  after?: object | null;
  details?: Record<string, unknown>;
}

/**
 * `trx` is the tenant-scoped transaction that makes the change. Call it last in that transaction, after
 * events and notifications: it takes the tenant's audit-chain lock, which is held until commit (writer.ts).
 */
export async function auditCrm(trx: Kysely<any>, ctx: Pick<RequestContext, 'requestId' | 'actor' | 'client'>, w: CrmWrite): Promise<void> {
  await recordAudit(trx as unknown as TenantDb, auditSourceOf(ctx), {
    action: `crm.${w.type}.${w.action}`,
    targetType: w.type,
    targetId: w.id,
    ...(w.before !== undefined ? { before: jsonSafe(w.before) } : {}),
    ...(w.after !== undefined ? { after: jsonSafe(w.after) } : {}),
    ...(w.details ? { details: w.details } : {}),
  });
}

/** Names of the fields that differ between two versions (for `*.updated` events). */
export function changedFields(before: object, after: object, ignore: readonly string[] = ['updatedAt', 'updatedBy']): string[] {
  const b = jsonSafe(before)!;
  const a = jsonSafe(after)!;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignore.includes(k) && JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null)).sort();
}
