// Graceful shutdown. Fastify stops accepting connections on close and waits
// for in-flight requests, but a keep-alive client that just got its answer
// keeps its socket open and close() would wait for it. While draining, every
// response therefore asks the client to close the connection.
import type { FastifyInstance } from 'fastify';

export function registerDraining(app: FastifyInstance): { isDraining(): boolean } {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
    app.server.closeIdleConnections?.();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  return { isDraining: () => draining };
}
