import type { ColumnType, Selectable } from 'kysely';

// Timestamps are written by the service with millisecond precision, so a
// value read back into a JS Date is exact and keyset cursors never skip rows.
export interface ContactsTable {
  id: string;
  firstName: string;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  jobTitle: string | null;
  /** Every email, the primary (`email`) first; likewise `phones`. */
  emails: ColumnType<string[], string[] | undefined, string[]>;
  phones: ColumnType<string[], string[] | undefined, string[]>;
  companyId: string | null;
  ownerId: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: ColumnType<Date, Date, never>;
  updatedAt: ColumnType<Date, Date, Date>;
  deletedAt: Date | null;
}

// A type alias (not an interface) so it fits Kysely's `withTables<T>()`.
export type ContactsTables = {
  contacts: ContactsTable;
};

export type Contact = Selectable<ContactsTable>;
