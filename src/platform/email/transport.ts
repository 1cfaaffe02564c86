// Where messages go: SMTP when SMTP_URL is set, else (development) one .eml
// file per message under <data folder>/mail, whose path is logged.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

export interface Delivered {
  messageId: string;
  /** Set when the message was written to a file instead of sent. */
  filePath: string | null;
}

export interface MailTransport {
  deliver(message: Mail.Options & { id: string }): Promise<Delivered>;
  close(): void;
}

export function createMailTransport(opts: { smtpUrl: string | undefined; dataDir: string }): MailTransport {
  if (opts.smtpUrl) {
    const smtp = nodemailer.createTransport(opts.smtpUrl);
    return {
      async deliver(message) {
        const info = await smtp.sendMail(message);
        return { messageId: info.messageId, filePath: null };
      },
      close: () => smtp.close(),
    };
  }
  const files = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const dir = resolve(opts.dataDir, 'mail');
  return {
    async deliver(message) {
      const info = await files.sendMail(message);
      await mkdir(dir, { recursive: true });
      const filePath = join(dir, `${message.id}.eml`);
      await writeFile(filePath, info.message as Buffer);
      return { messageId: info.messageId, filePath };
    },
    close: () => files.close(),
  };
}
