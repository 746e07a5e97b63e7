import { createHmac, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Viewer } from '../../auth/viewer';
import { encodeGlobalId } from '../../common/global-id';
import { AlertKind } from '../alert/alert.entity';
import { createClientLoaders } from '../client/client.loaders';
import { createExposureLoaders } from '../exposure/exposure.loaders';
import { createObligationLoaders } from '../obligation/obligation.loaders';
import type { ObligationService } from '../obligation/obligation.service';
import { nextDueAt } from '../obligation/regimes';

/**
 * What goes on the wire, by the Standard Webhooks specification (standardwebhooks.com): secrets are
 * `whsec_` + base64 of random bytes; each message carries webhook-id, webhook-timestamp (Unix seconds) and
 * webhook-signature, a space-separated list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per
 * secret in use (two during a rotation's overlap). The tests verify it with the spec's own package.
 */

/** A new signing secret: 32 random bytes, as the spec writes them. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function signature(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export function signedHeaders(
  secrets: string[],
  webhookId: string,
  sentAt: Date,
  body: string,
): Record<string, string> {
  const timestamp = Math.floor(sentAt.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'supplier-risk-register-webhooks/1',
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signature(secret, webhookId, timestamp, body)).join(' '),
  };
}

/** The retry schedule (config: WEBHOOK_RETRY_*), in milliseconds. */
export interface RetrySchedule {
  baseMs: number;
  maxDelayMs: number;
  /** From the first failed attempt at an alert to the endpoint being disabled. */
  windowMs: number;
}

/**
 * The wait after the n-th failed attempt at one alert: base × 2^(n−1), capped, with "equal jitter" (a
 * random 50–100 % of it), so endpoints that failed together do not all retry together.
 */
export function retryDelayMs(failedAttempts: number, schedule: RetrySchedule, random: () => number): number {
  const nominal = Math.min(schedule.maxDelayMs, schedule.baseMs * 2 ** Math.min(failedAttempts - 1, 40));
  return Math.round(nominal * (0.5 + random() * 0.5));
}

/** One alert as an endpoint will receive it. */
export interface PendingAlert {
  alertId: string;
  /** The webhook-id: client_seq for a client's endpoint, the register-wide id for an all-clients endpoint. */
  webhookId: string;
  occurredAt: Date;
  body: string;
}

/** What pendingAlerts needs of an endpoint: whose alerts, which kinds, and after which one. */
export interface AlertReader {
  id: string;
  clientId: string | null;
  kinds: string[];
  cursor: string;
}

/**
 * The alerts every given endpoint has not acknowledged, up to $4 each, in order, with the alert's own
 * revision and the names around it: one statement for all the endpoints a claim took. Two branches per
 * endpoint so each uses its index: a client's endpoint reads (client_id, id), an all-clients one the id order.
 */
const PENDING_ALERTS = `
  SELECT k.endpoint_id, a.id::text AS alert_id, a.client_seq::text AS client_seq, a.kind, a.occurred_at, a.revision,
         a.regime AS obligation_regime, a.milestone AS obligation_milestone, a.due_at AS obligation_due_at,
         a.exposure_id, r.score, r.level, r.data_categories_at_risk, r.special_category_data,
         r.data_subjects_at_risk::text AS data_subjects_at_risk, r.data_subjects_at_risk_low::text AS data_subjects_at_risk_low,
         r.data_subjects_at_risk_high::text AS data_subjects_at_risk_high,
         r.aware_at, r.notification_deadline, r.resolved_at,
         c.id AS client_id, c.name AS client_name,
         i.id AS incident_id, i.title AS incident_title, i.kind AS incident_kind, i.status AS incident_status,
         i.detected_at AS incident_detected_at, s.id AS supplier_id, s.name AS supplier_name
  FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS k(endpoint_id, client_id, cursor)
  JOIN webhook_endpoint w ON w.id = k.endpoint_id
  CROSS JOIN LATERAL (
    (SELECT * FROM exposure_alert a WHERE k.client_id IS NULL AND a.id > k.cursor AND a.kind = ANY(w.kinds)
     ORDER BY a.id LIMIT $4)
    UNION ALL
    (SELECT * FROM exposure_alert a WHERE a.client_id = k.client_id AND a.id > k.cursor AND a.kind = ANY(w.kinds)
     ORDER BY a.client_id, a.id LIMIT $4)
  ) a
  JOIN exposure_revision r ON r.exposure_id = a.exposure_id AND r.revision = a.revision
  JOIN client c ON c.id = a.client_id
  JOIN incident i ON i.id = a.incident_id
  JOIN supplier s ON s.id = i.supplier_id
  ORDER BY k.endpoint_id, a.id`;

const TYPE_OF_KIND: Record<AlertKind, string> = {
  [AlertKind.NEW]: 'exposure.new',
  [AlertKind.CHANGED]: 'exposure.changed',
  [AlertKind.RESOLVED]: 'exposure.resolved',
  [AlertKind.REVIEW_NEEDED]: 'exposure.review_needed',
  [AlertKind.DUE_SOON]: 'obligation.due_soon',
  [AlertKind.OVERDUE]: 'obligation.overdue',
};

const iso = (value: unknown): string | null => (value ? new Date(value as string).toISOString() : null);

/** The register itself, reading for the worker: alerts are already scoped to each endpoint's client. */
const WORKER_VIEWER: Viewer = { subject: 'webhook-worker', role: 'admin', clientId: null };

/**
 * The pending alerts of several endpoints, keyed by endpoint id, each list in alert order. The exposure's
 * obligations and next due date come from ObligationService.obligations, the computation behind
 * Exposure.obligations and Exposure.nextDueAt in the API, over loaders made for this batch: whatever the
 * number of endpoints and alerts, the batch costs the alerts' statement plus one per loader (the exposures,
 * their clients, triggers, decisions and revisions).
 */
