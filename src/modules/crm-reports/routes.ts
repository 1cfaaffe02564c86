// HTTP routes of CRM reports: JSON and CSV twins over one service call.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { problemResponses } from '../../platform/http/schemas.ts';
import { toCsv } from './csv.ts';
import { createReportsService, PIPELINE_COLUMNS } from './service.ts';
import { CsvText, PipelineReport, PipelineReportQuery } from './schemas.ts';

export const reportRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app) => {
  const reports = createReportsService();
  const tags = ['reports'];
  const config = { permission: 'crm.reports.read' };

  app.get(
    '/v1/reports/pipeline',
    { config, schema: { tags, summary: 'Pipeline by stage (count, amount, weighted) at a point in time', querystring: PipelineReportQuery, response: { 200: PipelineReport, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => reports.pipeline(ctxOf(request), request.query),
  );
  app.get(
    '/v1/reports/pipeline.csv',
    { config, schema: { tags, summary: 'The pipeline report as CSV', querystring: PipelineReportQuery, produces: ['text/csv'], response: { 200: CsvText, ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      const report = await reports.pipeline(ctxOf(request), request.query);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="pipeline.csv"').send(toCsv(PIPELINE_COLUMNS, report.rows));
    },
  );
};
