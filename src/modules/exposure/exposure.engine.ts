import { EntityManager } from 'typeorm';
import { DataCategory, SPECIAL_CATEGORIES, sqlValues } from '../../common/enums';
import { notifyAlerts } from '../alert/alert.notify';
import type { DailyJob } from '../schedule/daily-jobs';
import { ExposureChangeReason } from './exposure.entity';
import { RegisterChange, clientsAffectedBy } from './exposure.register-change';

/** Category bit masks: bit i stands for CATEGORY_ORDER[i]. */
const CATEGORY_ORDER = Object.values(DataCategory);
const CATEGORY_ARRAY = `ARRAY[${sqlValues(CATEGORY_ORDER)}]::text[]`;
const SPECIAL_MASK = SPECIAL_CATEGORIES.reduce(
  (mask, category) => mask | (1 << CATEGORY_ORDER.indexOf(category)),
  0,
);

/**
 * The exposure engine: one set-based statement computes every client's exposure to a set of incidents
 * (recursive walk of the sub-processor graph, windows, data at risk, score), upserts what changed,
 * resolves what no longer applies, and writes a revision and an alert for each change.
 * docs/exposure-scoring.md explains the rules and the score; test/exposure/reference.ts is an independent
 * TypeScript model of the same rules that test/exposure/engine.property.test.ts compares this statement with.
 * docs/performance.md tells how its shape keeps it linear (about a second for 9,000 exposures over 100,000 contracts).
 *
 * $1 incident ids; $2 client ids to limit the work to (null: every client). Rows outside $2 are untouched.
 * $3 the day that counts as today (null: the statement's own); $4 why it runs (ExposureChangeReason),
 * written on every revision it adds. Removed (archived) contracts and agreements carry removed_at and
 * count for nothing here; an archived supplier has no links left (removeSupplier), so the walk needs no filter.
 */
