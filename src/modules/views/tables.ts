import type { ColumnType, Selectable } from 'kysely';

export interface SavedViewsTable {
  id: string;
  accountId: string;
  object: 'company' | 'deal';
  name: string;
  filters: ColumnType<string[], string, string>;
  sort: string | null;
  search: string | null;
  columns: ColumnType<string[], string, string>;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: ColumnType<Date, Date, Date>;
}

export type ViewsTables = { savedViews: SavedViewsTable };
export type SavedView = Selectable<SavedViewsTable>;
