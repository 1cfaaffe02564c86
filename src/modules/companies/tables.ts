import type { ColumnType, Selectable } from 'kysely';

export interface CompaniesTable {
  id: string;
  name: string;
  domain: string | null;
  industry: string | null;
  employees: number | null;
  address: string | null;
  /** Custom field values by field id (see custom-fields). */
  custom: ColumnType<Record<string, unknown>, string | undefined, string>;
  ownerId: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: ColumnType<Date, Date, Date>;
  deletedAt: Date | null;
}

export type RecordType = 'company' | 'contact' | 'deal';

/** One row per create/update/delete/restore of a CRM record: `changes` maps field → [before, after]. */
export interface RecordChangesTable {
  id: string;
  recordType: RecordType;
  recordId: string;
  action: 'created' | 'updated' | 'deleted' | 'restored';
  changes: ColumnType<Record<string, [unknown, unknown]>, string, string>;
  changedBy: string | null;
  changedAt: Date;
}

export type CompaniesTables = {
  companies: CompaniesTable;
  recordChanges: RecordChangesTable;
};

export type Company = Selectable<CompaniesTable>;
