import type { ColumnType, Generated, Selectable } from 'kysely';

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  secret: string;
  events: string[];
  enabled: Generated<boolean>;
  failureStreak: Generated<number>;
  disabledAt: Date | null;
  createdBy: string;
  createdAt: Generated<Date>;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: ColumnType<unknown, string, string>;
  status: Generated<'pending' | 'succeeded' | 'failed'>;
  attempts: Generated<number>;
  responseStatus: number | null;
  lastError: string | null;
  durationMs: number | null;
  createdAt: Generated<Date>;
  deliveredAt: Date | null;
}

export type WebhookTables = {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
};

export type EndpointRow = Selectable<WebhookEndpointsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
