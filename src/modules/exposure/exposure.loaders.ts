import { DataSource } from 'typeorm';
import { OrderDirection, orderKind } from '../../common/order-direction';
import { Viewer, clientScope } from '../../auth/viewer';
import DataLoader from 'dataloader';
import {
  byIdLoader,
  childPageLoader,
  filteredCountLoader,
  groupByParent,
  groupLoader,
} from '../../common/loaders';
import {
  OptionalListColumns,
  SqlParams,
  childCountsQuery,
  childPagesQuery,
  ListOrder,
  hydrate,
  listOrder,
} from '../../common/paging';
import { decodeIdOf } from '../../common/global-id';
import {
  ExposureChangeReason,
  ExposureEntity,
  ExposureLevel,
  ExposureRevisionEntity,
} from './exposure.entity';
import { ExposureFilter, ExposureOrder, ExposureOrderField } from './exposure.inputs';

/** The incident-level figures over the exposures a viewer may see. */
export interface ExposureSummaryValue {
  clientsExposed: number;
  clientsWithSpecialCategoryData: number;
  peopleAtRisk: number;
  peopleAtRiskRange: { low: number; high: number };
  contractValueInvolved: { amount: string; currency: string }[];
  nearestDeadline: Date | null;
  critical: number;
  high: number;
  medium: number;
  low: number;
}

/** A revision plus the notification decision in force at that moment. */
export type ExposureAsOfValue = ExposureRevisionEntity & {
  decision: Record<string, unknown> | null;
  /** The decision was NOT_REQUIRED and a widening flagged it for review before the moment asked about. */
  reviewNeeded: boolean;
};

/** Highest score first. */
export const EXPOSURE_ORDER = listOrder<ExposureEntity>('exposures', [
  { sql: 't.score', cast: 'integer', value: (e) => e.score },
  { sql: 't.id', cast: 'uuid', value: (e) => e.id },
]);

/** Stands in for "no open deadline" in the NEXT_DUE order, after every real date (and in cursors). */
const NO_DEADLINE = '9999-12-31T00:00:00.000Z';

const EXPOSURE_ORDER_COLUMNS: Record<ExposureOrderField, OrderColumn[]> = {
  [ExposureOrderField.SCORE]: EXPOSURE_ORDER.slice(),
  [ExposureOrderField.NEXT_DUE]: [
    {
      sql: `coalesce(t.next_due_at, '${NO_DEADLINE}'::timestamptz)`,
      cast: 'timestamptz',
      value: (e) => (e.nextDueAt ? new Date(e.nextDueAt).toISOString() : NO_DEADLINE),
    },
    { sql: 't.id', cast: 'uuid', value: (e) => e.id },
  ],
  [ExposureOrderField.CLIENT_NAME]: [
    {
      // A subquery, not a join: the list's FROM stays the exposure table alone, for every order.
      sql: '(SELECT c.name FROM client c WHERE c.id = t.client_id)',
      cast: 'text',
      value: (e) => e.sortClientName ?? '',
      selected: { as: '__client_name', property: 'sortClientName' },
    },
    { sql: 't.id', cast: 'uuid', value: (e) => e.id },
  ],
};
type OrderColumn = ListOrder<ExposureEntity>[number];

const DEFAULT_DIRECTION: Record<ExposureOrderField, OrderDirection> = {
  SCORE: OrderDirection.DESC,
  NEXT_DUE: OrderDirection.ASC,
  CLIENT_NAME: OrderDirection.ASC,
};

/** Each (field, direction) is its own list order, so its cursors are refused by any other. */
const EXPOSURE_ORDERS = new Map<string, ListOrder<ExposureEntity>>();

/**
 * An exposure list's keyset order and direction. The default (SCORE, DESC) keeps the kind "exposures" that
 * cursors issued before orders existed carry.
 */
export function exposureOrder(order: ExposureOrder | null | undefined): {
  order: ListOrder<ExposureEntity>;
  descending: boolean;
} {
  const field = order?.field ?? ExposureOrderField.SCORE;
  const direction = order?.direction ?? DEFAULT_DIRECTION[field];
  const kind =
    field === ExposureOrderField.SCORE && direction === OrderDirection.DESC
      ? EXPOSURE_ORDER.kind
      : orderKind(EXPOSURE_ORDER.kind, field, direction);
  let listed = EXPOSURE_ORDERS.get(kind);
  if (!listed) EXPOSURE_ORDERS.set(kind, (listed = listOrder(kind, EXPOSURE_ORDER_COLUMNS[field].slice())));
  return { order: listed, descending: direction === OrderDirection.DESC };
}