const ENGINE_SQL = `
WITH RECURSIVE
inc AS (
  SELECT i.id AS incident_id, i.supplier_id, i.exfiltration, i.clients_notified_at,
         i.data_categories_affected AS affected,
         coalesce(i.share_of_data_affected, 1)::numeric AS share,
         (coalesce(i.started_at, i.detected_at) AT TIME ZONE 'UTC')::date AS start_day,
         (i.contained_at AT TIME ZONE 'UTC')::date AS end_day,
         -- Rule 2: nothing is exposed before it exists; $3 lets the daily job compute as of a given day.
         coalesce($3::date, (statement_timestamp() AT TIME ZONE 'UTC')::date) AS today
  FROM incident i WHERE i.id = ANY($1::uuid[])
),
-- Rule 3's supply chain, breadth first from each incident's supplier backwards along supplier-level links,
-- one level per step: every supplier is settled once, at its shortest distance, so the cost is linear in
-- the links however many cycles the graph has. A row per level carries the level's new suppliers
-- (frontier) and every supplier settled so far (visited), each mapped to its chain "X,...,S" as text.
-- A supplier's chain goes through the smallest (by id) supplier one level closer: element by element, that
-- is the smallest of its shortest chains.
walk(incident_id, depth, frontier, visited) AS (
  SELECT incident_id, 0, jsonb_build_object(supplier_id::text, supplier_id::text), jsonb_build_object(supplier_id::text, supplier_id::text)
  FROM inc
  UNION ALL
  SELECT w.incident_id, w.depth + 1, step.frontier, w.visited || step.frontier
  FROM walk w
  CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(x.node, x.node || ',' || (w.frontier ->> x.next)) AS frontier
    FROM (
      SELECT l.supplier_id::text AS node, min(l.subprocessor_id::text) AS next
      FROM supplier_subprocessor l
      WHERE l.subprocessor_id = ANY (ARRAY(SELECT jsonb_object_keys(w.frontier))::uuid[])
        AND NOT w.visited ? l.supplier_id::text
      GROUP BY l.supplier_id
    ) x
  ) step
  WHERE step.frontier IS NOT NULL
),
-- Each supplier that reaches the incident's supplier, with its shortest chain and that chain's length in links.
reach AS (
  SELECT w.incident_id, f.key::uuid AS node, f.value AS path_text, w.depth
  FROM walk w CROSS JOIN LATERAL jsonb_each_text(w.frontier) f
),
-- Rule 3: the routes from a contract to the incident's supplier. agreement_id NULL: the contract's supplier
-- is the incident's supplier or reaches it through supplier-level links, which covers all of the contract's
-- data; otherwise an agreement-level sub-processor reaches it, which covers that agreement's data only (a
-- chain through the contract's own supplier again is not used: that supplier then reaches S itself, by a
-- shorter route covering everything).
routes AS (
  SELECT r.incident_id, c.id AS contract_id, NULL::uuid AS agreement_id, r.path_text, r.depth
  FROM reach r JOIN contract c ON c.supplier_id = r.node AND c.removed_at IS NULL
  WHERE $2::uuid[] IS NULL OR c.client_id = ANY($2::uuid[])
  UNION ALL
  SELECT r.incident_id, c.id, a.id, c.supplier_id::text || ',' || r.path_text, r.depth + 1
  FROM reach r
  JOIN agreement_subprocessor s ON s.subprocessor_id = r.node
  JOIN data_processing_agreement a ON a.id = s.agreement_id AND a.removed_at IS NULL
  JOIN contract c ON c.id = a.contract_id AND c.removed_at IS NULL
  WHERE strpos(r.path_text, c.supplier_id::text) = 0 AND ($2::uuid[] IS NULL OR c.client_id = ANY($2::uuid[]))
),
-- Rule 2: what each route puts at risk. An agreement holds its data from the contract's start to the later
-- of the contract's end and its own retention (open-ended with the contract); a contract without an
-- agreement holds no data, and exposes its client for service impact over its own window. Only holdings
-- whose window overlaps the incident, and that have started by today, count. One row per route and
-- holding (agreement_id NULL: service impact only), with the holding's categories at risk as a bit mask
-- over the category list (bit i: category i + 1).
holdings AS (
  SELECT ro.incident_id, c.client_id, ro.contract_id, a.id AS agreement_id, a.data_subject_count, ro.path_text, ro.depth,
         CASE c.criticality WHEN 'CRITICAL' THEN 3 WHEN 'IMPORTANT' THEN 2 ELSE 1 END AS criticality_rank,
         coalesce((SELECT bit_or(1 << (array_position(${CATEGORY_ARRAY}, cat) - 1))
                     FROM unnest(a.data_categories) cat WHERE inc.affected IS NULL OR cat = ANY(inc.affected)), 0) AS risk_mask
  FROM routes ro
  JOIN inc ON inc.incident_id = ro.incident_id
  JOIN contract c ON c.id = ro.contract_id
  LEFT JOIN data_processing_agreement a ON a.contract_id = c.id AND a.removed_at IS NULL AND (ro.agreement_id IS NULL OR a.id = ro.agreement_id)
  WHERE c.starts_on <= inc.today
    AND c.starts_on <= coalesce(inc.end_day, 'infinity'::date)
    AND CASE WHEN a.id IS NULL THEN coalesce(c.ends_on, 'infinity'::date)
             WHEN c.ends_on IS NULL THEN 'infinity'::date
             ELSE greatest(c.ends_on, a.data_retained_until) END >= inc.start_day
),
-- Everything per (incident, client) in one pass over holdings, plus each agreement once however many
-- routes reach it: no joins between aggregates, so the plan stays linear whatever the planner estimates.
-- Rule 6: the path (and so the depth) is the shortest route that carries data at risk, or the shortest
-- route of all when none does.
per_client AS (
  SELECT incident_id, client_id,
         array_agg(DISTINCT contract_id) FILTER (WHERE contract_id IS NOT NULL) AS contract_ids,
         (array_agg(path_text ORDER BY carries_data DESC, depth, path_text) FILTER (WHERE path_text IS NOT NULL))[1] AS path_text,
         max(criticality_rank) AS criticality_rank,
         coalesce(bit_or(agreement_mask), 0) AS risk_mask,
         coalesce(sum(data_subject_count) FILTER (WHERE agreement_mask <> 0), 0)::bigint AS people,
         coalesce(max(data_subject_count) FILTER (WHERE agreement_mask <> 0), 0)::bigint AS people_largest
  FROM (
    SELECT incident_id, client_id, contract_id, path_text, depth, risk_mask <> 0 AS carries_data, criticality_rank,
           NULL::int AS agreement_mask, NULL::int AS data_subject_count
    FROM holdings
    UNION ALL
    SELECT DISTINCT ON (incident_id, agreement_id) incident_id, client_id, NULL, NULL, NULL, NULL, NULL, risk_mask, data_subject_count
    FROM holdings WHERE agreement_id IS NOT NULL
  ) facts_by_row
  GROUP BY incident_id, client_id
),
-- Materialised: each row's categories are worked out once, not once per later reference.
facts AS MATERIALIZED (
  SELECT pc.incident_id, pc.client_id, pc.contract_ids, string_to_array(pc.path_text, ',')::uuid[] AS path,
         inc.exfiltration, inc.clients_notified_at,
         ARRAY(SELECT t.c FROM unnest(${CATEGORY_ARRAY}) WITH ORDINALITY AS t(c, i)
               WHERE pc.risk_mask & (1 << (t.i::int - 1)) <> 0 ORDER BY t.c COLLATE "C") AS categories,
         pc.people,
         -- Rule 4's range: the same people may be in several agreements, so the largest agreement is the
         -- lower bound and the sum the upper one, both scaled by the share of data the incident reached.
         floor(pc.people_largest * inc.share)::bigint AS people_low,
         ceil(pc.people * inc.share)::bigint AS people_high,
         pc.risk_mask & ${SPECIAL_MASK} <> 0 AS special,
         pc.criticality_rank, cardinality(string_to_array(pc.path_text, ',')) - 1 AS depth
  FROM per_client pc
  JOIN inc ON inc.incident_id = pc.incident_id
),
-- Rule 6: the score's factors (docs/exposure-scoring.md; test/exposure/reference.ts scoreOf is the same formula).
points AS (
  SELECT f.*,
         CASE WHEN f.special THEN 30
              WHEN f.categories && ARRAY['CRIMINAL_OFFENCE','CHILDREN']::text[] THEN 15
              WHEN cardinality(f.categories) > 0 THEN 5 ELSE 0 END AS p_sensitivity,
         CASE WHEN f.people >= 1000000 THEN 25 WHEN f.people >= 100000 THEN 20 WHEN f.people >= 10000 THEN 15
              WHEN f.people >= 100 THEN 10 WHEN f.people >= 1 THEN 5 ELSE 0 END AS p_volume,
         CASE WHEN cardinality(f.categories) = 0 THEN 0
              WHEN f.exfiltration = 'CONFIRMED' THEN 20 WHEN f.exfiltration = 'SUSPECTED' THEN 10 ELSE 0 END AS p_exfiltration,
         CASE f.criticality_rank WHEN 3 THEN 15 WHEN 2 THEN 8 ELSE 3 END AS p_criticality
  FROM facts f
),
-- The depth factor is rounded to cents first and the score is the rounded sum of the factors exactly as
-- displayed (numeric, not float, so the sum is exact).
scored AS (
  SELECT p.*, round(p.base * (power(0.8::numeric, p.depth) - 1), 2) AS p_depth
  FROM (SELECT points.*, p_sensitivity + p_volume + p_exfiltration + p_criticality AS base FROM points) p
),
computed AS (
  SELECT s.incident_id, s.client_id, s.contract_ids, s.path, s.categories, s.people, s.people_low, s.people_high, s.special,
         s.clients_notified_at, round(s.base + s.p_depth)::int AS score,
         CASE WHEN round(s.base + s.p_depth) >= 75 THEN 'CRITICAL' WHEN round(s.base + s.p_depth) >= 50 THEN 'HIGH'
              WHEN round(s.base + s.p_depth) >= 25 THEN 'MEDIUM' ELSE 'LOW' END AS level,
         jsonb_build_array(
           jsonb_build_object('name', 'specialCategoryData', 'contribution', s.p_sensitivity, 'detail',
             CASE WHEN s.special THEN 'Special category data (Art. 9) at risk: ' || array_to_string(ARRAY(SELECT c FROM unnest(s.categories) c WHERE c = ANY(ARRAY[${sqlValues(SPECIAL_CATEGORIES)}]::text[])), ', ')
                  WHEN s.p_sensitivity = 15 THEN 'No special category data, but sensitive data at risk: ' || array_to_string(ARRAY(SELECT c FROM unnest(s.categories) c WHERE c IN ('CRIMINAL_OFFENCE','CHILDREN')), ', ')
                  WHEN s.p_sensitivity = 5 THEN 'Personal data at risk: ' || array_to_string(s.categories, ', ')
                  ELSE 'No personal data at risk (service impact only)' END),
           jsonb_build_object('name', 'dataSubjectVolume', 'contribution', s.p_volume, 'detail',
             CASE WHEN s.people = 0 THEN 'No people''s data at risk'
                  ELSE 'Data of ' || to_char(s.people, 'FM999,999,999,999,999') || ' people at risk' END),
           jsonb_build_object('name', 'exfiltration', 'contribution', s.p_exfiltration, 'detail',
             CASE WHEN cardinality(s.categories) = 0 THEN 'No data at risk to exfiltrate'
                  ELSE 'Exfiltration ' || lower(replace(s.exfiltration, '_', ' ')) END),
           jsonb_build_object('name', 'serviceCriticality', 'contribution', s.p_criticality, 'detail',
             'Most critical service involved: ' || CASE s.criticality_rank WHEN 3 THEN 'CRITICAL' WHEN 2 THEN 'IMPORTANT' ELSE 'STANDARD' END),
           jsonb_build_object('name', 'supplyChainDepth', 'contribution', s.p_depth::float8, 'detail',
             CASE WHEN s.depth = 0 THEN 'Incident at a direct supplier: no reduction'
                  ELSE 'Incident ' || s.depth || ' sub-processor link' || CASE WHEN s.depth > 1 THEN 's' ELSE '' END
                       || ' down the chain: score x ' || round(power(0.8, s.depth)::numeric, 3) END)
         ) AS factors
  FROM scored s
),
-- Compare with what is stored, under the same snapshot, so only real changes are written.
compared AS (
  SELECT c.*, e.id AS existing_id, e.resolved_at AS existing_resolved_at, e.first_computed_at AS existing_first,
         e.id IS NULL AS is_new,
         CASE WHEN e.id IS NULL OR e.resolved_at IS NOT NULL THEN 'NEW' ELSE 'CHANGED' END AS change,
         e.id IS NOT NULL AND (e.resolved_at IS NOT NULL OR e.score <> c.score OR e.level <> c.level
           OR e.contract_ids <> c.contract_ids OR e.data_categories_at_risk <> c.categories
           OR e.data_subjects_at_risk <> c.people OR e.data_subjects_at_risk_low <> c.people_low
           OR e.data_subjects_at_risk_high <> c.people_high OR e.path <> c.path OR e.factors <> c.factors
           OR e.aware_at <> least(c.clients_notified_at, e.first_computed_at)) AS is_changed
  FROM computed c LEFT JOIN exposure e ON e.incident_id = c.incident_id AND e.client_id = c.client_id
),
upserted AS (
  INSERT INTO exposure AS e (incident_id, client_id, revision, score, level, factors, contract_ids, data_categories_at_risk,
                             special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
                             path, first_computed_at, aware_at, notification_deadline, computed_at, resolved_at, last_change)
  SELECT incident_id, client_id, 1, score, level, factors, contract_ids, categories, special, people, people_low, people_high, path,
         statement_timestamp(), least(clients_notified_at, statement_timestamp()),
         least(clients_notified_at, statement_timestamp()) + interval '72 hours', statement_timestamp(), NULL, change
  FROM compared WHERE is_new OR is_changed
  ON CONFLICT (incident_id, client_id) DO UPDATE SET
    revision = e.revision + 1, score = excluded.score, level = excluded.level, factors = excluded.factors,
    contract_ids = excluded.contract_ids, data_categories_at_risk = excluded.data_categories_at_risk,
    special_category_data = excluded.special_category_data, data_subjects_at_risk = excluded.data_subjects_at_risk,
    data_subjects_at_risk_low = excluded.data_subjects_at_risk_low, data_subjects_at_risk_high = excluded.data_subjects_at_risk_high,
    path = excluded.path,
    aware_at = least(excluded.aware_at, e.first_computed_at),
    notification_deadline = least(excluded.aware_at, e.first_computed_at) + interval '72 hours',
    computed_at = excluded.computed_at, resolved_at = NULL, last_change = excluded.last_change
  RETURNING e.*
),
-- Rule 7: exposures that no longer apply are resolved, never deleted.
resolved AS (
  UPDATE exposure e SET resolved_at = statement_timestamp(), computed_at = statement_timestamp(), revision = e.revision + 1, last_change = 'RESOLVED'
  WHERE e.incident_id = ANY($1::uuid[]) AND e.resolved_at IS NULL
    AND ($2::uuid[] IS NULL OR e.client_id = ANY($2::uuid[]))
    AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.incident_id = e.incident_id AND c.client_id = e.client_id)
  RETURNING e.*
),
-- Each written row says what happened to it (last_change): no join back to compared, which the planner,
-- blind to the size of data-modifying CTEs, would run as a nested loop.
changes AS (
  SELECT * FROM upserted UNION ALL SELECT * FROM resolved
),
revisions AS (
  INSERT INTO exposure_revision (exposure_id, revision, recorded_at, score, level, factors, contract_ids, data_categories_at_risk,
                                 special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
                                 path, aware_at, notification_deadline, computed_at, resolved_at, reason)
  SELECT id, revision, statement_timestamp(), score, level, factors, contract_ids, data_categories_at_risk,
         special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
         path, aware_at, notification_deadline, computed_at, resolved_at, $4::text
  FROM changes
),
-- Ids and each client's own numbers (client_seq: 1, 2, 3, … per client, the cursor a client sees) follow
-- one order, (client, incident): ids are drawn as rows are inserted, in that order. Each client's last
-- number is one index probe; the engine's lock makes reading it and inserting after it one step.
alerts AS (
  INSERT INTO exposure_alert (exposure_id, client_id, incident_id, kind, revision, occurred_at, client_seq)
  SELECT ch.id, ch.client_id, ch.incident_id, ch.last_change, ch.revision, statement_timestamp(),
         coalesce((SELECT max(a.client_seq) FROM exposure_alert a WHERE a.client_id = ch.client_id), 0)
           + row_number() OVER (PARTITION BY ch.client_id ORDER BY ch.incident_id)
  FROM changes ch
  ORDER BY ch.client_id, ch.incident_id
  RETURNING id
)
SELECT (SELECT count(*) FROM changes)::int AS changed, (SELECT max(id) FROM alerts)::text AS last_alert_id
`;

