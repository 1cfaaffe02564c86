// HTTP routes of duplicate detection, merge (with dry-run preview) and undo.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import type { RequestContext } from '../../platform/context.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { IdParams, Nullable, problemResponses, Uuid } from '../../platform/http/schemas.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import { presentCustom } from '../custom-fields/values.ts';
import type { CustomFieldsTables } from '../custom-fields/tables.ts';
import { companyDuplicates, contactDuplicates } from './duplicates.ts';
import { mergeRecords, undoMerge, type MergeType } from './merge.ts';

const DuplicatesQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }) }, { additionalProperties: false });
const Duplicates = Type.Object({
  data: Type.Array(
    Type.Object({
      id: Uuid,
      label: Type.String(),
      detail: Nullable(Type.String()),
      score: Type.Number({ description: '0..1, highest reason wins' }),
      reasons: Type.Array(Type.String(), { description: 'same_domain, same_domain_name, same_email, same_phone, similar_name' }),
    }),
  ),
});
const Side = Type.Union([Type.Literal('target'), Type.Literal('source')]);
const MergeBody = Type.Object(
  {
    sourceId: Uuid,
    prefer: Type.Optional(Type.Record(Type.String(), Side, { description: "Per field, whose value wins; by default the target's, or the source's where the target has none" })),
    dryRun: Type.Optional(Type.Boolean({ description: 'Preview the merged record and what would move, without writing' })),
  },
  { additionalProperties: false },
);
const MergeResult = Type.Object({
  mergeId: Nullable(Uuid),
  record: Type.Record(Type.String(), Type.Unknown()),
  moved: Type.Object({ deals: Type.Integer(), activities: Type.Integer() }),
});
const UndoResult = Type.Object({ mergeId: Uuid, recordType: Type.String(), targetId: Uuid, sourceId: Uuid });

export const mergeRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app) => {
  const show = async (ctx: RequestContext, type: MergeType, result: Awaited<ReturnType<typeof mergeRecords>>) => {
    if (type !== 'company') return result;
    const fields = await fieldsOf(ctx.db.withTables<CustomFieldsTables>(), 'company');
    return { ...result, record: { ...result.record, custom: presentCustom(fields, result.record.custom as Record<string, unknown>) } };
  };
  for (const [type, path, read, remove] of [
    ['company', 'companies', 'crm.companies.read', 'crm.companies.delete'],
    ['contact', 'contacts', 'crm.contacts.read', 'crm.contacts.delete'],
  ] as const) {
    const tags = [path, 'duplicates'];
    app.get(
      `/v1/${path}/:id/duplicates`,
      { config: { permission: read }, schema: { tags, summary: `Likely duplicates of a ${type}, with reasons and a score`, params: IdParams, querystring: DuplicatesQuery, response: { 200: Duplicates, ...problemResponses(400, 401, 403, 404) } } },
      async (request) => {
        const ctx = ctxOf(request);
        const find = type === 'company' ? companyDuplicates : contactDuplicates;
        return { data: await find(ctx.db, ctx.tenant.schemaName, request.params.id, request.query.limit) };
      },
    );
    app.post(
      `/v1/${path}/:id/merge`,
      {
        config: { permission: remove },
        schema: { tags, summary: `Merge another ${type} (sourceId) into this one; dryRun previews it. Undo with /v1/merges/{mergeId}/undo`, params: IdParams, body: MergeBody, response: { 200: MergeResult, ...problemResponses(400, 401, 403, 404, 409, 422) } },
      },
      async (request) => {
        const ctx = ctxOf(request);
        return show(ctx, type, await mergeRecords(ctx, type, request.params.id, request.body));
      },
    );
  }
  app.post(
    '/v1/merges/:id/undo',
    { config: { permission: 'crm.merges.undo' }, schema: { tags: ['duplicates'], summary: 'Undo a merge: both records and their links as before', params: IdParams, response: { 200: UndoResult, ...problemResponses(400, 401, 403, 404, 409) } } },
    async (request) => undoMerge(ctxOf(request), request.params.id),
  );
};
