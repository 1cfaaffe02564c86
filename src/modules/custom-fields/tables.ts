import type { ColumnType, Selectable } from 'kysely';

export type CustomObject = 'company' | 'deal';
export type FieldType = 'text' | 'number' | 'date' | 'boolean' | 'select' | 'multi_select' | 'currency' | 'relation';

export interface CustomFieldsTable {
  id: string;
  object: CustomObject;
  /** API name, unique per object; values are stored by `id`, so renaming the key keeps them. */
  key: string;
  label: string;
  type: FieldType;
  options: ColumnType<string[], string, string>;
  currency: string | null;
  target: 'company' | 'contact' | 'deal' | null;
  required: boolean;
  position: number;
  createdBy: string;
  updatedBy: string;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: ColumnType<Date, Date, Date>;
  deletedAt: Date | null;
}

export type CustomFieldsTables = { customFields: CustomFieldsTable };
export type CustomField = Selectable<CustomFieldsTable>;
/** Stored values: field id → JSON value. */
export type StoredValues = Record<string, unknown>;
