// HTTP routes of CSV imports: POST /v1/imports/{companies,contacts,deals}
// (text/csv body, streamed) answers 202 with the queued import; GET
// /v1/imports/:id follows it. Starting an import needs the write permission
// of the object imported.
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, Nullable, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import { createImportsService } from './service.ts';
import { SPECS } from './specs.ts';
import type { ImportObject } from './tables.ts';

const Counts = {
  rows: Type.Integer({ description: 'Rows in the file' }),
  processed: Type.Integer({ description: 'Rows validated (and written, unless dry run) so far' }),
  created: Type.Integer(),
  updated: Type.Integer(),
  skipped: Type.Integer(),
  notWritten: Type.Integer({ description: 'Rows of batches that had a bad row: a batch is written whole or not at all' }),
  errorCount: Type.Integer(),
};
const ImportBase = {
  id: Uuid,
  object: Type.Union([Type.Literal('company'), Type.Literal('contact'), Type.Literal('deal')]),
  status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  dryRun: Type.Boolean(),
  onDuplicate: Type.String(),
  mapping: Type.Record(Type.String(), Type.String()),
  filename: Nullable(Type.String()),
  ...Counts,
  failure: Nullable(Type.String({ description: 'Why the job gave up (after its retries)' })),
  createdBy: Uuid,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
};
export const ImportSchema = Type.Object(
  { ...ImportBase, errors: Type.Array(Type.Object({ line: Type.Integer(), field: Nullable(Type.String()), detail: Type.String() }), { description: 'Per-row errors, by line (the first 1000)' }) },
  { $id: 'Import' },
);
const ImportSummary = Type.Object(ImportBase, { $id: 'ImportSummary' });

const StartQuery = Type.Object(
  {
    dryRun: Type.Boolean({ default: false, description: 'Validate every row and report errors; write nothing' }),
    onDuplicate: Type.Union([Type.Literal('skip'), Type.Literal('update'), Type.Literal('create')], {
      default: 'skip',
      description: 'Rows matching a live record (company: normalised domain; contact: primary email; deal: name)',
    }),
    batchSize: Type.Integer({ minimum: 1, maximum: 1000, default: 500, description: 'Rows per transaction' }),
    mapping: Type.Optional(Type.String({ maxLength: 4000, description: 'JSON object: CSV header → field; headers named like a field map to it' })),
    filename: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Re-sending an upload with the same key returns the first import' })) });

const PLURAL: Record<ImportObject, 'companies' | 'contacts' | 'deals'> = { company: 'companies', contact: 'contacts', deal: 'deals' };

function parseMapping(text: string | undefined): Record<string, string> {
  if (!text) return {};
  let mapping: unknown;
  try {
    mapping = JSON.parse(text);
  } catch {
    mapping = null;
  }
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping) || Object.values(mapping).some((v) => typeof v !== 'string')) {
    throw new AppError('validation_failed', 'mapping must be a JSON object of strings', { errors: [{ in: 'query', pointer: '/mapping', detail: 'not a JSON object of strings' }] });
  }
  return mapping as Record<string, string>;
}

export const importRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const imports = createImportsService(platform);
  app.addSchema(ImportSchema);
  app.addSchema(ImportSummary);
  // CSV bodies reach the handler as a stream (parsed row by row, never buffered whole).
  app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));
  const tags = ['imports'];

  for (const object of ['company', 'contact', 'deal'] as const) {
    const plural = PLURAL[object];
    app.post(
      `/v1/imports/${plural}`,
      {
        config: { permission: `crm.${plural}.write` },
        schema: {
          tags,
          summary: `Import ${plural} from a CSV body (text/csv) as a background job; follow it with GET /v1/imports/{id}`,
          description: `Fields: ${[...SPECS[object].fields, ...(SPECS[object].custom ? ['custom.<key>'] : [])].join(', ')}.`,
          querystring: StartQuery,
          headers: IdempotencyHeaders,
          consumes: ['text/csv'],
          response: { 200: Type.Ref('Import'), 202: Type.Ref('Import'), ...problemResponses(400, 401, 403, 415) },
        },
      },
      async (request, reply) => {
        if (!String(request.headers['content-type'] ?? '').startsWith('text/csv')) throw new AppError('unsupported_media_type', 'Send the CSV as the body with content-type: text/csv');
        const ctx = ctxOf(request);
        const mapping = parseMapping(request.query.mapping);
        const key = request.headers['idempotency-key'];
        const body = request.body as Readable;
        if (key) {
          const first = await imports.findByKey(ctx, key);
          if (first) {
            body.resume(); // the bytes were received once already
            return reply.code(200).send(first);
          }
        }
        const { import: started, replayed } = await imports.start(ctx, { object, ...request.query, mapping, idempotencyKey: key }, body);
        return reply.code(replayed ? 200 : 202).send(started);
      },
    );
  }

  app.get(
    '/v1/imports',
    {
      config: { permission: 'crm.imports.read' },
      schema: {
        tags,
        summary: 'Imports, newest first (within your record scope: your own with an own scope)',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), object: Type.Optional(Type.Union([Type.Literal('company'), Type.Literal('contact'), Type.Literal('deal')])) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(Type.Ref('ImportSummary')) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => imports.list(ctxOf(request), request.query),
  );

  app.get(
    '/v1/imports/:id',
    {
      config: { permission: 'crm.imports.read' },
      schema: { tags, summary: 'An import: status, progress, counts and per-row errors (line and field)', params: IdParams, response: { 200: Type.Ref('Import'), ...problemResponses(400, 401, 403, 404) } },
    },
    async (request) => imports.get(ctxOf(request), request.params.id),
  );
};
