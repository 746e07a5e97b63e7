import { EntityManager } from 'typeorm';
import { DataCategory, SPECIAL_CATEGORIES, sqlValues } from '../../common/enums';

/** Category bit masks: bit i stands for CATEGORY_ORDER[i]. */
const CATEGORY_ORDER = Object.values(DataCategory);
const CATEGORY_ARRAY = `ARRAY[${sqlValues(CATEGORY_ORDER)}]::text[]`;
const SPECIAL_MASK = SPECIAL_CATEGORIES.reduce((mask, category) => mask | (1 << CATEGORY_ORDER.indexOf(category)), 0);

/**
 * The exposure engine: one set-based statement computes every client's exposure to a set of incidents
 * (recursive walk of the sub-processor graph, windows, data at risk, score), upserts what changed,
 * resolves what no longer applies, and writes a revision and an alert for each change.
 * docs/exposure-scoring.md explains the rules and the score; test/exposure/reference.ts is an independent
 * TypeScript model of the same rules that test/exposure/engine.property.test.ts compares this statement with.
 * docs/performance.md tells how its shape keeps it linear (about a second for 9,000 exposures over 100,000 contracts).
 *
 * $1 incident ids; $2 client ids to limit the work to (null: every client). Rows outside $2 are untouched.
 */
