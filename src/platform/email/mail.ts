// The mail port modules call: `sendTemplate(trx, ctx, { template, to, data })`
// writes the outbox row and its job on the caller's transaction, so a
// rolled-back business write sends nothing and a committed one is sent (with
// retries) even if the process dies right after the commit.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../../config.ts';
import { scopeToTenant, type TenantRef } from '../context.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { EmailDb } from './repository.ts';
import { insertOutbox } from './repository.ts';
import type { TemplateData, TemplateName } from './templates.ts';
import { createMailTransport, type MailTransport } from './transport.ts';

export const SEND_EMAIL_TASK = 'email.send';

export interface OutgoingMessage<T extends TemplateName> {
  template: T;
  to: string;
  data: TemplateData[T];
}

export interface MailPort {
  /** Queues a templated message for the tenant; `trx` is the business transaction (any schema scope). */
  sendTemplate<T extends TemplateName>(trx: Kysely<any>, ctx: { tenant: TenantRef }, message: OutgoingMessage<T>): Promise<{ id: string }>;
  /** The process's transport (SMTP or .eml files), created on first use. */
  transport(): MailTransport;
  /** The sender address; the display name is the tenant's brand name. */
  fromAddress: string;
}

export function createMail(config: Config, jobs: JobQueue): MailPort {
  let transport: MailTransport | undefined;
  return {
    fromAddress: config.EMAIL_FROM,
    async sendTemplate(trx, ctx, message) {
      const id = uuidv7();
      const db = scopeToTenant(trx, ctx.tenant.schemaName) as unknown as EmailDb;
      await insertOutbox(db, { id, template: message.template, toAddress: message.to, data: JSON.stringify(message.data) });
      await jobs.enqueue(trx, ctx.tenant.id, SEND_EMAIL_TASK, { outboxId: id }, { jobKey: `email:${id}` });
      return { id };
    },
    transport() {
      transport ??= createMailTransport({ smtpUrl: config.SMTP_URL, dataDir: config.PLINTH_DATA_DIR });
      return transport;
    },
  };
}
