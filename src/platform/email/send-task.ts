// The job that sends one outbox message: render with the tenant's branding
// and overrides at send time, deliver, record the outcome. Idempotent: a
// message already sent is not sent again when its job reruns.
import { Type } from 'typebox';
import { defineTenantTask } from '../jobs/tasks.ts';
import { brandOf } from './brand.ts';
import { SEND_EMAIL_TASK } from './mail.ts';
import { renderMessage } from './render.ts';
import { findOutbox, findOverride, markAttemptFailed, markSent, type EmailDb } from './repository.ts';
import { builtInTemplates, isTemplateName } from './templates.ts';

export const sendEmailTask = defineTenantTask({
  name: SEND_EMAIL_TASK,
  payload: Type.Object({ outboxId: Type.String({ format: 'uuid' }) }),
  maxAttempts: 8,
  async run({ outboxId }, ctx) {
    const db = ctx.db as unknown as EmailDb;
    const row = await findOutbox(db, outboxId);
    if (!row || row.status !== 'queued') return;
    if (!isTemplateName(row.template)) {
      await markAttemptFailed(db, row.id, `Unknown template "${row.template}"`, true);
      return;
    }
    try {
      const override = await findOverride(db, row.template);
      const source = override ?? builtInTemplates[row.template];
      const brand = await brandOf(db, ctx.tenant);
      const message = renderMessage(source, brand, row.data ?? {});
      const mail = ctx.platform.mail;
      const delivered = await mail.transport().deliver({ id: row.id, from: { name: brand.name, address: mail.fromAddress }, to: row.toAddress, ...message });
      await markSent(db, row.id, delivered);
      if (delivered.filePath) ctx.log.info({ outboxId: row.id, template: row.template, file: delivered.filePath }, `email written to ${delivered.filePath} (no SMTP_URL)`);
      else ctx.log.info({ outboxId: row.id, template: row.template, messageId: delivered.messageId }, 'email sent');
    } catch (error) {
      await markAttemptFailed(db, row.id, (error as Error).message, ctx.attempt >= ctx.maxAttempts);
      throw error;
    }
  },
});