/** Takes the engine's lock, and gives its big sorts room in memory for this transaction only. */
const LOCK_SQL = `SELECT pg_advisory_xact_lock($1), set_config('work_mem', '64MB', true)`;

/** One lock for every transaction that recomputes exposures: see the comment in recompute(). */
const EXPOSURE_LOCK_KEY = 7_331_001;

export interface RecomputeResult {
  changed: number;
  lastAlertId: string | null;
}

const NOTHING_CHANGED: RecomputeResult = { changed: 0, lastAlertId: null };

/**
 * Stateless: every method works inside the caller's transaction (its EntityManager), so exposures, their
 * revisions, their alerts and the NOTIFY that announces them commit with the write that caused them, or not at all.
 */
export class ExposureEngine {
  /**
   * Recomputes the exposures of `incidentIds` (optionally only for `clientIds`) inside the caller's
   * transaction. The transaction-scoped advisory lock serialises exposure computations: the statement
   * after it takes a fresh snapshot (READ COMMITTED), so it sees every register write and incident
   * committed before it, and two concurrent writers end as if one ran after the other.
   */
  async recompute(
    manager: EntityManager,
    incidentIds: string[],
    reason: ExposureChangeReason,
    clientIds: string[] | null = null,
  ): Promise<RecomputeResult> {
    if (incidentIds.length === 0) return NOTHING_CHANGED;
    await manager.query(LOCK_SQL, [EXPOSURE_LOCK_KEY]);
    return this.compute(manager, incidentIds, clientIds, reason);
  }