/**
 * Exposure columns a page reads only when a selected field shows them (the arrays and timestamps), as
 * property → the Exposure fields that read it. An alert's exposure reads the same way (alert.queries.ts).
 */
export const EXPOSURE_OPTIONAL_READERS: Readonly<Record<string, readonly string[]>> = {
  contractIds: ['contracts', 'icoReportDraft'],
  path: ['path', 'icoReportDraft'],
  // nextDueAt reads its own stored column (next_due_at), always read.
  dataCategoriesAtRisk: ['dataCategoriesAtRisk', 'obligations', 'icoReportDraft'],
  awareAt: ['awareAt', 'obligations', 'icoReportDraft'],
  dataAwareAt: ['dataAwareAt', 'obligations', 'icoReportDraft'],
  reviewNeededAt: ['obligations', 'icoReportDraft'],
  // The reminders job's bookkeeping: no field shows it.
  nextReminderAt: [],
  notificationDeadline: ['notificationDeadline'],
  computedAt: ['computedAt'],
  resolvedAt: ['resolvedAt'],
  notificationDecidedAt: ['notification'],
  notificationDecidedBy: ['notification'],
  notificationReportedAt: ['notification'],
  notificationReference: ['notification'],
  notificationJustification: ['notification'],
};
export const EXPOSURE_OPTIONAL_COLUMNS = new OptionalListColumns(EXPOSURE_OPTIONAL_READERS);

const LEVEL_FLOOR: Record<ExposureLevel, number> = { LOW: 0, MEDIUM: 25, HIGH: 50, CRITICAL: 75 };

/** A client-role viewer sees only its own exposures; the filter narrows further. Resolved ones are hidden unless asked for. */
export function exposureConditions(
  viewer: Viewer,
  filter: ExposureFilter | null | undefined,
  params: SqlParams,
  alias = 't',
): string[] {
  const where: string[] = [];
  const scope = clientScope(viewer);
  if (scope) where.push(`${alias}.client_id = ${params.param(scope)}::uuid`);
  if (filter?.clientId) {
    const clientId = decodeIdOf('Client', filter.clientId);
    where.push(clientId ? `${alias}.client_id = ${params.param(clientId)}::uuid` : 'FALSE');
  }
  if (filter?.incidentId) {
    const incidentId = decodeIdOf('Incident', filter.incidentId);
    where.push(incidentId ? `${alias}.incident_id = ${params.param(incidentId)}::uuid` : 'FALSE');
  }
  if (filter?.minLevel) where.push(`${alias}.score >= ${LEVEL_FLOOR[filter.minLevel]}`);
  if (filter?.notificationStatus)
    where.push(`${alias}.notification_status = ${params.param(filter.notificationStatus)}`);
  if (!filter?.includeResolved) where.push(`${alias}.resolved_at IS NULL`);
  // next_due_at is kept exact on the row (obligation.clock.ts): both are index-backed comparisons.
  if (filter?.overdue === true) where.push(`${alias}.next_due_at < statement_timestamp()`);
  if (filter?.overdue === false)
    where.push(`(${alias}.next_due_at IS NULL OR ${alias}.next_due_at >= statement_timestamp())`);
  if (filter?.dueBefore) where.push(`${alias}.next_due_at < ${params.param(filter.dueBefore)}::timestamptz`);
  return where;
}

/** Filters travel inside DataLoader keys, so they are reduced to plain JSON first. */
export function plainFilter(filter: ExposureFilter | null | undefined): ExposureFilter | null {
  return filter ? { ...filter } : null;
}

/** A nested exposure list's arguments besides the page: its filter and its order. */
export interface ExposureListArgs {
  filter: ExposureFilter | null;
  orderBy: ExposureOrder | null;
}

export type ExposureLoaders = ReturnType<typeof createExposureLoaders>;

