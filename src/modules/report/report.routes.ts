import type { Response } from 'express';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../common/error-code';
import { encodeGlobalId } from '../../common/global-id';
import { HttpRoutes, RouteHandler, notFound } from '../../transport/http-routes';
import { exposuresByLevelChart, timelineChart, TimelineEvent } from './report.chart';
import { writeCsv, writeXlsx } from './report.export';
import { PAGE_CONTENT_SECURITY_POLICY, boardReportPage, icoReportPage } from './report.html';
import type { BoardReport, ReportLoaders } from './report.service';
import { buildIcoReportDraft, formatInstant } from './ico-draft';

/** Points the timeline draws at most for obligations (the table lists them all). */
const TIMELINE_OBLIGATION_POINTS = 40;

/** A whole page, with the request's SQL statement count as GraphQL answers carry it (pinned in test/report/sql-count.test.ts). */
function sendPage(res: Response, html: string, sqlStatements: number): void {
  res.setHeader('x-sql-statements', String(sqlStatements));
  res.setHeader('content-security-policy', PAGE_CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.type('html').send(html);
}

function attachment(res: Response, type: string, filename: string): void {
  res.setHeader('content-type', type);
  res.setHeader('content-disposition', `attachment; filename="${filename}"`);
  res.setHeader('x-content-type-options', 'nosniff');
}

/** The incident's moments and every group of obligations falling due, oldest first. */
function timelineOf(report: BoardReport): TimelineEvent[] {
  const { incident } = report;
  const events: TimelineEvent[] = [];
  if (incident.startedAt) events.push({ lane: 'Incident', what: 'Incident started', at: incident.startedAt });
  events.push({ lane: 'Incident', what: 'Detected by the supplier', at: incident.detectedAt });
  if (incident.containedAt) events.push({ lane: 'Incident', what: 'Contained', at: incident.containedAt });
  if (incident.clientsNotifiedAt)
    events.push({ lane: 'Incident', what: 'Supplier told its clients', at: incident.clientsNotifiedAt });
  for (const due of report.dues)
    events.push({
      lane: 'Obligations',
      what: `${due.regime} ${due.milestone} due (${due.clients} client${due.clients === 1 ? '' : 's'})${due.overdue ? ', overdue' : ''}`,
      at: due.dueAt,
    });
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** What the timeline chart draws: the incident's moments and the earliest obligation groups (the table lists all). */
function charted(timeline: TimelineEvent[]): TimelineEvent[] {
  let obligations = 0;
  return timeline.filter((e) => e.lane === 'Incident' || ++obligations <= TIMELINE_OBLIGATION_POINTS);
}

/** New loaders for each batch of a long walk, so what earlier batches loaded can be collected. */
function freshLoaders(context: Parameters<RouteHandler>[0]): () => ReportLoaders {
  return () => {
    context.renewLoaders();
    return context.loaders;
  };
}

/**
 * The reports and lists (docs/reports.md). Each handler runs after http-routes.ts has checked the bearer
 * token, taken a rate-limit point and a query slot; every read goes through the viewer's scope, and an id
 * that does not exist or that the viewer may not see is the same 404.
 */
export function mountReportRoutes(routes: HttpRoutes): void {
  routes.get('/exposures/:id/ico-report', async (context, req, res) => {
    const { report } = context.services;
    const exposure = await report.visibleExposure(context.loaders, String(req.params.id));
    if (!exposure) throw notFound('Exposure');
    const facts = await report.icoFacts(context.loaders, exposure);
    sendPage(
      res,
      icoReportPage(facts, buildIcoReportDraft(facts), context.requestId),
      context.scope.sqlStatements,
    );
  });

  routes.get('/incidents/:id/report', async (context, req, res) => {
    const incident = await context.services.report.visibleIncident(context.loaders, String(req.params.id));
    if (!incident) throw notFound('Incident');
    const board = await context.services.report.boardReport(context.viewer, freshLoaders(context), incident);
    const timeline = timelineOf(board);
    const [byLevel, timelineSvg, exposureMap] = await Promise.all([
      exposuresByLevelChart(board.byLevel),
      timelineChart(charted(timeline)),
      // The picture module's exposure map, drawn for the same viewer (a client: its own part only).
      context.services.picture.exposureMapSvg(context.viewer, encodeGlobalId('Incident', incident.id)),
    ]);
    sendPage(
      res,
      boardReportPage(board, { byLevel, timeline: timelineSvg, exposureMap }, timeline, context.requestId),
      context.scope.sqlStatements,
    );
  });

  const list = (format: 'csv' | 'xlsx') =>
    routes.get(`/incidents/:id/exposures.${format}`, async (context, req, res) => {
      const incident = await context.services.report.visibleIncident(context.loaders, String(req.params.id));
      if (!incident) throw notFound('Incident');
      const rows = context.services.report.exposureRows(context.viewer, freshLoaders(context), {
        incidentId: incident.id,
      });
      const name = `exposures-${encodeGlobalId('Incident', incident.id)}`;
      if (format === 'csv') {
        attachment(res, 'text/csv; charset=utf-8', `${name}.csv`);
        await writeCsv(rows, res);
      } else {
        attachment(res, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', `${name}.xlsx`);
        await writeXlsx(rows, res);
      }
    });
  list('csv');
  list('xlsx');

  routes.get('/exposures.csv', async (context, req, res) => {
    const overdue = req.query.overdue;
    if (overdue !== undefined && overdue !== 'true' && overdue !== 'false')
      throw new GraphQLError('overdue must be true or false', {
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      });
    const rows = context.services.report.exposureRows(context.viewer, freshLoaders(context), {
      overdue: overdue === 'true',
    });
    attachment(
      res,
      'text/csv; charset=utf-8',
      `exposures${overdue === 'true' ? '-overdue' : ''}-${formatInstant(new Date()).slice(0, 10)}.csv`,
    );
    await writeCsv(rows, res);
  });
}
