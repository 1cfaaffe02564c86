import type { Generated, Selectable } from 'kysely';

export interface NotificationsTable {
  id: string;
  accountId: string;
  kind: string;
  title: string;
  body: string | null;
  link: string | null;
  readAt: Date | null;
  createdAt: Generated<Date>;
}

export interface NotificationPreferencesTable {
  accountId: string;
  kind: string;
  inApp: boolean;
  email: boolean;
  updatedAt: Generated<Date>;
}

export type NotificationsTables = {
  notifications: NotificationsTable;
  notification_preferences: NotificationPreferencesTable;
};

export type NotificationRow = Selectable<NotificationsTable>;
