import { DataSource } from 'typeorm';
import { OptionalListColumns, hydrate } from '../../common/paging';
import { EXPOSURE_OPTIONAL_READERS } from '../exposure/exposure.loaders';
import { ExposureEntity } from '../exposure/exposure.entity';
import { AlertEvent } from './alert.type';

/**
 * Every column of ExposureEntity an alert's exposure reads, as property → SQL: the computed ones as of the
 * announced revision (`r`), the rest as the exposure row has them now (`e`). A column missing here answers
 * null or NaN for its field on an alert; test/alert pins an alert's exposure equal to a query's, field by
 * field, and this list equal to the entity's columns.
 */
export const ALERT_EXPOSURE_COLUMNS: Readonly<Record<string, string>> = {
  id: 'e.id',
  incidentId: 'e.incident_id',
  clientId: 'e.client_id',
  firstComputedAt: 'e.first_computed_at',
  reviewNeededAt: 'e.review_needed_at',
  nextDueAt: 'e.next_due_at',
  nextReminderAt: 'e.next_reminder_at',
  lastChange: 'e.last_change',
  notificationStatus: 'e.notification_status',
  notificationDecidedAt: 'e.notification_decided_at',
  notificationDecidedBy: 'e.notification_decided_by',
  notificationReportedAt: 'e.notification_reported_at',
  notificationReference: 'e.notification_reference',
  notificationJustification: 'e.notification_justification',
  revision: 'r.revision',
  score: 'r.score',
  level: 'r.level',
  factors: 'r.factors',
  contractIds: 'r.contract_ids',
  dataCategoriesAtRisk: 'r.data_categories_at_risk',
  specialCategoryData: 'r.special_category_data',
  dataSubjectsAtRisk: 'r.data_subjects_at_risk',
  dataSubjectsAtRiskLow: 'r.data_subjects_at_risk_low',
  dataSubjectsAtRiskHigh: 'r.data_subjects_at_risk_high',
  path: 'r.path',
  awareAt: 'r.aware_at',
  dataAwareAt: 'r.data_aware_at',
  notificationDeadline: 'r.notification_deadline',
  computedAt: 'r.computed_at',
  resolvedAt: 'r.resolved_at',
};

/**
 * The exposure columns an alert reads only when a subscription on the instance selects a field that shows
 * them: those of a list's nodes (EXPOSURE_OPTIONAL_READERS), and the revision's factors, which a list
 * loads by exposure (its current factors) but an alert must read as of its revision. The arrays, the
 * factors and most timestamps are most of the row parsing, and a dashboard selecting `score level`
 * needs none of them. Every other column is always read.
 */
export const ALERT_OPTIONAL_COLUMNS = new OptionalListColumns({
  ...EXPOSURE_OPTIONAL_READERS,
  factors: ['factors', 'obligations', 'icoReportDraft'],
});

/** The exposure properties left out of an alert's read for subscriptions selecting these Exposure fields (null: all). */
export function alertLeaveOut(exposureFields: ReadonlySet<string> | null): string[] {
  return exposureFields === null ? [] : ALERT_OPTIONAL_COLUMNS.leaveOutFor(exposureFields);
}

const ALERT_FIELDS = `a.id::text AS alert_id, a.client_seq::text AS alert_client_seq, a.kind AS alert_kind,
  a.occurred_at AS alert_occurred_at, a.regime AS alert_regime, a.milestone AS alert_milestone, a.due_at AS alert_due_at`;

const ALERTS_OF = (upTo: string) => `
  FROM exposure_alert a
  JOIN exposure e ON e.id = a.exposure_id
  JOIN exposure_revision r ON r.exposure_id = a.exposure_id AND r.revision = a.revision
  WHERE a.id > $1::bigint AND (${upTo} IS NULL OR a.id <= ${upTo})
    AND ($2::uuid[] IS NULL OR a.client_id = ANY($2::uuid[]))`;

interface AlertStatements {
  /** Alerts after a cursor, in id order, each with its exposure as of the announced revision. */
  after: string;
  /**
   * The newest alert id and the first alerts after a cursor up to it, in one statement (one snapshot): what
   * the alert hub reads when woken. One row with only newest_id when there are none.
   */
  newest: string;
}

/** The statements per set of left-out properties (a handful: one per distinct selection on the instance). */
const statementsByLeaveOut = new Map<string, AlertStatements>();

