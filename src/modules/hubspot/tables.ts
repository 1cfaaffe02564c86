import type { ColumnType, Generated, Selectable } from 'kysely';

export type ObjectType = 'company' | 'contact' | 'deal';
export type LinkType = ObjectType | 'pipeline' | 'stage';
/** Who wins a field: one side always, the newer record, or a conflict for a person to settle. */
export type FieldRule = 'hubspot' | 'plinth' | 'newest' | 'manual';
export type FieldRules = Partial<Record<ObjectType, Record<string, FieldRule>>>;
type Json<T> = ColumnType<T, string, string>;

/** One row (id = true): the tenant's HubSpot connection. Secrets are ciphertexts (platform/secrets.ts). */
export interface HubspotConnectionTable {
  id: ColumnType<boolean, boolean, never>;
  tokenEnc: string;
  clientSecretEnc: string | null;
  portalId: string | null;
  fieldRules: Json<FieldRules>;
  defaultCurrency: string;
  /** Last HubSpot modification time (ms since epoch) seen per object type. */
  cursors: Json<Partial<Record<ObjectType, number>>>;
  status: 'connected' | 'auth_failed';
  connectedBy: string;
  connectedAt: Date;
  updatedAt: Date;
}

/** HubSpot id ↔ Plinth id per object type, with the values both sides last agreed on. */
export interface HubspotLinksTable {
  objectType: LinkType;
  hubspotId: string;
  plinthId: string;
  /** Field → last value both sides held (the base of the three-way comparison). */
  snapshot: Json<Record<string, unknown>>;
  /** Plinth's updated_at as the sync left it: a later one means Plinth changed. */
  plinthSyncedAt: Date | null;
  /** A conflict was settled for Plinth's value: push it on the next run. */
  needsPush: Generated<boolean>;
  syncedAt: Date;
}

export interface HubspotConflictsTable {
  id: string;
  objectType: ObjectType;
  plinthId: string;
  hubspotId: string;
  field: string;
  baseValue: Json<unknown>;
  plinthValue: Json<unknown>;
  hubspotValue: Json<unknown>;
  detectedAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolution: 'hubspot' | 'plinth' | null;
}

export interface HubspotWebhookEventsTable {
  eventId: string;
  subscriptionType: string;
  objectId: string | null;
  receivedAt: Generated<Date>;
}

export interface RunCounts {
  pulled: number;
  created: number;
  updated: number;
  pushed: number;
  conflicts: number;
  failed: number;
}

export interface HubspotSyncRunsTable {
  id: string;
  trigger: 'manual' | 'schedule' | 'webhook' | 'resolve' | 'change';
  status: 'running' | 'succeeded' | 'failed';
  counts: Json<RunCounts>;
  /** First errors of the run: { object, id, message } (never tokens). */
  errors: Json<Array<{ object: string; id: string | null; message: string }>>;
  startedAt: Date;
  finishedAt: Date | null;
}

export type HubspotTables = {
  hubspotConnection: HubspotConnectionTable;
  hubspotLinks: HubspotLinksTable;
  hubspotConflicts: HubspotConflictsTable;
  hubspotWebhookEvents: HubspotWebhookEventsTable;
  hubspotSyncRuns: HubspotSyncRunsTable;
};

export type Connection = Selectable<HubspotConnectionTable>;
export type Link = Selectable<HubspotLinksTable>;
export type Conflict = Selectable<HubspotConflictsTable>;
export type SyncRun = Selectable<HubspotSyncRunsTable>;
