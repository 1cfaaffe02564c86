import type { ColumnType, Generated, Selectable } from 'kysely';

export interface EmailOutboxTable {
  id: string;
  template: string;
  toAddress: string;
  data: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  status: Generated<'queued' | 'sent' | 'failed'>;
  attempts: Generated<number>;
  lastError: string | null;
  messageId: string | null;
  filePath: string | null;
  createdAt: Generated<Date>;
  sentAt: Date | null;
}

export interface EmailBrandingTable {
  singleton: Generated<boolean>;
  name: string | null;
  logoUrl: string | null;
  primaryColor: string | null;
  footer: string | null;
  updatedAt: Generated<Date>;
}

export interface EmailTemplateOverridesTable {
  name: string;
  subject: string;
  html: string;
  text: string;
  updatedBy: string;
  updatedAt: Generated<Date>;
}

export interface EmailTables {
  email_outbox: EmailOutboxTable;
  email_branding: EmailBrandingTable;
  email_template_overrides: EmailTemplateOverridesTable;
}

export type OutboxRow = Selectable<EmailOutboxTable>;
export type BrandingRow = Selectable<EmailBrandingTable>;
export type OverrideRow = Selectable<EmailTemplateOverridesTable>;
