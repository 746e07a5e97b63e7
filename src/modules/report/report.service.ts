import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { SqlParams, hydrate } from '../../common/paging';
import type { ClientLoaders } from '../client/client.loaders';
import { ClientEntity } from '../client/client.entity';
import { ExposureEntity, ExposureLevel, NotificationDecisionEntity } from '../exposure/exposure.entity';
import { ExposureLoaders, ExposureSummaryValue, exposureConditions } from '../exposure/exposure.loaders';
import { ExposureFilter } from '../exposure/exposure.inputs';
import type { IncidentLoaders } from '../incident/incident.loaders';
import { IncidentEntity } from '../incident/incident.entity';
import type { ObligationLoaders } from '../obligation/obligation.loaders';
import { ObligationService } from '../obligation/obligation.service';
import { ObligationStatus, ObligationValue, nextDueAt } from '../obligation/regimes';
import type { SupplierLoaders } from '../supplier/supplier.loaders';
import { SupplierEntity } from '../supplier/supplier.entity';
import { IcoFacts, buildIcoReportDraft } from './ico-draft';
import { IcoAnswer } from './report.type';

/** What the reports read through: the request's loaders (a client-role viewer's see only its own rows). */
export type ReportLoaders = ClientLoaders &
  ExposureLoaders &
  ObligationLoaders &
  IncidentLoaders &
  SupplierLoaders;

/** Exposures read per statement when a report or a list walks all of them. */
export const REPORT_BATCH_SIZE = 500;

/** One exposure with what every report shows of it. */
export interface ReportedExposure {
  exposure: ExposureEntity;
  client: ClientEntity;
  incident: IncidentEntity;
  path: SupplierEntity[];
  obligations: ObligationValue[];
  decisions: NotificationDecisionEntity[];
  nextDueAt: Date | null;
}

/** A group of obligations falling due together, for the board report's timeline. */
export interface ObligationDue {
  regime: string;
  milestone: string;
  dueAt: Date;
  clients: number;
  overdue: boolean;
}

export interface BoardReport {
  incident: IncidentEntity;
  supplier: SupplierEntity;
  summary: ExposureSummaryValue;
  byLevel: { level: ExposureLevel; exposures: number }[];
  /** The earliest open obligation's due time over the visible exposures, and how many clients have it then. */
  nearest: { dueAt: Date; obligations: string[]; clients: number } | null;
  overdueObligations: number;
  clientsWithOverdue: number;
  dues: ObligationDue[];
  top: ReportedExposure[];
  exposuresShown: number;
}

const LEVELS: ExposureLevel[] = [
  ExposureLevel.CRITICAL,
  ExposureLevel.HIGH,
  ExposureLevel.MEDIUM,
  ExposureLevel.LOW,
];

/**
 * The reports that leave the register (docs/reports.md): the ICO draft per exposure, the board report per
 * incident, the exposure lists. Everything is read through the viewer's scope (exposureConditions, the
 * viewer's loaders), so a client-role viewer's report holds its own exposure only. Lists walk the exposures
 * in keyset batches, each with fresh loaders, so a long list streams in bounded memory.
 */
export class ReportService {
  constructor(
    private readonly connection: TransactionalConnection,
    private readonly obligation: ObligationService,
  ) {}

  /** The exposure behind a global id, or null when it does not exist or the viewer may not see it. */
  async visibleExposure(loaders: ReportLoaders, globalId: string): Promise<ExposureEntity | null> {
    const id = decodeIdOf('Exposure', globalId);
    return id ? loaders.exposureById.load(id) : null;
  }

  /** The incident behind a global id, or null when it does not exist or the viewer may not see it. */
  async visibleIncident(loaders: ReportLoaders, globalId: string): Promise<IncidentEntity | null> {
    const id = decodeIdOf('Incident', globalId);
    return id ? loaders.incidentById.load(id) : null;
  }

  async icoFacts(loaders: ReportLoaders, exposure: ExposureEntity): Promise<IcoFacts> {
    const [incident, client, decisions, factors] = await Promise.all([
      loaders.incidentById.load(exposure.incidentId),
      loaders.clientById.load(exposure.clientId),
      loaders.notificationDecisions.load(exposure.id),
      exposure.factors ?? loaders.exposureFactors.load(exposure.id),
    ]);
    if (!incident || !client) throw new Error(`Incident or client of exposure ${exposure.id} not found`);
    const withFactors = Object.assign(exposure, { factors });
    const [supplier, path, obligations] = await Promise.all([
      loaders.supplierById.load(incident.supplierId),
      loadAll(loaders.supplierById, exposure.path),
      this.obligation.obligations(loaders, withFactors),
    ]);
    if (!supplier) throw new Error(`Supplier of incident ${incident.id} not found`);
    return { exposure: withFactors, incident, client, supplier, path, obligations, decisions };
  }

  async icoReportDraft(loaders: ReportLoaders, exposure: ExposureEntity): Promise<IcoAnswer[]> {
    return buildIcoReportDraft(await this.icoFacts(loaders, exposure));
  }