  /** Rule 7 for a register write: the open incidents, for the clients the change can affect (exposure.register-change.ts). */
  async registerChanged(manager: EntityManager, change: RegisterChange): Promise<RecomputeResult> {
    return this.recomputeOpenIncidents(manager, await clientsAffectedBy(manager, change));
  }

  /**
   * Rule 7 for register writes: recompute every incident that is not CLOSED. A contract or agreement
   * change can only move its own client's exposures, so those pass clientIds and stay cheap.
   * The open incidents are read after the lock, so one recorded concurrently is seen once it commits.
   */
  async recomputeOpenIncidents(manager: EntityManager, clientIds: string[] | null): Promise<RecomputeResult> {
    await manager.query(LOCK_SQL, [EXPOSURE_LOCK_KEY]);
    const open: { id: string }[] = await manager.query(`SELECT id FROM incident WHERE status <> 'CLOSED'`);
    return open.length === 0
      ? NOTHING_CHANGED
      : this.compute(
          manager,
          open.map((incident) => incident.id),
          clientIds,
          ExposureChangeReason.REGISTER_CHANGED,
        );
  }

  /**
   * Rule 2's "nothing is exposed before it exists", as days pass: the clients with a contract that started
   * after `sinceDay` and by `today` (YYYY-MM-DD, UTC) get their open incidents recomputed as of `today`.
   * Run once a day by the contract-start job (startedContractsJob, below).
   */
  async recomputeStartedContracts(
    manager: EntityManager,
    sinceDay: string,
    today: string,
  ): Promise<RecomputeResult> {
    await manager.query(LOCK_SQL, [EXPOSURE_LOCK_KEY]);
    const [row]: { incident_ids: string[] | null; client_ids: string[] | null }[] = await manager.query(
      `SELECT (SELECT array_agg(id) FROM incident WHERE status <> 'CLOSED') AS incident_ids,
              (SELECT array_agg(DISTINCT client_id) FROM contract WHERE starts_on > $1::date AND starts_on <= $2::date AND removed_at IS NULL) AS client_ids`,
      [sinceDay, today],
    );
    if (!row.incident_ids || !row.client_ids) return NOTHING_CHANGED;
    return this.compute(
      manager,
      row.incident_ids,
      row.client_ids,
      ExposureChangeReason.CONTRACT_STARTED,
      today,
    );
  }

  /**
   * The engine statement itself, under the lock the caller holds; then one NOTIFY for the alerts it wrote
   * (alert.notify.ts), which PostgreSQL delivers to every instance's alert hub once the transaction commits.
   * `today`: the day that counts as today for rule 2 (null: the statement's own UTC day).
   */
  private async compute(
    manager: EntityManager,
    incidentIds: string[],
    clientIds: string[] | null,
    reason: ExposureChangeReason,
    today: string | null = null,
  ): Promise<RecomputeResult> {
    const [row] = await manager.query(ENGINE_SQL, [incidentIds, clientIds, today, reason]);
    if (row.last_alert_id) await notifyAlerts(manager, row.last_alert_id);
    return { changed: row.changed, lastAlertId: row.last_alert_id };
  }
}

/** Rule 2 as days pass: an open incident exposes a contract from the day it starts (docs/exposure-scoring.md). */
export function startedContractsJob(engine: ExposureEngine): DailyJob {
  return {
    name: 'exposures-of-contracts-starting',
    run: (manager, sinceDay, today) => engine.recomputeStartedContracts(manager, sinceDay, today),
  };
}
