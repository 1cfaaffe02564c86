// Domain events: typed facts modules publish inside their business
// transaction (`platform.events.publish(trx, ctx, type, data)`). Publishing
// writes one webhook delivery (row + job) per subscribed endpoint on that
// transaction, so subscribers hear of exactly the committed writes, with
// retries, even if the process dies right after the commit.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { TenantRef } from '../context.ts';

/** Event type → payload. Modules add theirs here, so subscribers can rely on the list. */
export interface DomainEventTypes {
  'crm.contact.created': { id: string; firstName: string; lastName: string | null; email: string | null };
  'crm.contact.updated': { id: string; changes: string[] };
  'crm.contact.deleted': { id: string };
  'crm.contact.restored': { id: string };
  'crm.company.created': { id: string; name: string; domain: string | null; ownerId: string | null };
  'crm.company.updated': { id: string; changes: string[] };
  'crm.company.deleted': { id: string };
  'crm.company.restored': { id: string };
  'crm.deal.created': { id: string; name: string; pipelineId: string; stageId: string; ownerId: string | null; amount: string | null; currency: string | null };
  'crm.deal.updated': { id: string; changes: string[] };
  'crm.deal.deleted': { id: string };
  'crm.deal.restored': { id: string };
  /** A deal entered another stage (kind: open/won/lost of the new stage). */
  'crm.deal.stage_changed': { id: string; pipelineId: string; fromStageId: string; toStageId: string; fromStage: string; toStage: string; kind: 'open' | 'won' | 'lost'; changedBy: string };
  'crm.activity.created': { id: string; type: string; subject: string; ownerId: string | null; assigneeId: string | null; links: Array<{ type: string; id: string }> };
  /** A task was set to done. */
  'crm.activity.completed': { id: string; type: string; subject: string; completedAt: string };
  'crm.import.completed': { id: string; object: string; dryRun: boolean; status: string; rows: number; created: number; updated: number; skipped: number; errorCount: number };
  'files.file.uploaded': { id: string; name: string; size: number; contentType: string };
  /** Sent by POST /v1/webhooks/:id/ping to test an endpoint. */
  'webhooks.ping': { endpointId: string };
}
export type DomainEventType = keyof DomainEventTypes;
export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  'crm.contact.created',
  'crm.contact.updated',
  'crm.contact.deleted',
  'crm.contact.restored',
  'crm.company.created',
  'crm.company.updated',
  'crm.company.deleted',
  'crm.company.restored',
  'crm.deal.created',
  'crm.deal.updated',
  'crm.deal.deleted',
  'crm.deal.restored',
  'crm.deal.stage_changed',
  'crm.activity.created',
  'crm.activity.completed',
  'crm.import.completed',
  'files.file.uploaded',
  'webhooks.ping',
];

export interface DomainEvent<T extends DomainEventType = DomainEventType> {
  id: string;
  type: T;
  tenantId: string;
  occurredAt: string;
  data: DomainEventTypes[T];
}

/** What an event turns into on commit; the webhooks module provides it. */
export type EventSink = (trx: Kysely<any>, tenant: TenantRef, event: DomainEvent) => Promise<void>;

export interface DomainEvents {
  publish<T extends DomainEventType>(trx: Kysely<any>, ctx: { tenant: TenantRef }, type: T, data: DomainEventTypes[T]): Promise<DomainEvent<T>>;
  /** Registers a sink (the webhooks module does at startup). */
  subscribe(sink: EventSink): void;
}

export function createDomainEvents(): DomainEvents {
  const sinks: EventSink[] = [];
  return {
    async publish(trx, ctx, type, data) {
      const event = { id: uuidv7(), type, tenantId: ctx.tenant.id, occurredAt: new Date().toISOString(), data };
      for (const sink of sinks) await sink(trx, ctx.tenant, event);
      return event;
    },
    subscribe: (sink) => void sinks.push(sink),
  };
}