  /**
   * The viewer's open exposures (of one incident, or of all; `overdue`: only those with an obligation past
   * its deadline and no decision, the exposure filter's own rule over the stored next due time), highest
   * score first, batch by batch.
   */
  async *visibleExposureBatches(
    viewer: Viewer,
    scope: { incidentId?: string; overdue?: boolean },
    batchSize = REPORT_BATCH_SIZE,
  ): AsyncGenerator<ExposureEntity[]> {
    const db = this.connection.manager;
    let after: { score: number; id: string } | null = null;
    for (;;) {
      const params = new SqlParams();
      const where = exposureConditions(
        viewer,
        scope.overdue ? Object.assign(new ExposureFilter(), { overdue: true }) : null,
        params,
      );
      if (scope.incidentId) where.push(`t.incident_id = ${params.param(scope.incidentId)}::uuid`);
      if (after)
        where.push(
          `(t.score, t.id) < (${params.param(after.score)}::integer, ${params.param(after.id)}::uuid)`,
        );
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT t.* FROM exposure t WHERE ${where.join(' AND ')} ORDER BY t.score DESC, t.id DESC LIMIT ${batchSize}`,
        params.values,
      );
      const batch = rows.map((row) => hydrate(db, ExposureEntity, row));
      if (batch.length) yield batch;
      if (batch.length < batchSize) return;
      const last = batch[batch.length - 1]!;
      after = { score: last.score, id: last.id };
    }
  }

  /** One batch with its clients, incidents, paths and obligations, read through the loaders (a few statements per batch). */
  async describe(loaders: ReportLoaders, batch: ExposureEntity[]): Promise<ReportedExposure[]> {
    return Promise.all(
      batch.map(async (exposure) => {
        const [client, incident, path, decisions, obligations] = await Promise.all([
          loaders.clientById.load(exposure.clientId),
          loaders.incidentById.load(exposure.incidentId),
          loadAll(loaders.supplierById, exposure.path),
          loaders.notificationDecisions.load(exposure.id),
          this.obligation.obligations(loaders, exposure),
        ]);
        if (!client || !incident) throw new Error(`Client or incident of exposure ${exposure.id} not found`);
        return {
          exposure,
          client,
          incident,
          path,
          obligations,
          decisions,
          nextDueAt: nextDueAt(obligations),
        };
      }),
    );
  }

  /**
   * Every exposure of a list, described, batch by batch; `freshLoaders` gives each batch new loaders so
   * nothing accumulates over a long list.
   */
  async *exposureRows(
    viewer: Viewer,
    freshLoaders: () => ReportLoaders,
    scope: { incidentId?: string; overdue?: boolean },
  ): AsyncGenerator<ReportedExposure> {
    for await (const batch of this.visibleExposureBatches(viewer, scope)) {
      for (const row of await this.describe(freshLoaders(), batch)) {
        yield row;
      }
    }
  }

  /** The board report of one incident the viewer may see (the caller checked visibility). */
  async boardReport(
    viewer: Viewer,
    freshLoaders: () => ReportLoaders,
    incident: IncidentEntity,
    topCount = 10,
  ): Promise<BoardReport> {
    const loaders = freshLoaders();
    const [supplier, summary] = await Promise.all([
      loaders.supplierById.load(incident.supplierId),
      loaders.exposureSummaryByIncident.load(incident.id),
    ]);
    if (!supplier) throw new Error(`Supplier of incident ${incident.id} not found`);
    const top: ReportedExposure[] = [];
    const dues = new Map<string, ObligationDue>();
    let nearest: BoardReport['nearest'] = null;
    let overdueObligations = 0;
    let clientsWithOverdue = 0;
    let exposuresShown = 0;
    for await (const row of this.exposureRows(viewer, freshLoaders, { incidentId: incident.id })) {
      exposuresShown += 1;
      if (top.length < topCount) top.push(row);
      const overdueHere = row.obligations.filter((o) => o.status === ObligationStatus.OVERDUE).length;
      overdueObligations += overdueHere;
      if (overdueHere) clientsWithOverdue += 1;
      if (row.nextDueAt) {
        const dueThen = row.obligations
          .filter((o) => o.dueAt?.getTime() === row.nextDueAt!.getTime() && isOpen(o))
          .map((o) => `${o.regime} ${o.milestone}`);
        if (!nearest || row.nextDueAt < nearest.dueAt)
          nearest = { dueAt: row.nextDueAt, obligations: dueThen, clients: 1 };
        else if (row.nextDueAt.getTime() === nearest.dueAt.getTime()) {
          nearest.clients += 1;
          nearest.obligations = [...new Set([...nearest.obligations, ...dueThen])];
        }
      }
      for (const o of row.obligations) {
        if (!o.dueAt || !isOpen(o)) continue;
        const key = `${o.regime}/${o.milestone}/${o.dueAt.toISOString()}`;
        const due = dues.get(key) ?? {
          regime: o.regime,
          milestone: o.milestone,
          dueAt: o.dueAt,
          clients: 0,
          overdue: o.status === ObligationStatus.OVERDUE,
        };
        due.clients += 1;
        dues.set(key, due);
      }
    }
    const counts: Record<ExposureLevel, number> = {
      CRITICAL: summary.critical,
      HIGH: summary.high,
      MEDIUM: summary.medium,
      LOW: summary.low,
    };
    return {
      incident,
      supplier,
      summary,
      byLevel: LEVELS.map((level) => ({ level, exposures: counts[level] })),
      nearest,
      overdueObligations,
      clientsWithOverdue,
      dues: [...dues.values()].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime()),
      top,
      exposuresShown,
    };
  }
}

function isOpen(o: ObligationValue): boolean {
  return (
    o.status === ObligationStatus.OPEN ||
    o.status === ObligationStatus.DUE_SOON ||
    o.status === ObligationStatus.OVERDUE
  );
}

async function loadAll<T>(
  loader: { loadMany(keys: readonly string[]): Promise<(T | null | Error)[]> },
  ids: string[],
): Promise<T[]> {
  const rows = await loader.loadMany(ids);
  return rows.filter((row): row is T => row !== null && !(row instanceof Error));
}
