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
  /** The last row removed by retention (0: none); the chain continues from its hash. */
  anchorSeq: ColumnType<number, number | undefined, number>;
  anchorHash: ColumnType<Buffer, Buffer | undefined, Buffer>;
}

/** Changed fields: `{ field: { before, after } }`. */
export type Changes = Record<string, { before: unknown; after: unknown }>;

export type AuditTables = {
  auditLog: AuditLogTable;
  auditHead: AuditHeadTable;
};

export type AuditRow = Selectable<AuditLogTable>;
