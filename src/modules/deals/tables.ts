import type { ColumnType, Selectable } from 'kysely';
import type { CompaniesTables } from '../companies/tables.ts';
import type { ContactsTables } from '../contacts/tables.ts';

type Created = ColumnType<Date, Date, never>;

export interface PipelinesTable {
  id: string;
  name: string;
  isDefault: boolean;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: Created;
  updatedAt: ColumnType<Date, Date, Date>;
  deletedAt: Date | null;
}

export type StageKind = 'open' | 'won' | 'lost';

export interface PipelineStagesTable {
  id: string;
  pipelineId: string;
  name: string;
  position: number;
  probability: number;
  kind: StageKind;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: Created;
  updatedAt: ColumnType<Date, Date, Date>;
}

export interface DealsTable {
  id: string;
  name: string;
  /** numeric(18,2) as a decimal string: no float rounding. */
  amount: string | null;
  currency: string | null;
  /** date; read as text (YYYY-MM-DD) by the repository. */
  closeDate: ColumnType<string | null, string | null, string | null>;
  pipelineId: string;
  stageId: string;
  stageChangedAt: Date;
  companyId: string | null;
  ownerId: string | null;
  /** Custom field values by field id (see custom-fields). */
  custom: ColumnType<Record<string, unknown>, string | undefined, string>;
  createdBy: string;
  updatedBy: string;
  createdAt: Created;
  updatedAt: ColumnType<Date, Date, Date>;
  deletedAt: Date | null;
}

export interface DealContactsTable {
  dealId: string;
  contactId: string;
}

export interface DealStageHistoryTable {
  id: string;
  dealId: string;
  fromStageId: string | null;
  toStageId: string;
  changedAt: Date;
  changedBy: string | null;
}

export type DealsTables = CompaniesTables &
  ContactsTables & {
    pipelines: PipelinesTable;
    pipelineStages: PipelineStagesTable;
    deals: DealsTable;
    dealContacts: DealContactsTable;
    dealStageHistory: DealStageHistoryTable;
  };

export type Pipeline = Selectable<PipelinesTable>;
export type Stage = Selectable<PipelineStagesTable>;
export type DealRow = Selectable<DealsTable>;
export type Deal = DealRow & { contactIds: string[] };
export type StageChange = Selectable<DealStageHistoryTable>;
