// Appends to a tenant's audit chain inside the caller's transaction: the row
// exists exactly when the change it describes does.
import { v7 as uuidv7 } from 'uuid';
import type { Kysely } from 'kysely';
import { scopeToTenant, type RequestContext, type TenantDb } from '../context.ts';
import type { AuditTables, Changes } from './tables.ts';
import { diff, rowHash } from './chain.ts';

export interface AuditSource {
  actorId: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  /** `<area>.<thing>.<verb>`, e.g. `crm.contact.updated`, `auth.login.failed`. */
  action: string;
  targetType?: string;
  targetId?: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  /** Extra facts of a security event (no secrets). */
  details?: Record<string, unknown>;
}

export const auditSourceOf = (ctx: Pick<RequestContext, 'requestId' | 'actor' | 'client'>): AuditSource => ({
  actorId: ctx.actor.accountId,
  requestId: ctx.requestId,
  ip: ctx.client?.ip ?? null,
  userAgent: ctx.client?.userAgent ?? null,
});

/** `db` must be the tenant-scoped handle of the transaction that makes the change. */
export async function recordAudit(db: TenantDb, source: AuditSource, entry: AuditEntry) {
  const adb = db.withTables<AuditTables>();
  // Locks the chain head until the transaction ends: one writer at a time per tenant.
  const head = await adb.updateTable('auditHead').set((eb) => ({ seq: eb('seq', '+', 1) })).where('id', '=', true).returning(['seq', 'hash']).executeTakeFirstOrThrow();
  let changes: Changes | null = entry.before !== undefined || entry.after !== undefined ? diff(entry.before, entry.after) : null;
  if (entry.details) changes = { ...(changes ?? {}), ...Object.fromEntries(Object.entries(entry.details).map(([k, v]) => [k, { before: null, after: v ?? null }])) };
  const row = {
    seq: Number(head.seq),
    id: uuidv7(),
    occurredAt: new Date(),
    actorId: source.actorId,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    changes,
    ip: source.ip,
    userAgent: source.userAgent?.slice(0, 512) ?? null,
    requestId: source.requestId,
  };
  const hash = rowHash(head.hash, row);
  // The row and the new head in one statement (a data-modifying CTE): the head
  // stays locked for one round trip less, and writers of a tenant queue on it.
  await adb
    .with('appended', (qb) => qb.insertInto('auditLog').values({ ...row, changes: changes === null ? null : JSON.stringify(changes), prevHash: head.hash, hash }))
    .updateTable('auditHead')
    .set({ hash })
    .where('id', '=', true)
    .execute();
  return row;
}

/** A security event on its own (no other change to join): appended in a transaction of its own. */
export async function appendAudit(db: Kysely<any>, schemaName: string, source: AuditSource, entry: AuditEntry) {
  return db.transaction().execute((trx) => recordAudit(scopeToTenant(trx, schemaName), source, entry));
}

/** `recordAudit` for a request: on the transaction `trx` (any schema scope), in the request's tenant, as its actor. */
export const auditRequest = (trx: Kysely<any>, ctx: Pick<RequestContext, 'requestId' | 'actor' | 'client' | 'tenant'>, entry: AuditEntry) =>
  recordAudit(scopeToTenant(trx, ctx.tenant.schemaName), auditSourceOf(ctx), entry);