export async function pendingAlerts(
  db: DataSource,
  obligations: ObligationService,
  endpoints: readonly AlertReader[],
  limit: number,
): Promise<Map<string, PendingAlert[]>> {
  const pending = new Map<string, PendingAlert[]>(endpoints.map((e) => [e.id, []]));
  if (!endpoints.length) return pending;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw rows of PENDING_ALERTS, read column by column below
  const rows: Record<string, any>[] = await db.query(PENDING_ALERTS, [
    endpoints.map((e) => e.id),
    endpoints.map((e) => e.clientId),
    endpoints.map((e) => e.cursor),
    limit,
  ]);
  if (!rows.length) return pending;
  const loaders = {
    ...createClientLoaders(db, WORKER_VIEWER),
    ...createExposureLoaders(db, WORKER_VIEWER),
    ...createObligationLoaders(db),
  };
  const exposureIds = [...new Set(rows.map((row) => row.exposure_id as string))];
  const current = new Map(
    await Promise.all(
      exposureIds.map(async (id) => {
        const exposure = await loaders.exposureById.load(id);
        const values = exposure ? await obligations.obligations(loaders, exposure) : [];
        return [id, { exposure, obligations: values }] as const;
      }),
    ),
  );
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  for (const row of rows) {
    const endpoint = byId.get(row.endpoint_id)!;
    const webhookId = endpoint.clientId === null ? row.alert_id : row.client_seq;
    const occurredAt = new Date(row.occurred_at);
    const { exposure, obligations: values } = current.get(row.exposure_id)!;
    // The fields a portal needs to act without calling back: who, what, how bad, and by when. The figures
    // are the revision the alert announces; the obligations are as of sending (computed at read time, as
    // the API computes them), so a retried alert carries the clocks' current status.
    const payload = {
      type: TYPE_OF_KIND[row.kind as AlertKind],
      timestamp: occurredAt.toISOString(),
      data: {
        alertId: webhookId,
        kind: row.kind,
        occurredAt: occurredAt.toISOString(),
        client: { id: encodeGlobalId('Client', row.client_id), name: row.client_name },
        incident: {
          id: encodeGlobalId('Incident', row.incident_id),
          title: row.incident_title,
          kind: row.incident_kind,
          status: row.incident_status,
          detectedAt: iso(row.incident_detected_at),
        },
        supplier: { id: encodeGlobalId('Supplier', row.supplier_id), name: row.supplier_name },
        // DUE_SOON and OVERDUE: the obligation reminded of (null for the other kinds).
        obligation: row.obligation_regime
          ? {
              regime: row.obligation_regime,
              milestone: row.obligation_milestone,
              dueAt: iso(row.obligation_due_at),
            }
          : null,
        exposure: {
          id: encodeGlobalId('Exposure', row.exposure_id),
          revision: row.revision,
          level: row.level,
          score: row.score,
          awareAt: iso(row.aware_at),
          notificationDeadline: iso(row.notification_deadline),
          resolvedAt: iso(row.resolved_at),
          dataCategoriesAtRisk: row.data_categories_at_risk,
          specialCategoryData: row.special_category_data,
          dataSubjectsAtRisk: {
            estimate: row.data_subjects_at_risk,
            low: row.data_subjects_at_risk_low,
            high: row.data_subjects_at_risk_high,
          },
          notification: {
            status: exposure?.notificationStatus ?? null,
            reportedAt: iso(exposure?.notificationReportedAt),
            reference: exposure?.notificationReference ?? null,
          },
          nextDueAt: iso(nextDueAt(values)),
          obligations: values.map((o) => ({
            regime: o.regime,
            milestone: o.milestone,
            description: o.description,
            startsAt: iso(o.startsAt),
            dueAt: iso(o.dueAt),
            status: o.status,
            source: o.source,
            reviewNeeded: o.reviewNeeded,
          })),
        },
      },
    };
    pending
      .get(endpoint.id)!
      .push({ alertId: row.alert_id, webhookId, occurredAt, body: JSON.stringify(payload) });
  }
  return pending;
}

/**
 * SQL condition: endpoint `e` has an alert after its cursor. Written as two branches so each can use its
 * index: a client's endpoint reads (client_id, id), an all-clients endpoint the id order.
 */
export const HAS_PENDING_ALERT = `(
  (e.client_id IS NULL AND EXISTS (SELECT 1 FROM exposure_alert a WHERE a.id > e.cursor AND a.kind = ANY(e.kinds)))
  OR (e.client_id IS NOT NULL AND EXISTS (SELECT 1 FROM exposure_alert a WHERE a.client_id = e.client_id AND a.id > e.cursor AND a.kind = ANY(e.kinds))))`;

/** SQL: LATERAL joins giving `pending.occurred_at`, the oldest alert endpoint `e` has not acknowledged. */
export const OLDEST_PENDING_ALERT = `
  LEFT JOIN LATERAL (
    SELECT a.occurred_at FROM exposure_alert a
    WHERE e.client_id IS NULL AND a.id > e.cursor AND a.kind = ANY(e.kinds) ORDER BY a.id LIMIT 1
  ) pending_all ON true
  LEFT JOIN LATERAL (
    SELECT a.occurred_at FROM exposure_alert a
    WHERE a.client_id = e.client_id AND a.id > e.cursor AND a.kind = ANY(e.kinds) ORDER BY a.client_id, a.id LIMIT 1
  ) pending_client ON true`;
export const OLDEST_PENDING_AT = `coalesce(pending_all.occurred_at, pending_client.occurred_at)`;
