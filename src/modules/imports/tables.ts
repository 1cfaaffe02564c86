import type { ColumnType, Selectable } from 'kysely';

export type ImportObject = 'company' | 'contact' | 'deal';
export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed';
export type OnDuplicate = 'skip' | 'update' | 'create';

export interface ImportsTable {
  id: string;
  object: ImportObject;
  status: ImportStatus;
  dryRun: boolean;
  onDuplicate: OnDuplicate;
  batchSize: number;
  /** CSV header → field. */
  mapping: ColumnType<Record<string, string>, string, string>;
  idempotencyKey: string | null;
  filename: string | null;
  rows: ColumnType<number, number | undefined, number>;
  processed: ColumnType<number, number | undefined, number>;
  created: ColumnType<number, number | undefined, number>;
  updated: ColumnType<number, number | undefined, number>;
  skipped: ColumnType<number, number | undefined, number>;
  notWritten: ColumnType<number, number | undefined, number>;
  errorCount: ColumnType<number, number | undefined, number>;
  checkpointLine: ColumnType<number, number | undefined, number>;
  failure: string | null;
  createdBy: string;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface ImportRowsTable {
  importId: string;
  line: number;
  data: ColumnType<Record<string, string>, string, never>;
}

export interface ImportErrorsTable {
  importId: string;
  line: number;
  seq: number;
  field: string | null;
  detail: string;
}

export type ImportsTables = {
  imports: ImportsTable;
  importRows: ImportRowsTable;
  importErrors: ImportErrorsTable;
};

export type Import = Selectable<ImportsTable>;
