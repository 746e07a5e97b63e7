import { DataSource } from 'typeorm';
import { Viewer, forbidden } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { Connection, PageArgs, SqlParams, childConnection, hydrate, pageQuery } from '../../common/paging';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid } from '../../common/validation';
import type { Context } from '../../context';
import { ExposureEntity, ExposureRevisionEntity, NotificationStatus } from './exposure.entity';
import { ExposureFilter, RecordNotificationDecisionInput } from './exposure.inputs';
import { EXPOSURE_ORDER, exposureConditions, plainFilter } from './exposure.loaders';

export interface ExposureSummaryValue {
  clientsExposed: number;
  clientsWithSpecialCategoryData: number;
  peopleAtRisk: number;
  contractValueInvolved: { amount: string; currency: string }[];
  nearestDeadline: Date | null;
  critical: number;
  high: number;
  medium: number;
  low: number;
}

export class ExposureService {
  constructor(private readonly db: DataSource) {}

  list(viewer: Viewer, filter: ExposureFilter | null | undefined, page: PageArgs): Promise<Connection<ExposureEntity>> {
    const params = new SqlParams();
    return pageQuery(this.db, { entity: ExposureEntity, from: 'exposure t', where: exposureConditions(viewer, filter, params), params, order: EXPOSURE_ORDER, descending: true }, page);
  }

  pageForClient(ctx: Context, clientId: string, page: PageArgs, filter: ExposureFilter | null | undefined): Promise<Connection<ExposureEntity>> {
    const key = { parentId: clientId, filter: plainFilter(filter) };
    return childConnection(ctx.loaders.exposurePagesByClient.load({ ...key, ...page }), page, EXPOSURE_ORDER, () => ctx.loaders.exposureCountsByClient.load(key));
  }

  pageForIncident(ctx: Context, incidentId: string, page: PageArgs, filter: ExposureFilter | null | undefined): Promise<Connection<ExposureEntity>> {
    const key = { parentId: incidentId, filter: plainFilter(filter) };
    return childConnection(ctx.loaders.exposurePagesByIncident.load({ ...key, ...page }), page, EXPOSURE_ORDER, () => ctx.loaders.exposureCountsByIncident.load(key));
  }

  /** The incident-level figures, over the exposures the viewer may see (a client: only its own). */
  async summary(viewer: Viewer, incidentId: string): Promise<ExposureSummaryValue> {
    const params = new SqlParams();
    const where = [`t.incident_id = ${params.param(incidentId)}::uuid`, ...exposureConditions(viewer, null, params)];
    const [row] = await this.db.query(
      `WITH visible AS (SELECT t.* FROM exposure t WHERE ${where.join(' AND ')}),
            contract_values AS (
              SELECT c.value_currency AS currency, sum(c.value_amount)::text AS amount
              FROM contract c WHERE c.value_amount IS NOT NULL
                AND c.id IN (SELECT unnest(contract_ids) FROM visible)
              GROUP BY c.value_currency)
       SELECT count(*)::int AS clients_exposed,
              count(*) FILTER (WHERE special_category_data)::int AS special,
              coalesce(sum(data_subjects_at_risk), 0)::float8 AS people,
              -- No personal data at risk means no personal data breach to report, so no deadline to meet.
              min(notification_deadline) FILTER (WHERE notification_status = 'ASSESSING' AND cardinality(data_categories_at_risk) > 0) AS nearest_deadline,
              count(*) FILTER (WHERE level = 'CRITICAL')::int AS critical,
              count(*) FILTER (WHERE level = 'HIGH')::int AS high,
              count(*) FILTER (WHERE level = 'MEDIUM')::int AS medium,
              count(*) FILTER (WHERE level = 'LOW')::int AS low,
              (SELECT coalesce(json_agg(json_build_object('amount', amount, 'currency', currency) ORDER BY currency), '[]') FROM contract_values) AS money
       FROM visible`,
      params.values,
    );
    return {
      clientsExposed: row.clients_exposed,
      clientsWithSpecialCategoryData: row.special,
      peopleAtRisk: row.people,
      contractValueInvolved: row.money,
      nearestDeadline: row.nearest_deadline,
      critical: row.critical,
      high: row.high,
      medium: row.medium,
      low: row.low,
    };
  }

