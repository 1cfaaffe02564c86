// HTTP routes of CRM reports: JSON and CSV twins over one service call.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform/module.ts';
import { ctxOf } from '../../platform/http/access-guard.ts';
import { problemResponses } from '../../platform/http/schemas.ts';
import { toCsv } from './csv.ts';
import { ACTIVITY_COLUMNS, CONVERSION_COLUMNS, createReportsService, OUTCOME_COLUMNS, PIPELINE_COLUMNS } from './service.ts';
import { ActivitiesReport, ConversionReport, CsvText, OutcomesReport, PipelineReport, PipelineReportQuery, RangeQuery } from './schemas.ts';

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

  const ranged = [
    ['outcomes', 'Win rate, won amount and average cycle length of deals closed in a date range, per owner', OutcomesReport, OUTCOME_COLUMNS, reports.outcomes],
    ['conversion', 'Stage conversion of the deals created in a date range', ConversionReport, CONVERSION_COLUMNS, reports.conversion],
    ['activities', 'Notes, tasks, calls and meetings per owner in a date range', ActivitiesReport, ACTIVITY_COLUMNS, reports.activities],
  ] as const;
  for (const [name, summary, schema, columns, run] of ranged) {
    app.get(
      `/v1/reports/${name}`,
      { config, schema: { tags, summary, querystring: RangeQuery, response: { 200: schema, ...problemResponses(400, 401, 403, 404) } } },
      // (The loop loses the pairing of report and schema for TypeScript; the schema still shapes the response.)
      async (request) => run(ctxOf(request), request.query) as never,
    );
    app.get(
      `/v1/reports/${name}.csv`,
      { config, schema: { tags, summary: `${summary} (CSV, same rows)`, querystring: RangeQuery, produces: ['text/csv'], response: { 200: CsvText, ...problemResponses(400, 401, 403, 404) } } },
      async (request, reply) => {
        const report = await run(ctxOf(request), request.query);
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(toCsv(columns, report.rows as ReadonlyArray<Record<string, unknown>>));
      },
    );
  }
};