export function createExposureLoaders(db: DataSource, viewer: Viewer) {
  const pagesBy = (parentColumn: string) =>
    childPageLoader<ExposureEntity, ExposureListArgs>((parentIds, args, list, leaveOut) => {
      const params = new SqlParams();
      return childPagesQuery(
        db,
        {
          entity: ExposureEntity,
          from: 'exposure t',
          where: exposureConditions(viewer, list?.filter, params),
          params,
          ...exposureOrder(list?.orderBy),
          leaveOut,
        },
        `t.${parentColumn}`,
        parentIds,
        args,
      );
    });
  const countsBy = (parentColumn: string) =>
    filteredCountLoader<ExposureFilter>((parentIds, filter) => {
      const params = new SqlParams();
      return childCountsQuery(
        db,
        'exposure t',
        exposureConditions(viewer, filter, params),
        params,
        `t.${parentColumn}`,
        parentIds,
      );
    });
  return {
    /** By id, resolved or not: an ID someone holds keeps working. */
    exposureById: byIdLoader<ExposureEntity>(async (ids) => {
      const params = new SqlParams();
      const where = [
        `t.id = ANY(${params.param(ids)}::uuid[])`,
        ...exposureConditions(viewer, { includeResolved: true }, params),
      ];
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT t.* FROM exposure t WHERE ${where.join(' AND ')}`,
        params.values,
      );
      return rows.map((row) => hydrate(db, ExposureEntity, row));
    }),
    /** One statement for the summaries of every incident on the page. */
    exposureSummaryByIncident: new DataLoader<string, ExposureSummaryValue>(async (incidentIds) => {
      const params = new SqlParams();
      const where = [
        `t.incident_id = ANY(${params.param(incidentIds)}::uuid[])`,
        ...exposureConditions(viewer, null, params),
      ];
      const rows: {
        incident_id: string;
        clients_exposed: number;
        special: number;
        people: number;
        people_low: number;
        people_high: number;
        nearest_deadline: Date | null;
        critical: number;
        high: number;
        medium: number;
        low: number;
        money: { amount: string; currency: string }[];
      }[] = await db.query(
        `WITH visible AS (SELECT t.* FROM exposure t WHERE ${where.join(' AND ')}),
              contract_values AS (
                SELECT v.incident_id, c.value_currency AS currency, sum(c.value_amount)::text AS amount
                FROM (SELECT DISTINCT incident_id, unnest(contract_ids) AS contract_id FROM visible) v
                JOIN contract c ON c.id = v.contract_id AND c.value_amount IS NOT NULL
                GROUP BY v.incident_id, c.value_currency)
         SELECT v.incident_id,
                count(*)::int AS clients_exposed,
                count(*) FILTER (WHERE special_category_data)::int AS special,
                coalesce(sum(data_subjects_at_risk), 0)::float8 AS people,
                coalesce(max(data_subjects_at_risk_low), 0)::float8 AS people_low,
                coalesce(sum(data_subjects_at_risk_high), 0)::float8 AS people_high,
                -- The earliest deadline of any open obligation of any regime (next_due_at, obligation.clock.ts).
                min(next_due_at) AS nearest_deadline,
                count(*) FILTER (WHERE level = 'CRITICAL')::int AS critical,
                count(*) FILTER (WHERE level = 'HIGH')::int AS high,
                count(*) FILTER (WHERE level = 'MEDIUM')::int AS medium,
                count(*) FILTER (WHERE level = 'LOW')::int AS low,
                (SELECT coalesce(json_agg(json_build_object('amount', m.amount, 'currency', m.currency) ORDER BY m.currency), '[]')
                   FROM contract_values m WHERE m.incident_id = v.incident_id) AS money
         FROM visible v GROUP BY v.incident_id`,
        params.values,
      );
      const byIncident = new Map(rows.map((row) => [row.incident_id, row]));
      return incidentIds.map((id) => {
        const row = byIncident.get(id);
        return {
          clientsExposed: row?.clients_exposed ?? 0,
          clientsWithSpecialCategoryData: row?.special ?? 0,
          peopleAtRisk: row?.people ?? 0,
          peopleAtRiskRange: { low: row?.people_low ?? 0, high: row?.people_high ?? 0 },
          contractValueInvolved: row?.money ?? [],
          nearestDeadline: row?.nearest_deadline ?? null,
          critical: row?.critical ?? 0,
          high: row?.high ?? 0,
          medium: row?.medium ?? 0,
          low: row?.low ?? 0,
        };
      });
    }),
    /** Factors are left out of list queries (they are the largest column): read here, for the page, when asked for. */
    exposureFactors: new DataLoader<string, ExposureEntity['factors']>(async (ids) => {
      const rows: { id: string; factors: ExposureEntity['factors'] }[] = await db.query(
        `SELECT id, factors FROM exposure WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const byId = new Map(rows.map((row) => [row.id, row.factors]));
      return ids.map((id) => byId.get(id) ?? []);
    }),
    /** Revisions of every exposure on the page, oldest first. Exposures reach here only when visible. */
    exposureHistory: groupLoader<ExposureRevisionEntity>(async (exposureIds) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT r.exposure_id AS __parent, r.* FROM exposure_revision r WHERE r.exposure_id = ANY($1::uuid[]) ORDER BY r.exposure_id, r.revision`,
        [exposureIds],
      );
      return groupByParent(rows, (row) => hydrate(db, ExposureRevisionEntity, row));
    }),
    /** The revision (and decision) in force at a moment, for every (exposure, moment) asked in the request. */
    exposureAsOf: new DataLoader<{ exposureId: string; at: string }, ExposureAsOfValue | null, string>(
      async (keys) => {
        const rows: Record<string, unknown>[] = await db.query(
          // A NOT_REQUIRED decision that a widening flagged for review before the moment (its REVIEW_NEEDED
          // alert, written with the widening revision) was not in force then: the exposure was ASSESSING,
          // as its notification status said at the time (docs/exposure-scoring.md, "Review after widening").
          `SELECT k.ord, r.*, d.decision,
                  (d.decision->>'status' = 'NOT_REQUIRED' AND EXISTS (
                     SELECT 1 FROM exposure_alert a
                      WHERE a.client_id = (SELECT e.client_id FROM exposure e WHERE e.id = k.exposure_id)
                        AND a.exposure_id = k.exposure_id AND a.kind = 'REVIEW_NEEDED'
                        AND a.occurred_at > d.decided_at AND a.occurred_at <= k.at)) AS review_needed
           FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY AS k(exposure_id, at, ord)
           JOIN LATERAL (SELECT * FROM exposure_revision r WHERE r.exposure_id = k.exposure_id AND r.recorded_at <= k.at
                         ORDER BY r.revision DESC LIMIT 1) r ON TRUE
           LEFT JOIN LATERAL (SELECT row_to_json(d) AS decision, d.decided_at FROM notification_decision d
                               WHERE d.exposure_id = k.exposure_id AND d.decided_at <= k.at
                                 AND d.regime = 'UK_GDPR' AND d.milestone = 'NOTIFICATION'
                               ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) d ON TRUE`,
          [keys.map((k) => k.exposureId), keys.map((k) => k.at)],
        );
        const byOrdinal = new Map(rows.map((row) => [Number(row.ord), row]));
        return keys.map((_key, index) => {
          const row = byOrdinal.get(index + 1);
          return row
            ? Object.assign(hydrate(db, ExposureRevisionEntity, row), {
                decision: row.decision as Record<string, unknown> | null,
                reviewNeeded: row.review_needed === true,
              })
            : null;
        });
      },
      { cacheKeyFn: (key) => `${key.exposureId}@${key.at}` },
    ),
    /** Why a given revision was written, for alerts (each announces one revision of an exposure its viewer may see). */
    revisionReason: new DataLoader<
      { exposureId: string; revision: number },
      ExposureChangeReason | null,
      string
    >(
      async (keys) => {
        const rows: { ord: string; reason: ExposureChangeReason | null }[] = await db.query(
          `SELECT k.ord, r.reason FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS k(exposure_id, revision, ord)
           JOIN exposure_revision r ON r.exposure_id = k.exposure_id AND r.revision = k.revision`,
          [keys.map((k) => k.exposureId), keys.map((k) => k.revision)],
        );
        const byOrdinal = new Map(rows.map((row) => [Number(row.ord), row.reason]));
        return keys.map((_key, index) => byOrdinal.get(index + 1) ?? null);
      },
      { cacheKeyFn: (key) => `${key.exposureId}#${key.revision}` },
    ),
    exposurePagesByClient: pagesBy('client_id'),
    exposureCountsByClient: countsBy('client_id'),
    exposurePagesByIncident: pagesBy('incident_id'),
    exposureCountsByIncident: countsBy('incident_id'),
  };
}