  history(exposureId: string): Promise<ExposureRevisionEntity[]> {
    return this.db.getRepository(ExposureRevisionEntity).find({ where: { exposureId }, order: { revision: 'ASC' } });
  }

  /** Rule 10: what the register said about the exposure at `at` (null: it did not exist yet). */
  async asOf(exposureId: string, at: Date): Promise<(ExposureRevisionEntity & { decision: Record<string, unknown> | null }) | null> {
    const [row] = await this.db.query(
      `SELECT r.*, (SELECT row_to_json(d) FROM notification_decision d WHERE d.exposure_id = r.exposure_id AND d.decided_at <= $2
                     ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) AS decision
       FROM exposure_revision r WHERE r.exposure_id = $1 AND r.recorded_at <= $2 ORDER BY r.revision DESC LIMIT 1`,
      [exposureId, at],
    );
    return row ? Object.assign(hydrate(this.db, ExposureRevisionEntity, row), { decision: row.decision }) : null;
  }

  /** Rule 9: admin, or the exposed client itself; REPORTED needs reportedAt, NOT_REQUIRED a justification. */
  async recordDecision(viewer: Viewer, input: RecordNotificationDecisionInput): Promise<ExposureEntity> {
    if (viewer.role === 'analyst') throw forbidden('Only an admin or the exposed client may record a notification decision');
    await assertValid(input);
    const problems: UserError[] = [];
    if (input.status === NotificationStatus.REPORTED && !input.reportedAt) problems.push(userError(['input', 'reportedAt'], UserErrorCode.INVALID, 'reportedAt is required when the status is REPORTED'));
    if (input.reportedAt && input.reportedAt.getTime() > Date.now() + 60_000) problems.push(userError(['input', 'reportedAt'], UserErrorCode.INVALID, 'reportedAt must not be in the future'));
    if (input.status !== NotificationStatus.REPORTED && input.reportedAt) problems.push(userError(['input', 'reportedAt'], UserErrorCode.INVALID, 'reportedAt is only for the status REPORTED'));
    if (input.status === NotificationStatus.NOT_REQUIRED && !input.justification?.trim()) problems.push(userError(['input', 'justification'], UserErrorCode.INVALID, 'A justification is required when no report is made (NOT_REQUIRED)'));
    if (problems.length) throw new UserInputProblem(problems);
    return this.db.transaction(async (manager) => {
      const id = decodeIdOf('Exposure', input.exposureId);
      const exposure = id ? await manager.findOne(ExposureEntity, { where: { id }, lock: { mode: 'pessimistic_write' } }) : null;
      // Another client's exposure answers exactly like a missing one.
      if (!exposure || (viewer.role === 'client' && exposure.clientId !== viewer.clientId)) {
        throw new UserInputProblem([userError(['input', 'exposureId'], UserErrorCode.NOT_FOUND, 'No exposure you may see has this ID')]);
      }
      const [{ decided_at: decidedAt }] = await manager.query(
        `INSERT INTO notification_decision (exposure_id, status, reported_at, reference, justification, decided_by_subject, decided_by_role, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, statement_timestamp()) RETURNING decided_at`,
        [exposure.id, input.status, input.reportedAt ?? null, input.reference?.trim() || null, input.justification?.trim() || null, viewer.subject, viewer.role],
      );
      exposure.notificationStatus = input.status;
      exposure.notificationDecidedAt = decidedAt;
      exposure.notificationDecidedBy = viewer.subject;
      exposure.notificationReportedAt = input.reportedAt ?? null;
      exposure.notificationReference = input.reference?.trim() || null;
      exposure.notificationJustification = input.justification?.trim() || null;
      return manager.save(exposure);
    });
  }
}