function statementsFor(leaveOut: readonly string[]): AlertStatements {
  const key = leaveOut.join(',');
  let statements = statementsByLeaveOut.get(key);
  if (!statements) {
    const left = new Set(leaveOut);
    const columns = [
      ALERT_FIELDS,
      ...Object.entries(ALERT_EXPOSURE_COLUMNS)
        .filter(([property]) => !left.has(property))
        .map(([, sql]) => sql),
    ].join(', ');
    statements = {
      after: `SELECT ${columns} ${ALERTS_OF('$4::bigint')} ORDER BY a.id LIMIT $3`,
      newest: `
        WITH newest AS (SELECT coalesce(max(id), 0) AS id FROM exposure_alert)
        SELECT newest.id::text AS newest_id, x.*
        FROM newest LEFT JOIN LATERAL (
          SELECT a.id AS alert_seq, ${columns} ${ALERTS_OF('newest.id')} ORDER BY a.id LIMIT $3
        ) x ON true
        ORDER BY x.alert_seq`,
    };
    statementsByLeaveOut.set(key, statements);
  }
  return statements;
}

function alertEventOf(db: DataSource, row: Record<string, unknown>, leaveOut: readonly string[]): AlertEvent {
  return {
    id: row.alert_id as string,
    seq: BigInt(row.alert_id as string),
    clientSeq: row.alert_client_seq as string,
    kind: row.alert_kind as AlertEvent['kind'],
    occurredAt: row.alert_occurred_at as Date,
    clientId: row.client_id as string,
    exposure: hydrate(db, ExposureEntity, row),
    leftOut: leaveOut,
    regime: row.alert_regime as AlertEvent['regime'],
    milestone: row.alert_milestone as AlertEvent['milestone'],
    dueAt: (row.alert_due_at as Date | null) ?? null,
  };
}

/**
 * Alerts after `afterId` (up to `upTo` when given), of these clients only (null: all), their exposures
 * without the properties in `leaveOut` (alertLeaveOut; sorted, as it is part of a statement's key).
 */
export async function alertsAfter(
  db: DataSource,
  afterId: bigint,
  clientIds: string[] | null,
  limit: number,
  upTo: bigint | null = null,
  leaveOut: readonly string[] = [],
): Promise<AlertEvent[]> {
  const rows: Record<string, unknown>[] = await db.query(statementsFor(leaveOut).after, [
    afterId.toString(),
    clientIds,
    limit,
    upTo?.toString() ?? null,
  ]);
  return rows.map((row) => alertEventOf(db, row, leaveOut));
}

/**
 * The newest alert id, and the first `limit` alerts after `afterId` up to it of these clients (null: all):
 * latestAlertId and alertsAfter in one round trip, for the hub's wake-up on each NOTIFY.
 */
export async function newAlerts(
  db: DataSource,
  afterId: bigint,
  clientIds: string[] | null,
  limit: number,
  leaveOut: readonly string[] = [],
): Promise<{ newest: bigint; events: AlertEvent[] }> {
  const rows: Record<string, unknown>[] = await db.query(statementsFor(leaveOut).newest, [
    afterId.toString(),
    clientIds,
    limit,
  ]);
  return {
    newest: BigInt(rows[0].newest_id as string),
    events: rows.filter((row) => row.alert_id !== null).map((row) => alertEventOf(db, row, leaveOut)),
  };
}

export async function latestAlertId(db: DataSource): Promise<bigint> {
  const [row] = await db.query(`SELECT coalesce(max(id), 0)::text AS id FROM exposure_alert`);
  return BigInt(row.id);
}

/**
 * A client's alert number `clientSeq` as a register-wide id (null: not issued yet; 0 stands for "before
 * the first"), and the client's newest number, for the message when it is not issued yet.
 */
export async function clientAlertId(
  db: DataSource,
  clientId: string,
  clientSeq: bigint,
): Promise<{ id: bigint | null; newest: bigint }> {
  const [row] = await db.query(
    `SELECT CASE WHEN $2::bigint = 0 THEN '0' ELSE (SELECT id::text FROM exposure_alert WHERE client_id = $1 AND client_seq = $2) END AS id,
            (SELECT coalesce(max(client_seq), 0)::text FROM exposure_alert WHERE client_id = $1) AS newest`,
    [clientId, clientSeq.toString()],
  );
  return { id: row.id === null ? null : BigInt(row.id), newest: BigInt(row.newest) };
}

/** The client's own number of its newest alert at or before register-wide id `id` (0: none yet). */
export async function clientSeqAt(db: DataSource, clientId: string, id: bigint): Promise<string> {
  const [row] = await db.query(
    `SELECT coalesce((SELECT client_seq FROM exposure_alert WHERE client_id = $1 AND id <= $2 ORDER BY id DESC LIMIT 1), 0)::text AS seq`,
    [clientId, id.toString()],
  );
  return row.seq;
}
