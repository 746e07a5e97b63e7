import { DataSource } from 'typeorm';
import { hydrate } from '../../common/paging';
import { ExposureEntity } from '../exposure/exposure.entity';
import { AlertEvent } from './alert.type';

/** An alert with its exposure as of the announced revision (`e`, `r`), for ALERTS_AFTER and NEW_ALERTS. */
// Every column of ExposureEntity: the computed ones as of the announced revision, the rest as the exposure
// row has them now (a column left out here answers null or NaN for its field on an alert; test/alert pins
// an alert's exposure equal to a query's, field by field).
const ALERT_COLUMNS = `
  a.id::text AS alert_id, a.client_seq::text AS alert_client_seq, a.kind AS alert_kind, a.occurred_at AS alert_occurred_at,
  a.regime AS alert_regime, a.milestone AS alert_milestone, a.due_at AS alert_due_at,
  e.id, e.incident_id, e.client_id, e.first_computed_at, e.review_needed_at, e.next_due_at, e.next_reminder_at,
  e.last_change,
  e.notification_status, e.notification_decided_at, e.notification_decided_by, e.notification_reported_at,
  e.notification_reference, e.notification_justification,
  r.revision, r.score, r.level, r.factors, r.contract_ids, r.data_categories_at_risk, r.special_category_data,
  r.data_subjects_at_risk, r.data_subjects_at_risk_low, r.data_subjects_at_risk_high, r.path, r.aware_at,
  r.data_aware_at, r.notification_deadline, r.computed_at, r.resolved_at`;

const ALERTS_OF = (upTo: string) => `
  FROM exposure_alert a
  JOIN exposure e ON e.id = a.exposure_id
  JOIN exposure_revision r ON r.exposure_id = a.exposure_id AND r.revision = a.revision
  WHERE a.id > $1::bigint AND (${upTo} IS NULL OR a.id <= ${upTo})
    AND ($2::uuid[] IS NULL OR a.client_id = ANY($2::uuid[]))`;

/** Alerts after a cursor, in id order, each with its exposure as of the announced revision. */
const ALERTS_AFTER = `SELECT ${ALERT_COLUMNS} ${ALERTS_OF('$4::bigint')} ORDER BY a.id LIMIT $3`;

/**
 * The newest alert id and the first alerts after a cursor up to it, in one statement (one snapshot): what
 * the alert hub reads when woken. One row with only newest_id when there are none.
 */
const NEW_ALERTS = `
  WITH newest AS (SELECT coalesce(max(id), 0) AS id FROM exposure_alert)
  SELECT newest.id::text AS newest_id, x.*
  FROM newest LEFT JOIN LATERAL (
    SELECT a.id AS alert_seq, ${ALERT_COLUMNS} ${ALERTS_OF('newest.id')} ORDER BY a.id LIMIT $3
  ) x ON true
  ORDER BY x.alert_seq`;

function alertEventOf(db: DataSource, row: Record<string, unknown>): AlertEvent {
  return {
    id: row.alert_id as string,
    seq: BigInt(row.alert_id as string),
    clientSeq: row.alert_client_seq as string,
    kind: row.alert_kind as AlertEvent['kind'],
    occurredAt: row.alert_occurred_at as Date,
    clientId: row.client_id as string,
    exposure: hydrate(db, ExposureEntity, row),
    regime: row.alert_regime as AlertEvent['regime'],
    milestone: row.alert_milestone as AlertEvent['milestone'],
    dueAt: (row.alert_due_at as Date | null) ?? null,
  };
}

/** Alerts after `afterId` (up to `upTo` when given), of these clients only (null: all). */
export async function alertsAfter(
  db: DataSource,
  afterId: bigint,
  clientIds: string[] | null,
  limit: number,
  upTo: bigint | null = null,
): Promise<AlertEvent[]> {
  const rows: Record<string, unknown>[] = await db.query(ALERTS_AFTER, [
    afterId.toString(),
    clientIds,
    limit,
    upTo?.toString() ?? null,
  ]);
  return rows.map((row) => alertEventOf(db, row));
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
): Promise<{ newest: bigint; events: AlertEvent[] }> {
  const rows: Record<string, unknown>[] = await db.query(NEW_ALERTS, [afterId.toString(), clientIds, limit]);
  return {
    newest: BigInt(rows[0].newest_id as string),
    events: rows.filter((row) => row.alert_id !== null).map((row) => alertEventOf(db, row)),
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
