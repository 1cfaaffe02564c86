// Appends to a tenant's audit chain inside the caller's transaction: the row
// exists exactly when the change it describes does.
import { v7 as uuidv7 } from 'uuid';
import { sql, type Kysely } from 'kysely';
import { scopeToTenant, type RequestContext, type TenantDb } from '../context.ts';
import type { AuditTables, Changes } from './tables.ts';
import { bodyParts, diff } from './chain.ts';

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

/**
 * `db` must be the tenant-scoped handle of the transaction that makes the change.
 *
 * One statement locks the chain head, hashes the row (PostgreSQL's sha256 over
 * the previous hash and the canonical body from chain.ts), inserts it and moves
 * the head. Writers of a tenant queue on the head's row lock until their
 * transaction ends, so the fewer round trips after taking it, the more writes a
 * tenant commits per second: before, the lock was held over two round trips and
 * the hashing in Node between them. For the same reason services append the
 * audit row last, after their other statements (events, notifications).
 */
export async function recordAudit(db: TenantDb, source: AuditSource, entry: AuditEntry) {
  const adb = db.withTables<AuditTables>();
  let changes: Changes | null = entry.before !== undefined || entry.after !== undefined ? diff(entry.before, entry.after) : null;
  if (entry.details) changes = { ...(changes ?? {}), ...Object.fromEntries(Object.entries(entry.details).map(([k, v]) => [k, { before: null, after: v ?? null }])) };
  const fields = {
    id: uuidv7(),
    actorId: source.actorId,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    changes,
    ip: source.ip,
    userAgent: source.userAgent?.slice(0, 512) ?? null,
    requestId: source.requestId,
  };
  const [beforeTime, beforeSeq, rest] = bodyParts(fields);
  // The time is taken once the lock is held, in milliseconds (what the hash and a JS Date carry), so it grows with seq.
  const iso = sql<string>`to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const placed = await adb
    .with('head', (qb) =>
      qb
        .selectFrom('auditHead')
        .select((eb) => [eb('seq', '+', 1).as('seq'), 'hash as prevHash', sql<Date>`date_trunc('milliseconds', clock_timestamp())`.as('at')])
        .where('id', '=', true)
        .forUpdate(),
    )
    .with('placed', (qb) =>
      qb.selectFrom('head').select(['seq', 'prevHash', 'at', sql<Buffer>`sha256(prev_hash || convert_to(${beforeTime} || ${iso} || ${beforeSeq} || seq::text || ${rest}, 'UTF8'))`.as('hash')]),
    )
    .with('appended', (qb) =>
      qb
        .insertInto('auditLog')
        .columns(['seq', 'id', 'occurredAt', 'actorId', 'action', 'targetType', 'targetId', 'changes', 'ip', 'userAgent', 'requestId', 'prevHash', 'hash'])
        .expression((eb) =>
          eb
            .selectFrom('placed')
            .select([
              'seq',
              sql<string>`${fields.id}::uuid`.as('id'),
              'at',
              sql<string | null>`${fields.actorId}::uuid`.as('actorId'),
              sql<string>`${fields.action}::text`.as('action'),
              sql<string | null>`${fields.targetType}::text`.as('targetType'),
              sql<string | null>`${fields.targetId}::text`.as('targetId'),
              sql<string | null>`${changes === null ? null : JSON.stringify(changes)}::jsonb`.as('changes'),
              sql<string | null>`${fields.ip}::text`.as('ip'),
              sql<string | null>`${fields.userAgent}::text`.as('userAgent'),
              sql<string | null>`${fields.requestId}::text`.as('requestId'),
              'prevHash',
              'hash',
            ]),
        ),
    )
    .updateTable('auditHead')
    .from('placed')
    .set((eb) => ({ seq: eb.ref('placed.seq'), hash: eb.ref('placed.hash') }))
    .where('auditHead.id', '=', true)
    .returning(['placed.seq', 'placed.at'])
    .executeTakeFirstOrThrow();
  return { ...fields, seq: Number(placed.seq), occurredAt: placed.at };
}

/** A security event on its own (no other change to join): appended in a transaction of its own. */
export async function appendAudit(db: Kysely<any>, schemaName: string, source: AuditSource, entry: AuditEntry) {
  return db.transaction().execute((trx) => recordAudit(scopeToTenant(trx, schemaName), source, entry));
}

/** `recordAudit` for a request: on the transaction `trx` (any schema scope), in the request's tenant, as its actor. */
export const auditRequest = (trx: Kysely<any>, ctx: Pick<RequestContext, 'requestId' | 'actor' | 'client' | 'tenant'>, entry: AuditEntry) =>
  recordAudit(scopeToTenant(trx, ctx.tenant.schemaName), auditSourceOf(ctx), entry);
