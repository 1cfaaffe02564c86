// One JSON log line per request, written when the response is sent, with the
// request id (taken from X-Request-Id or generated, and echoed back), the
// tenant and the account. Fastify's own two lines per request are turned off:
// they are written before the tenant is known.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export function genRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
}

/** Secrets never reach the logs, wherever they appear in a logged object. */
export const logRedactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.passwordHash',
  '*.accessToken',
  '*.refreshToken',
  '*.privateJwk',
  'err.config.headers.authorization',
];

export function registerRequestLogging(app: FastifyInstance) {
  // Callback hooks here and in the other per-request hooks that never wait: an async one costs a promise and a microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const ctx = request.plinth?.ctx;
    const tenant = ctx?.tenant.slug ?? request.plinth?.publicCtx?.tenant.slug;
    request.log.info(
      {
        req: { method: request.method, url: request.url, ip: request.ip },
        res: { statusCode: reply.statusCode },
        responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
        ...(tenant ? { tenant } : {}),
        ...(ctx ? { accountId: ctx.actor.accountId } : {}),
      },
      'request completed',
    );
    done();
  });
}
