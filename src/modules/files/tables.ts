import type { ColumnType, Generated, Selectable } from 'kysely';

export interface FilesTable {
  id: string;
  name: string;
  size: number;
  sha256: string | null;
  contentType: string;
  storageKey: string;
  thumbnailKey: string | null;
  status: ColumnType<'pending' | 'ready', 'pending' | 'ready' | undefined, 'pending' | 'ready'>;
  recordType: string | null;
  recordId: string | null;
  uploadedBy: string;
  createdAt: Generated<Date>;
}

export type FilesTables = {
  files: FilesTable;
};

export type FileRow = Selectable<FilesTable>;
