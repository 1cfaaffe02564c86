// graphile-worker logs through its own Logger; route it to pino so worker
// lines are JSON like every other line.
import { Logger } from 'graphile-worker';
import type { FastifyBaseLogger } from 'fastify';

export function graphileLogger(log: FastifyBaseLogger | undefined): Logger {
  return new Logger((scope) => (level, message, meta) => {
    if (!log) return;
    const fields = { ...scope, ...(meta ?? {}) };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else if (level === 'info') log.info(fields, message);
    else log.debug(fields, message);
  });
}
