// For tests of flows that send mail: a real SMTP server (smtp-server) whose
// messages are parsed (mailparser), and an app with a job worker delivering
// to it. The app runs on a database of its own: job workers of other test
// files (email.test.ts runs `email.*` too) share the run's job queue and
// would otherwise deliver this file's mail to their own SMTP server.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { createDatabase } from '../src/platform/db/database.ts';
import { migratePlatform } from '../src/platform/db/platform-migrations.ts';
import { startApp, type Harness } from './helpers.ts';

export interface Mailbox {
  received: ParsedMail[];
  /** The first message to `address` (and matching `filter`), waiting up to `ms`. */
  mailTo(address: string, filter?: (m: ParsedMail) => boolean, ms?: number): Promise<ParsedMail>;
  /** Messages to `address` so far. */
  to(address: string): ParsedMail[];
}

const addressOf = (m: ParsedMail) => (m.to && !Array.isArray(m.to) ? m.to.value[0]?.address?.toLowerCase() : undefined);

export async function until<T>(check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The token of the first link in a mail's text part (`?token=…`). */
export function tokenIn(mail: ParsedMail): string {
  const m = /[?&]token=([A-Za-z0-9_%-]+)/.exec(mail.text ?? '');
  if (!m) throw new Error(`no token link in mail: ${mail.text}`);
  return decodeURIComponent(m[1]!);
}

/** A real SMTP server on a free loopback port keeping every message it accepts, parsed. */
export async function startSmtpSink(opts: { onRcptTo?: SMTPServerOptions['onRcptTo'] } = {}): Promise<{ received: ParsedMail[]; port: number; close(): Promise<void> }> {
  const received: ParsedMail[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    ...(opts.onRcptTo ? { onRcptTo: opts.onRcptTo } : {}),
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return { received, port: (smtp.server.address() as { port: number }).port, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}

export async function startMailApp(config: Record<string, string> = {}): Promise<{ h: Harness; mailbox: Mailbox; close(): Promise<void> }> {
  const smtp = await startSmtpSink();
  const { received, port } = smtp;

  const runUrl = new URL(inject('databaseUrl'));
  const name = `${runUrl.pathname.slice(1)}_m${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: runUrl.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  const { db } = createDatabase({ url: url.toString(), poolMax: 2, statementTimeoutMs: 0 });
  await migratePlatform(db);
  await db.destroy();

  const h = await startApp({
    config: {
      DATABASE_URL: url.toString(),
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      JOBS_IN_API: 'true',
      JOBS_CRON: 'false',
      JOBS_POLL_INTERVAL_MS: '200',
      EMAIL_FROM: 'mail@plinth.test',
      EMAIL_LINK_BASE_URL: 'https://app.plinth.test',
      ...config,
    },
  });
  const mailbox: Mailbox = {
    received,
    to: (address) => received.filter((m) => addressOf(m) === address.toLowerCase()),
    mailTo: (address, filter = () => true, ms) => until(() => received.find((m) => addressOf(m) === address.toLowerCase() && filter(m)), ms),
  };
  return {
    h,
    mailbox,
    async close() {
      await h.close();
      await smtp.close();
      const c = new pg.Client({ connectionString: runUrl.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