const ENGINE_SQL = `
WITH RECURSIVE
inc AS (
  SELECT i.id AS incident_id, i.supplier_id, i.exfiltration, i.clients_notified_at,
         i.data_categories_affected AS affected,
         (coalesce(i.started_at, i.detected_at) AT TIME ZONE 'UTC')::date AS start_day,
         (i.contained_at AT TIME ZONE 'UTC')::date AS end_day
  FROM incident i WHERE i.id = ANY($1::uuid[])
),
-- Walk supplier-level links backwards from each incident's supplier, keeping one (the smallest)
-- path per supplier and level; a supplier already on the path is never revisited, so cycles end.
walk(incident_id, node, path) AS (
  SELECT incident_id, supplier_id, ARRAY[supplier_id] FROM inc
  UNION ALL
  SELECT x.incident_id, x.node, x.path FROM (
    SELECT w.incident_id, l.supplier_id AS node, l.supplier_id || w.path AS path,
           row_number() OVER (PARTITION BY w.incident_id, l.supplier_id ORDER BY l.supplier_id || w.path) AS rn
    FROM walk w JOIN supplier_subprocessor l ON l.subprocessor_id = w.node
    WHERE l.supplier_id <> ALL (w.path)
  ) x WHERE x.rn = 1
),
-- The shortest supplier-level chain from each supplier to the incident's supplier.
reach AS (
  SELECT DISTINCT ON (incident_id, node) incident_id, node, path
  FROM walk ORDER BY incident_id, node, cardinality(path), path
),
-- Rule 3: the routes from a contract to the incident's supplier. agreement_id NULL: the contract's
-- supplier reaches it through supplier-level links (or is it), which covers all of the contract's data;
-- otherwise an agreement-level sub-processor reaches it, which covers that agreement's data only.
routes AS (
  SELECT r.incident_id, c.id AS contract_id, NULL::uuid AS agreement_id, r.path
  FROM reach r JOIN contract c ON c.supplier_id = r.node
  WHERE $2::uuid[] IS NULL OR c.client_id = ANY($2::uuid[])
  UNION ALL
  SELECT r.incident_id, c.id, a.id, c.supplier_id || r.path
  FROM reach r
  JOIN agreement_subprocessor s ON s.subprocessor_id = r.node
  JOIN data_processing_agreement a ON a.id = s.agreement_id
  JOIN contract c ON c.id = a.contract_id
  WHERE c.supplier_id <> ALL (r.path) AND ($2::uuid[] IS NULL OR c.client_id = ANY($2::uuid[]))
),
-- Rule 2: a contract holds data from startsOn to the latest of endsOn and its agreements' retention
-- (open-ended when endsOn is null). Only contracts on a route are looked at.
contract_window AS (
  SELECT c.id AS contract_id, c.client_id, c.criticality, c.starts_on,
         CASE WHEN c.ends_on IS NULL THEN NULL
              ELSE greatest(c.ends_on, (SELECT max(a.data_retained_until) FROM data_processing_agreement a WHERE a.contract_id = c.id)) END AS holds_until
  FROM contract c WHERE c.id IN (SELECT contract_id FROM routes)
),
involved AS (
  SELECT ro.incident_id, ro.contract_id, ro.agreement_id, ro.path, cw.client_id, cw.criticality
  FROM routes ro
  JOIN contract_window cw ON cw.contract_id = ro.contract_id
  JOIN inc ON inc.incident_id = ro.incident_id
  WHERE cw.starts_on <= coalesce(inc.end_day, 'infinity'::date)
    AND coalesce(cw.holds_until, 'infinity'::date) >= inc.start_day
),
-- Rule 4: each agreement an exposure runs through, once however many routes reach it, with its
-- categories at risk as a bit mask over the category list (bit i: category i + 1).
agreement_risk AS (
  SELECT DISTINCT ON (iv.incident_id, a.id) iv.incident_id, iv.client_id, a.data_subject_count,
         (SELECT coalesce(bit_or(1 << (array_position(${CATEGORY_ARRAY}, c) - 1)), 0)
            FROM unnest(a.data_categories) c WHERE inc.affected IS NULL OR c = ANY(inc.affected)) AS risk_mask
  FROM involved iv
  JOIN inc ON inc.incident_id = iv.incident_id
  JOIN data_processing_agreement a ON a.contract_id = iv.contract_id AND (iv.agreement_id IS NULL OR a.id = iv.agreement_id)
  ORDER BY iv.incident_id, a.id
),
-- Everything per (incident, client) in one pass over routes and agreements: no joins between
-- aggregates, so the plan stays linear whatever the planner estimates.
per_client AS (
  SELECT incident_id, client_id,
         array_agg(DISTINCT contract_id) FILTER (WHERE contract_id IS NOT NULL) AS contract_ids,
         (array_agg(path_text ORDER BY path_length, path) FILTER (WHERE path IS NOT NULL))[1] AS path_text,
         max(criticality_rank) AS criticality_rank,
         coalesce(bit_or(risk_mask), 0) AS risk_mask,
         coalesce(sum(data_subject_count) FILTER (WHERE risk_mask <> 0), 0)::bigint AS people
  FROM (
    SELECT incident_id, client_id, contract_id, path, cardinality(path) AS path_length, array_to_string(path, ',') AS path_text,
           CASE criticality WHEN 'CRITICAL' THEN 3 WHEN 'IMPORTANT' THEN 2 ELSE 1 END AS criticality_rank,
           NULL::int AS risk_mask, NULL::int AS data_subject_count
    FROM involved
    UNION ALL
    SELECT incident_id, client_id, NULL, NULL, NULL, NULL, NULL, risk_mask, data_subject_count FROM agreement_risk
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
scored AS (
  SELECT p.*, base * power(0.8::float8, p.depth) AS weighted
  FROM (SELECT points.*, p_sensitivity + p_volume + p_exfiltration + p_criticality AS base FROM points) p
),
computed AS (
  SELECT s.incident_id, s.client_id, s.contract_ids, s.path, s.categories, s.people, s.special, s.clients_notified_at,
         round(s.weighted)::int AS score,
         CASE WHEN round(s.weighted) >= 75 THEN 'CRITICAL' WHEN round(s.weighted) >= 50 THEN 'HIGH'
              WHEN round(s.weighted) >= 25 THEN 'MEDIUM' ELSE 'LOW' END AS level,
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
           jsonb_build_object('name', 'supplyChainDepth', 'contribution', round((s.weighted - s.base)::numeric, 2)::float8, 'detail',
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
           OR e.data_subjects_at_risk <> c.people OR e.path <> c.path OR e.factors <> c.factors
           OR e.aware_at <> least(c.clients_notified_at, e.first_computed_at)) AS is_changed
  FROM computed c LEFT JOIN exposure e ON e.incident_id = c.incident_id AND e.client_id = c.client_id
),
upserted AS (
  INSERT INTO exposure AS e (incident_id, client_id, revision, score, level, factors, contract_ids, data_categories_at_risk,
                             special_category_data, data_subjects_at_risk, path, first_computed_at, aware_at,
                             notification_deadline, computed_at, resolved_at, last_change)
  SELECT incident_id, client_id, 1, score, level, factors, contract_ids, categories, special, people, path,
         statement_timestamp(), least(clients_notified_at, statement_timestamp()),
         least(clients_notified_at, statement_timestamp()) + interval '72 hours', statement_timestamp(), NULL, change
  FROM compared WHERE is_new OR is_changed
  ON CONFLICT (incident_id, client_id) DO UPDATE SET
    revision = e.revision + 1, score = excluded.score, level = excluded.level, factors = excluded.factors,
    contract_ids = excluded.contract_ids, data_categories_at_risk = excluded.data_categories_at_risk,
    special_category_data = excluded.special_category_data, data_subjects_at_risk = excluded.data_subjects_at_risk,
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
                                 special_category_data, data_subjects_at_risk, path, aware_at, notification_deadline, computed_at, resolved_at)
  SELECT id, revision, statement_timestamp(), score, level, factors, contract_ids, data_categories_at_risk,
         special_category_data, data_subjects_at_risk, path, aware_at, notification_deadline, computed_at, resolved_at
  FROM changes
),
alerts AS (
  INSERT INTO exposure_alert (exposure_id, client_id, incident_id, kind, revision, occurred_at)
  SELECT id, client_id, incident_id, last_change, revision, statement_timestamp() FROM changes
  ORDER BY client_id, incident_id
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

export class ExposureEngine {
  constructor(private readonly afterAlerts: (manager: EntityManager, lastAlertId: string) => Promise<void> = async () => undefined) {}

  /**
   * Recomputes the exposures of `incidentIds` (optionally only for `clientIds`) inside the caller's
   * transaction. The transaction-scoped advisory lock serialises exposure computations: the statement
   * after it takes a fresh snapshot (READ COMMITTED), so it sees every register write and incident
   * committed before it, and two concurrent writers end as if one ran after the other.
   */
  async recompute(manager: EntityManager, incidentIds: string[], clientIds: string[] | null = null): Promise<RecomputeResult> {
    if (incidentIds.length === 0) return NOTHING_CHANGED;
    await manager.query(LOCK_SQL, [EXPOSURE_LOCK_KEY]);
    return this.compute(manager, incidentIds, clientIds);
  }

  /**
   * Rule 7 for register writes: recompute every incident that is not CLOSED. A contract or agreement
   * change can only move its own client's exposures, so those pass clientIds and stay cheap.
   * The open incidents are read after the lock, so one recorded concurrently is seen once it commits.
   */
  async recomputeOpenIncidents(manager: EntityManager, clientIds: string[] | null): Promise<RecomputeResult> {
    await manager.query(LOCK_SQL, [EXPOSURE_LOCK_KEY]);
    const open: { id: string }[] = await manager.query(`SELECT id FROM incident WHERE status <> 'CLOSED'`);
    return open.length === 0 ? NOTHING_CHANGED : this.compute(manager, open.map((incident) => incident.id), clientIds);
  }

  /** The engine statement itself, under the lock the caller holds; then one NOTIFY for the alerts it wrote. */
  private async compute(manager: EntityManager, incidentIds: string[], clientIds: string[] | null): Promise<RecomputeResult> {
    const [row] = await manager.query(ENGINE_SQL, [incidentIds, clientIds]);
    if (row.last_alert_id) await this.afterAlerts(manager, row.last_alert_id);
    return { changed: row.changed, lastAlertId: row.last_alert_id };
  }
}
