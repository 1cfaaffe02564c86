// Types of the identity tables in `public` (added with `db.withTables<AuthTables>()`).
import type { ColumnType, Generated } from 'kysely';

export interface SessionsTable {
  id: string;
  accountId: string;
  tenantId: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Generated<Date>;
  lastUsedAt: Generated<Date>;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  sessionId: string;
  parentId: string | null;
  tokenHash: Buffer;
  createdAt: Generated<Date>;
  usedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
  childSalt: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
}

export type AuthTables = {
  sessions: SessionsTable;
  refreshTokens: RefreshTokensTable;
};
