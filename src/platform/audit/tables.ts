import type { ColumnType, Selectable } from 'kysely';

export interface AuditLogTable {
  seq: number;
  id: string;
  occurredAt: Date;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changes: ColumnType<Changes | null, string | null, never>;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  prevHash: Buffer;
  hash: Buffer;
}

export interface AuditHeadTable {
  id: boolean;
  seq: number;
  hash: Buffer;
}

/** Changed fields: `{ field: { before, after } }`. */
export type Changes = Record<string, { before: unknown; after: unknown }>;

export type AuditTables = {
  auditLog: AuditLogTable;
  auditHead: AuditHeadTable;
};

export type AuditRow = Selectable<AuditLogTable>;
