import { EntityManager } from 'typeorm';
import { DataCategory, SPECIAL_CATEGORIES, sqlValues } from '../../common/enums';
import type { TransactionalConnection } from '../../db/transactional-connection';
import { ALERT_CHANNEL, notifyAlerts } from '../alert/alert.notify';
import type { DailyJob } from '../schedule/daily-jobs';
import { ExposureChangeReason } from './exposure.entity';
import { RegisterChange, clientsAffectedBy } from './exposure.register-change';
import { EVERY_CLIENT, EXPOSURE_LOCK_KEY } from './exposure.lock';
import {
  ClockValues,
  NewExposureClockRow,
  clockValuesOf,
  newExposureClockOf,
  refreshObligationClocks,
} from '../obligation/obligation.clock';

/** Category bit masks: bit i stands for CATEGORY_ORDER[i]. */
const CATEGORY_ORDER = Object.values(DataCategory);
const CATEGORY_ARRAY = `ARRAY[${sqlValues(CATEGORY_ORDER)}]::text[]`;
const SPECIAL_MASK = SPECIAL_CATEGORIES.reduce(
  (mask, category) => mask | (1 << CATEGORY_ORDER.indexOf(category)),
  0,
);

/**
 * The incident facts the engine reads, one row per incident (`i` is any relation with the incident table's
 * columns): shared by the stored incidents of recompute() and the unrecorded one of simulate().
 */
const INCIDENT_FACTS = `
  SELECT i.id AS incident_id, i.supplier_id, i.exfiltration, i.clients_notified_at,
         i.data_categories_affected AS affected,
         coalesce(i.share_of_data_affected, 1)::numeric AS share,
         (coalesce(i.started_at, i.detected_at) AT TIME ZONE 'UTC')::date AS start_day,
         (i.contained_at AT TIME ZONE 'UTC')::date AS end_day,
         -- Rule 2: nothing is exposed before it exists; $3 lets the daily job compute as of a given day.
         coalesce($3::date, (statement_timestamp() AT TIME ZONE 'UTC')::date) AS today`;

/** `inc` from stored incidents: $1 their ids. */
const INC_FROM_INCIDENTS = `inc AS (${INCIDENT_FACTS}
  FROM incident i WHERE i.id = ANY($1::uuid[])
)`;

/**
 * `inc` from an incident that is not recorded (simulate): $1 a JSON object with the incident table's columns
 * (snake_case; id is SIMULATED_INCIDENT_ID), read with the same types as the table's.
 */
const INC_FROM_INPUT = `inc AS (${INCIDENT_FACTS}
  FROM jsonb_to_record($1::jsonb) AS i(id uuid, supplier_id uuid, exfiltration text, clients_notified_at timestamptz,
       data_categories_affected text[], share_of_data_affected numeric(5,4), started_at timestamptz,
       detected_at timestamptz, contained_at timestamptz)
)`;

/** The id the simulated incident goes by inside the statement (it is never written anywhere). */
const SIMULATED_INCIDENT_ID = '00000000-0000-0000-0000-000000000000';

/**
 * The computation, shared by the engine's write statement and the simulation: from `inc` (defined before
 * it) to `computed`, one row per (incident, client) exposure with everything an exposure shows.
 * $2 client ids to limit the work to (null: every client); $3 the day that counts as today (null: the
 * statement's own). Removed (archived) contracts and agreements carry removed_at and count for nothing
 * here; an archived supplier has no links left (removeSupplier), so the walk needs no filter.
 */
const COMPUTE_CTES = `
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
-- Each route carries the columns of its contract that holdings reads, so holdings need not look it up again.
-- The planner cannot see how many suppliers reach S (it guesses 10,100 rows for reach; usually there are a
-- handful), so each branch starts from an index with reach's nodes as an array (= ANY, a scan of just those
-- suppliers' contracts, or sub-processor links), and the agreement branch looks each agreement and its
-- contract up by key (OFFSET 0 keeps those lookups per row): with the guess, it hashed every agreement and
-- contract of the register to find, mostly, none.
routes AS (
  SELECT r.incident_id, c.id AS contract_id, NULL::uuid AS agreement_id, r.path_text, r.depth,
         c.client_id, c.criticality, c.starts_on, c.ends_on
  FROM reach r JOIN contract c ON c.supplier_id = r.node AND c.removed_at IS NULL
  WHERE c.supplier_id = ANY (ARRAY(SELECT node FROM reach)) AND ($2::uuid[] IS NULL OR c.client_id = ANY($2::uuid[]))
  UNION ALL
  SELECT r.incident_id, c.id, a.id, c.supplier_id::text || ',' || r.path_text, r.depth + 1,
         c.client_id, c.criticality, c.starts_on, c.ends_on
  FROM reach r
  JOIN agreement_subprocessor s ON s.subprocessor_id = r.node
  CROSS JOIN LATERAL (SELECT a.id, a.contract_id FROM data_processing_agreement a
                      WHERE a.id = s.agreement_id AND a.removed_at IS NULL OFFSET 0) a
  CROSS JOIN LATERAL (SELECT c.id, c.supplier_id, c.client_id, c.criticality, c.starts_on, c.ends_on FROM contract c
                      WHERE c.id = a.contract_id AND c.removed_at IS NULL OFFSET 0) c
  WHERE s.subprocessor_id = ANY (ARRAY(SELECT node FROM reach)) AND strpos(r.path_text, c.supplier_id::text) = 0 AND ($2::uuid[] IS NULL OR c.client_id = ANY($2::uuid[]))
),
-- Rule 2: what each route puts at risk. An agreement holds its data from the contract's start to the later
-- of the contract's end and its own retention (open-ended with the contract); a contract without an
-- agreement holds no data, and exposes its client for service impact over its own window. Only holdings
-- whose window overlaps the incident, and that have started by today, count. One row per route and
-- holding (agreement_id NULL: service impact only), with the holding's categories at risk as a bit mask
-- over the category list (bit i: category i + 1).
holdings AS (
  SELECT ro.incident_id, ro.client_id, ro.contract_id, a.id AS agreement_id, a.data_subject_count, ro.path_text, ro.depth,
         CASE ro.criticality WHEN 'CRITICAL' THEN 3 WHEN 'IMPORTANT' THEN 2 ELSE 1 END AS criticality_rank,
         coalesce((SELECT bit_or(1 << (array_position(${CATEGORY_ARRAY}, cat) - 1))
                     FROM unnest(a.data_categories) cat WHERE inc.affected IS NULL OR cat = ANY(inc.affected)), 0) AS risk_mask
  FROM routes ro
  JOIN inc ON inc.incident_id = ro.incident_id
  LEFT JOIN data_processing_agreement a ON a.contract_id = ro.contract_id AND a.removed_at IS NULL AND (ro.agreement_id IS NULL OR a.id = ro.agreement_id)
  WHERE ro.starts_on <= inc.today
    AND ro.starts_on <= coalesce(inc.end_day, 'infinity'::date)
    AND CASE WHEN a.id IS NULL THEN coalesce(ro.ends_on, 'infinity'::date)
             WHEN ro.ends_on IS NULL THEN 'infinity'::date
             ELSE greatest(ro.ends_on, a.data_retained_until) END >= inc.start_day
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
         -- Rule 5: a direct client (a contract with the incident's supplier itself) is told by the supplier's notice.
         coalesce(bool_or(depth = 0), false) AS direct,
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
         inc.exfiltration, CASE WHEN pc.direct THEN inc.clients_notified_at END AS clients_notified_at,
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
-- The factors other than the volume depend only on the incident, the categories, the criticality and the
-- depth (and p_depth, which also carries the volume's points), which few sets of clients share (about 20
-- among 9,000): each such set's four factors are built once, not once per client (jsonb builders are
-- most of this part's cost). set_no numbers the sets; factor_sets holds their factors in that order.
ranked AS (
  SELECT s.*, dense_rank() OVER (ORDER BY s.incident_id, s.categories, s.special, s.criticality_rank, s.depth, s.p_depth)::int AS set_no
  FROM scored s
),
factor_sets AS MATERIALIZED (
  SELECT array_agg(jsonb_build_array(
           jsonb_build_object('name', 'specialCategoryData', 'contribution', k.p_sensitivity, 'detail',
             CASE WHEN k.special THEN 'Special category data (Art. 9) at risk: ' || array_to_string(ARRAY(SELECT c FROM unnest(k.categories) c WHERE c = ANY(ARRAY[${sqlValues(SPECIAL_CATEGORIES)}]::text[])), ', ')
                  WHEN k.p_sensitivity = 15 THEN 'No special category data, but sensitive data at risk: ' || array_to_string(ARRAY(SELECT c FROM unnest(k.categories) c WHERE c IN ('CRIMINAL_OFFENCE','CHILDREN')), ', ')
                  WHEN k.p_sensitivity = 5 THEN 'Personal data at risk: ' || array_to_string(k.categories, ', ')
                  ELSE 'No personal data at risk (service impact only)' END)) ORDER BY k.set_no) AS before_volume,
         array_agg(jsonb_build_array(
           jsonb_build_object('name', 'exfiltration', 'contribution', k.p_exfiltration, 'detail',
             CASE WHEN cardinality(k.categories) = 0 THEN 'No data at risk to exfiltrate'
                  ELSE 'Exfiltration ' || lower(replace(k.exfiltration, '_', ' ')) END),
           jsonb_build_object('name', 'serviceCriticality', 'contribution', k.p_criticality, 'detail',
             'Most critical service involved: ' || CASE k.criticality_rank WHEN 3 THEN 'CRITICAL' WHEN 2 THEN 'IMPORTANT' ELSE 'STANDARD' END),
           jsonb_build_object('name', 'supplyChainDepth', 'contribution', k.p_depth::float8, 'detail',
             CASE WHEN k.depth = 0 THEN 'Incident at a direct supplier: no reduction'
                  ELSE 'Incident ' || k.depth || ' sub-processor link' || CASE WHEN k.depth > 1 THEN 's' ELSE '' END
                       || ' down the chain: score x ' || round(power(0.8, k.depth)::numeric, 3) END)
         ) ORDER BY k.set_no) AS after_volume
  -- Only the distinct sets' columns (no builder is evaluated before the DISTINCT).
  FROM (SELECT DISTINCT ON (set_no) set_no, categories, special, criticality_rank, depth, p_depth,
               p_sensitivity, p_exfiltration, exfiltration, p_criticality
        FROM ranked ORDER BY set_no) k
),
computed AS (
  SELECT s.incident_id, s.client_id, s.contract_ids, s.path, s.categories, s.people, s.people_low, s.people_high, s.special,
         s.clients_notified_at, s.p_exfiltration, round(s.base + s.p_depth)::int AS score,
         CASE WHEN round(s.base + s.p_depth) >= 75 THEN 'CRITICAL' WHEN round(s.base + s.p_depth) >= 50 THEN 'HIGH'
              WHEN round(s.base + s.p_depth) >= 25 THEN 'MEDIUM' ELSE 'LOW' END AS level,
         (SELECT before_volume FROM factor_sets)[s.set_no]
           || jsonb_build_object('name', 'dataSubjectVolume', 'contribution', s.p_volume, 'detail',
                CASE WHEN s.people = 0 THEN 'No people''s data at risk'
                     ELSE 'Data of ' || to_char(s.people, 'FM999,999,999,999,999') || ' people at risk' END)
           || (SELECT after_volume FROM factor_sets)[s.set_no] AS factors
  FROM ranked s
)
`;

/**
 * After COMPUTE_CTES: the awareness moments (rule 5) and the comparison with the stored exposures, to
 * `compared` (is_new, is_changed, widened). $1 incident ids; $2 as above; $5 a correction's stated reason
 * (null: none).
 */
const COMPARE_CTES = `
-- Rule 5: the moments each client was told. Its own notices (recordClientNotice; a notice with a reason is a
-- correction and replaces every earlier one), and the supplier's notice (clients_notified_at) for a direct
-- client only: an indirect client hears from its own supplier, on its own date.
told AS (
  SELECT n.incident_id, n.client_id, n.notice_at AS at
  FROM client_notice n
  WHERE n.incident_id = ANY($1::uuid[]) AND ($2::uuid[] IS NULL OR n.client_id = ANY($2::uuid[]))
    AND n.id >= coalesce((SELECT max(m.id) FROM client_notice m
                          WHERE m.incident_id = n.incident_id AND m.client_id = n.client_id AND m.reason IS NOT NULL), 0)
  UNION ALL
  SELECT c.incident_id, c.client_id, c.clients_notified_at FROM computed c WHERE c.clients_notified_at IS NOT NULL
),
-- Compare with what is stored, under the same snapshot, so only real changes are written.
-- Awareness of the incident: the earliest moment told, or the register's first computation (its alert is a
-- notice). Awareness of a personal data breach: the earliest moment told at which the exposure had data at
-- risk (the revision in force then, or the first one when the notice came before it), or the first revision
-- (this one included) with data at risk. Neither moves later, except by a correction ($5, its reason).
aware AS (
  SELECT c.*, e.id AS existing_id, e.resolved_at AS existing_resolved_at,
         least((SELECT min(t.at) FROM told t WHERE t.incident_id = c.incident_id AND t.client_id = c.client_id),
               coalesce(e.first_computed_at, statement_timestamp())) AS aware_candidate,
         least(
           (SELECT min(t.at) FROM told t
            WHERE t.incident_id = c.incident_id AND t.client_id = c.client_id
              AND coalesce(
                    (SELECT cardinality(r.data_categories_at_risk) > 0 AND r.resolved_at IS NULL FROM exposure_revision r
                     WHERE r.exposure_id = e.id AND r.recorded_at <= t.at ORDER BY r.revision DESC LIMIT 1),
                    (SELECT cardinality(r.data_categories_at_risk) > 0 FROM exposure_revision r
                     WHERE r.exposure_id = e.id ORDER BY r.revision LIMIT 1),
                    cardinality(c.categories) > 0)),
           (SELECT min(r.recorded_at) FROM exposure_revision r
            WHERE r.exposure_id = e.id AND cardinality(r.data_categories_at_risk) > 0 AND r.resolved_at IS NULL),
           CASE WHEN cardinality(c.categories) > 0 THEN statement_timestamp() END) AS data_aware_candidate,
         e.aware_at AS existing_aware_at, e.data_aware_at AS existing_data_aware_at,
         e.score AS e_score, e.level AS e_level, e.contract_ids AS e_contract_ids, e.data_categories_at_risk AS e_categories,
         e.data_subjects_at_risk AS e_people, e.data_subjects_at_risk_low AS e_people_low,
         e.data_subjects_at_risk_high AS e_people_high, e.path AS e_path, e.factors AS e_factors,
         e.special_category_data AS e_special, e.notification_status AS e_notification_status
  FROM computed c LEFT JOIN exposure e ON e.incident_id = c.incident_id AND e.client_id = c.client_id
),
compared AS (
  SELECT a.*, a.existing_id IS NULL AS is_new,
         CASE WHEN a.existing_id IS NULL OR a.existing_resolved_at IS NOT NULL THEN 'NEW' ELSE 'CHANGED' END AS change,
         a.existing_id IS NOT NULL AND (a.existing_resolved_at IS NOT NULL OR a.e_score <> a.score OR a.e_level <> a.level
           OR a.e_contract_ids <> a.contract_ids OR a.e_categories <> a.categories
           OR a.e_people <> a.people OR a.e_people_low <> a.people_low
           OR a.e_people_high <> a.people_high OR a.e_path <> a.path OR a.e_factors <> a.factors
           OR a.existing_aware_at <> a.new_aware_at
           OR a.existing_data_aware_at IS DISTINCT FROM a.new_data_aware_at) AS is_changed,
         -- Rule 6 of decisions: a NOT_REQUIRED decision no longer fits an exposure that widened (a category
         -- added, special category data, more people, exfiltration raised): the decision is flagged for review.
         a.e_notification_status = 'NOT_REQUIRED' AND a.existing_resolved_at IS NULL AND (
           NOT a.categories <@ a.e_categories OR (a.special AND NOT a.e_special) OR a.people > a.e_people
           OR (a.factors -> 2 ->> 'contribution')::numeric > (a.e_factors -> 2 ->> 'contribution')::numeric) AS widened
  FROM (
    SELECT aw.*,
           CASE WHEN aw.existing_id IS NULL OR $5::text IS NOT NULL THEN aw.aware_candidate
                ELSE least(aw.existing_aware_at, aw.aware_candidate) END AS new_aware_at,
           CASE WHEN aw.existing_id IS NULL OR $5::text IS NOT NULL THEN aw.data_aware_candidate
                ELSE least(aw.existing_data_aware_at, aw.data_aware_candidate) END AS new_data_aware_at
    FROM aware aw
  ) a
)
`;

/**
 * What the engine writes, after COMPARE_CTES: upserts of what changed, resolution of what no longer applies,
 * and a revision for each change (the alerts follow, ALERTS_CTE). $1 incident ids; $2 as above; $4 why it
 * runs (ExposureChangeReason), written on every revision it adds; $5 a correction's stated reason (null: none).
 */
const WRITE_CTES = `
upserted AS (
  INSERT INTO exposure AS e (incident_id, client_id, revision, score, level, factors, contract_ids, data_categories_at_risk,
                             special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
                             path, first_computed_at, aware_at, data_aware_at, notification_deadline, computed_at, resolved_at,
                             last_change, review_needed_at)
  SELECT incident_id, client_id, 1, score, level, factors, contract_ids, categories, special, people, people_low, people_high, path,
         statement_timestamp(), new_aware_at, new_data_aware_at,
         coalesce(new_data_aware_at, new_aware_at) + interval '72 hours', statement_timestamp(), NULL, change,
         CASE WHEN widened THEN statement_timestamp() END
  FROM compared WHERE is_new OR is_changed
  ON CONFLICT (incident_id, client_id) DO UPDATE SET
    revision = e.revision + 1, score = excluded.score, level = excluded.level, factors = excluded.factors,
    contract_ids = excluded.contract_ids, data_categories_at_risk = excluded.data_categories_at_risk,
    special_category_data = excluded.special_category_data, data_subjects_at_risk = excluded.data_subjects_at_risk,
    data_subjects_at_risk_low = excluded.data_subjects_at_risk_low, data_subjects_at_risk_high = excluded.data_subjects_at_risk_high,
    path = excluded.path, aware_at = excluded.aware_at, data_aware_at = excluded.data_aware_at,
    notification_deadline = excluded.notification_deadline,
    computed_at = excluded.computed_at, resolved_at = NULL, last_change = excluded.last_change,
    -- A widened NOT_REQUIRED decision: the Art. 33 obligation is open again until a new decision.
    review_needed_at = coalesce(excluded.review_needed_at, e.review_needed_at),
    notification_status = CASE WHEN excluded.review_needed_at IS NOT NULL THEN 'ASSESSING' ELSE e.notification_status END
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
                                 path, aware_at, data_aware_at, notification_deadline, computed_at, resolved_at, reason, note)
  SELECT id, revision, statement_timestamp(), score, level, factors, contract_ids, data_categories_at_risk,
         special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
         path, aware_at, data_aware_at, notification_deadline, computed_at, resolved_at, $4::text, $5::text
  FROM changes
  RETURNING exposure_id
)
`;

/**
 * The alerts for the rows in `changes` (written this statement: `upserted` and `resolved`, or staged by
 * recordNewIncident, recordAlertsSql), one per change, plus REVIEW_NEEDED for a widened NOT_REQUIRED decision. Only under the
 * engine's lock (exposure.lock.ts): ids are drawn as rows are inserted, and the lock is held from here to
 * commit, so id order is commit order; each client's last number is read by a statement that began after
 * the lock was taken, so client_seq has no gap and no duplicate.
 */
const ALERTS_CTE = `
-- Ids and each client's own numbers (client_seq: 1, 2, 3, … per client, the cursor a client sees) follow
-- one order, (client, incident): ids are drawn as rows are inserted, in that order. Each client's last
-- number is one index probe; the engine's lock makes reading it and inserting after it one step.
alerts AS (
  INSERT INTO exposure_alert (exposure_id, client_id, incident_id, kind, revision, occurred_at, client_seq)
  SELECT ch.id, ch.client_id, ch.incident_id, ch.kind, ch.revision, ch.occurred_at,
         coalesce((SELECT max(a.client_seq) FROM exposure_alert a WHERE a.client_id = ch.client_id), 0)
           + row_number() OVER (PARTITION BY ch.client_id ORDER BY ch.incident_id, ch.kind_order)
  FROM (
    SELECT id, client_id, incident_id, last_change AS kind, revision, computed_at AS occurred_at, 0 AS kind_order FROM changes
    UNION ALL
    -- A widened NOT_REQUIRED decision also writes REVIEW_NEEDED, for the same revision (its review_needed_at
    -- is the revision's computed_at, the statement that wrote it).
    SELECT id, client_id, incident_id, 'REVIEW_NEEDED', revision, computed_at, 1 FROM changes
    WHERE last_change <> 'RESOLVED' AND review_needed_at = computed_at
  ) ch
  ORDER BY ch.client_id, ch.incident_id, ch.kind_order
  RETURNING id
)
`;

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
 * written on every revision it adds; $5 a correction's stated reason (null: none). Awareness moments only
 * move earlier, except under a correction, which recomputes them from what is recorded then (rule 5). Removed (archived) contracts and agreements carry removed_at and
 * count for nothing here; an archived supplier has no links left (removeSupplier), so the walk needs no filter.
 */
const ENGINE_SQL = `
WITH RECURSIVE ${INC_FROM_INCIDENTS},${COMPUTE_CTES},${COMPARE_CTES},${WRITE_CTES},${ALERTS_CTE}
SELECT (SELECT count(*) FROM changes)::int AS changed, (SELECT max(id) FROM alerts)::text AS last_alert_id,
       (SELECT array_agg(id) FROM changes) AS changed_ids
`;

/**
 * recordIncident (recordNewIncident) computes once, into a temporary table of its own, the exposure rows it
 * will write, then writes the exposures (with their obligation clocks), the revisions and the alerts from
 * that table: each row is computed once, written once in its final form (no second version of 9,000 rows
 * to set their clocks) and never read back from the real tables. The table is dropped at commit.
 * `incidentId` is a uuid from the database; its hex digits make the name unique within the transaction
 * (the demo seed records several incidents in one).
 */
function stageTableOf(incidentId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(incidentId)) throw new Error(`Not a uuid: ${incidentId}`);
  return `pg_temp.record_exposure_${incidentId.replace(/-/g, '')}`;
}

/**
 * The engine's settings, for the caller's transaction only: room in memory for its big sorts, and no JIT
 * compilation. The engine's statements are large (hundreds of expressions) and their estimated costs pass
 * jit_above_cost at the register's size, so PostgreSQL compiled them before every run: 0.5 to 1.7 s of JIT
 * (EXPLAIN ANALYZE's "JIT: Timing … Total") for a statement that runs in well under a second without it, on
 * 9,000 rows as on one client's few (docs/performance.md, 2026-12-03).
 */
const ENGINE_SETTINGS = `set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`;

/**
 * recordIncident's first statement: the engine's settings, and the newest register mark
 * (exposure_input_change) committed before the computation's snapshot, which the statement under the lock
 * compares with. Read before the computation starts, so every register write that commits after the
 * computation's snapshot has a later mark (marks are drawn under the engine's lock, in commit order); one
 * that commits in between is merely recomputed again under the lock, finding nothing to change.
 */
const RECORD_START_SQL = `
SELECT ${ENGINE_SETTINGS}, (SELECT coalesce(max(seq), 0) FROM exposure_input_change)::text AS marks_seen`;

/**
 * recordIncident's computation, without the engine's lock: ENGINE_SQL's computation and comparison for one
 * new incident ($1, $2 and $3 null, $4 INCIDENT_RECORDED, $5 null) into the stage table, one row per
 * exposure to write with every value ENGINE_SQL's upsert and revision would write (the statement's own
 * timestamp for first_computed_at, computed_at and the revision's recorded_at), its new id, and the
 * client's regimes, sector and country and the exfiltration factor's contribution (factors' third), which the
 * obligation clocks are computed from. A new incident has no
 * stored exposure, so every row is new; should one exist, the plain INSERT below fails rather than write
 * a second.
 */
const recordStageSql = (stage: string) => `
CREATE TEMPORARY TABLE ${stage} ON COMMIT DROP AS
WITH RECURSIVE ${INC_FROM_INCIDENTS},${COMPUTE_CTES},${COMPARE_CTES}
SELECT gen_random_uuid() AS id, c.incident_id, c.client_id, 1 AS revision, c.score, c.level, c.factors, c.contract_ids,
       c.categories AS data_categories_at_risk, c.special AS special_category_data, c.people AS data_subjects_at_risk,
       c.people_low AS data_subjects_at_risk_low, c.people_high AS data_subjects_at_risk_high, c.path,
       statement_timestamp() AS first_computed_at, c.new_aware_at AS aware_at, c.new_data_aware_at AS data_aware_at,
       coalesce(c.new_data_aware_at, c.new_aware_at) + interval '72 hours' AS notification_deadline,
       statement_timestamp() AS computed_at, c.change AS last_change,
       CASE WHEN c.widened THEN statement_timestamp() END AS review_needed_at, $4::text AS reason,
       c.p_exfiltration AS exfiltration_contribution, cl.regimes, cl.sector, cl.country
FROM compared c JOIN client cl ON cl.id = c.client_id
WHERE c.is_new OR c.is_changed`;

/** What the obligation clocks of the staged rows are computed from (NewExposureClockRow, obligation.clock.ts). */
const recordClocksSql = (stage: string) => `
SELECT s.id, s.client_id, s.aware_at, s.data_aware_at, s.level, s.review_needed_at, s.data_categories_at_risk, s.special_category_data,
       s.data_subjects_at_risk::text AS people,
       s.exfiltration_contribution::float8 AS exfiltration,
       s.computed_at, s.regimes, s.sector, s.country
FROM ${stage} s`;

/**
 * The staged rows written, without the engine's lock: the exposures with their clocks ($1 ids, $2
 * next_due_at, $3 next_reminder_at) and their revisions. Nothing else can see the new incident or its
 * rows before commit, so no other writer touches them. The engine's lock ($4) is taken last, after the
 * rows are written (the CASE evaluates its condition, the rows written, before the lock's subquery), so
 * the lock is not held while the rows are written; it must be held before recordAlertsSql begins, which
 * reads what committed before it.
 */
const recordWriteSql = (stage: string) => `
WITH written AS (
  INSERT INTO exposure (id, incident_id, client_id, revision, score, level, factors, contract_ids, data_categories_at_risk,
                        special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
                        path, first_computed_at, aware_at, data_aware_at, notification_deadline, computed_at, resolved_at,
                        last_change, review_needed_at, next_due_at, next_reminder_at)
  SELECT s.id, s.incident_id, s.client_id, s.revision, s.score, s.level, s.factors, s.contract_ids, s.data_categories_at_risk,
         s.special_category_data, s.data_subjects_at_risk, s.data_subjects_at_risk_low, s.data_subjects_at_risk_high,
         s.path, s.first_computed_at, s.aware_at, s.data_aware_at, s.notification_deadline, s.computed_at, NULL,
         s.last_change, s.review_needed_at, v.next_due_at, v.next_reminder_at
  FROM ${stage} s
  LEFT JOIN unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS v(id, next_due_at, next_reminder_at) ON v.id = s.id
  RETURNING 1
),
revisions AS (
  INSERT INTO exposure_revision (exposure_id, revision, recorded_at, score, level, factors, contract_ids, data_categories_at_risk,
                                 special_category_data, data_subjects_at_risk, data_subjects_at_risk_low, data_subjects_at_risk_high,
                                 path, aware_at, data_aware_at, notification_deadline, computed_at, resolved_at, reason, note)
  SELECT s.id, s.revision, s.computed_at, s.score, s.level, s.factors, s.contract_ids, s.data_categories_at_risk,
         s.special_category_data, s.data_subjects_at_risk, s.data_subjects_at_risk_low, s.data_subjects_at_risk_high,
         s.path, s.aware_at, s.data_aware_at, s.notification_deadline, s.computed_at, NULL, s.reason, NULL
  FROM ${stage} s
  RETURNING 1
)
SELECT CASE WHEN (SELECT count(*) FROM written) + (SELECT count(*) FROM revisions) >= 0
            THEN (SELECT pg_advisory_xact_lock($4::bigint)::text) END AS locked`;

/**
 * recordIncident's last statement, under the engine's lock: the alerts of the staged rows, their NOTIFY
 * ($1 the channel), the register marks drawn since the computation began ($2): the clients whose facts a
 * write that committed meanwhile changed (all of them if a mark says EVERY_CLIENT, $3), and the rows whose
 * client's regimes, sector or country changed since they were staged (a client update that committed
 * meanwhile did not see them), whose clocks are computed again.
 */
const recordAlertsSql = (stage: string) => `
WITH changes AS (
  SELECT s.id, s.client_id, s.incident_id, s.last_change, s.revision, s.computed_at, s.review_needed_at FROM ${stage} s
),${ALERTS_CTE}
SELECT n.last_alert_id, CASE WHEN n.last_alert_id IS NOT NULL THEN pg_notify($1, n.last_alert_id)::text END AS notified,
       (SELECT array_agg(client_id) FROM exposure_input_change WHERE seq > $2::bigint AND client_id <> $3::uuid) AS changed_clients,
       EXISTS (SELECT 1 FROM exposure_input_change WHERE seq > $2::bigint AND client_id = $3::uuid) AS every_client_changed,
       (SELECT array_agg(s.id) FROM ${stage} s JOIN client c ON c.id = s.client_id
        WHERE c.regimes IS DISTINCT FROM s.regimes OR c.sector <> s.sector OR c.country <> s.country) AS clients_moved
FROM (SELECT (SELECT max(id) FROM alerts)::text AS last_alert_id) n
`;

/**
 * Marks the clients whose register facts this transaction changed ($1; null: every client), under the
 * engine's lock, and reads the open incidents after it (ExposureInputChangeEntity says why).
 */
const MARK_AND_OPEN_SQL = `
WITH marked AS (
  INSERT INTO exposure_input_change (client_id)
  SELECT DISTINCT unnest(coalesce($1::uuid[], ARRAY[$2::uuid]))
  ON CONFLICT (client_id) DO UPDATE SET seq = DEFAULT
)
SELECT id FROM incident WHERE status <> 'CLOSED'
`;

/**
 * What recording an incident would compute, written nowhere: the same `inc` facts (from $1, the incident as
 * JSON) and the same COMPUTE_CTES as ENGINE_SQL, then only a SELECT of `computed`. $2 and $3 as in the
 * engine. Highest score first, then by client id (a stable order for paging).
 */
const SIMULATION_SQL = `
WITH RECURSIVE ${INC_FROM_INPUT},${COMPUTE_CTES}
SELECT client_id, contract_ids, path, categories, people::text AS people, people_low::text AS people_low,
       people_high::text AS people_high, special, score, level, factors
FROM computed
ORDER BY score DESC, client_id DESC
`;

/** Takes the engine's lock, with the engine's settings (ENGINE_SETTINGS) for this transaction only. */
const LOCK_SQL = `SELECT pg_advisory_xact_lock($1), ${ENGINE_SETTINGS}`;

/** A simulation's transaction: it writes nothing (PostgreSQL refuses any write), with the engine's settings. */
const READ_ONLY_SQL = `SELECT set_config('transaction_read_only', 'on', true), ${ENGINE_SETTINGS}`;

/** The facts of an incident that is not recorded, as the engine reads them (the incident table's columns). */
export interface SimulatedIncidentFacts {
  supplierId: string;
  startedAt: Date | null;
  detectedAt: Date;
  containedAt: Date | null;
  clientsNotifiedAt: Date | null;
  dataCategoriesAffected: readonly string[] | null;
  exfiltration: string;
  /** Exactly as stored (numeric(5,4) text), or null while unknown. */
  shareOfDataAffected: string | null;
}

/** One exposure that recording the incident would create: the `computed` row of the engine statement. */
export interface SimulatedExposureRow {
  client_id: string;
  contract_ids: string[];
  path: string[];
  categories: string[];
  people: string;
  people_low: string;
  people_high: string;
  special: boolean;
  score: number;
  level: string;
  factors: { name: string; detail: string; contribution: number }[];
}

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
    correction: string | null = null,
  ): Promise<RecomputeResult> {
    if (incidentIds.length === 0) return NOTHING_CHANGED;
    await manager.query(LOCK_SQL, [EXPOSURE_LOCK_KEY]);
    return this.compute(manager, incidentIds, clientIds, reason, null, correction);
  }

  /**
   * Recording a new incident (rule 1): the same result as recompute([incidentId], INCIDENT_RECORDED), but
   * the long part runs without the engine's lock, so writers of other clients' exposures are not held back
   * by a large incident. Nothing else can see the new incident before this transaction commits, so only
   * one thing can go stale meanwhile: the register facts it computed from. Every register write marks its
   * clients under the lock (MARK_AND_OPEN_SQL); once this holds the lock, the marks drawn after its
   * snapshot name the clients changed by writes that committed in between, which did not see this
   * incident either, and those clients are recomputed here, under the lock, as if the write had run just
   * before this transaction took it (a second revision, REGISTER_CHANGED, like the write's own
   * recomputation in that order). Writes that commit after this one see the incident themselves. The
   * obligation clocks, computed from the staged rows, can go stale only through a client's sector, country
   * or regimes (a client update that committed meanwhile did not see these rows): those rows' clocks are
   * computed again under the lock. Each row is computed once and written once (stageTableOf).
   */
  async recordNewIncident(manager: EntityManager, incidentId: string): Promise<RecomputeResult> {
    const stage = stageTableOf(incidentId);
    const [{ marks_seen }]: { marks_seen: string }[] = await manager.query(RECORD_START_SQL);
    await manager.query(recordStageSql(stage), [
      [incidentId],
      null,
      null,
      ExposureChangeReason.INCIDENT_RECORDED,
      null,
    ]);
    // The clocks are computed by the same code as refreshObligationClocks (obligation.clock.ts), from the
    // staged rows, and written with them.
    const now = new Date();
    const clocks = (await manager.query(recordClocksSql(stage))).map((row: NewExposureClockRow) =>
      clockValuesOf(newExposureClockOf(row), now),
    );
    await manager.query(recordWriteSql(stage), [
      clocks.map((c: ClockValues) => c.id),
      clocks.map((c: ClockValues) => c.nextDueAt),
      clocks.map((c: ClockValues) => c.nextReminderAt),
      EXPOSURE_LOCK_KEY,
    ]);
    // From here on under the lock, to commit.
    const [second]: {
      last_alert_id: string | null;
      changed_clients: string[] | null;
      every_client_changed: boolean;
      clients_moved: string[] | null;
    }[] = await manager.query(recordAlertsSql(stage), [ALERT_CHANNEL, marks_seen, EVERY_CLIENT]);
    if (second.clients_moved)
      await refreshObligationClocks(manager, second.clients_moved, new Date(), { locked: true });
    const changedIds: string[] = clocks.map((c: ClockValues) => c.id);
    const stale = second.every_client_changed ? null : (second.changed_clients ?? []);
    if (stale === null || stale.length > 0) {
      const again = await this.compute(
        manager,
        [incidentId],
        stale,
        ExposureChangeReason.REGISTER_CHANGED,
        null,
        null,
      );
      const changed = new Set([...changedIds, ...again.changedIds]);
      return { changed: changed.size, lastAlertId: again.lastAlertId ?? second.last_alert_id };
    }
    return { changed: changedIds.length, lastAlertId: second.last_alert_id };
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
    // Marked even when nothing is open: an incident being recorded right now is not visible yet, and its
    // recordNewIncident recomputes these clients if this commits before it takes the lock.
    const open: { id: string }[] = await manager.query(MARK_AND_OPEN_SQL, [clientIds, EVERY_CLIENT]);
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
      `WITH started AS (
         SELECT array_agg(DISTINCT client_id) AS ids FROM contract
         WHERE starts_on > $1::date AND starts_on <= $2::date AND removed_at IS NULL
       ),
       -- These clients' exposures move today: marked like a register write's (recordNewIncident).
       marked AS (
         INSERT INTO exposure_input_change (client_id) SELECT unnest(ids) FROM started
         ON CONFLICT (client_id) DO UPDATE SET seq = DEFAULT
       )
       SELECT (SELECT array_agg(id) FROM incident WHERE status <> 'CLOSED') AS incident_ids,
              (SELECT ids FROM started) AS client_ids`,
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
   * What recording `incident` would compute for every client, highest score first, writing nothing: the
   * engine's own computation (COMPUTE_CTES) over the incident given as parameters. It takes no lock, so
   * register writes are never held back by it, and runs in a READ ONLY transaction (one snapshot; any write
   * would be refused by PostgreSQL itself), with the engine's room for sorts.
   */
  simulate(
    connection: TransactionalConnection,
    incident: SimulatedIncidentFacts,
  ): Promise<SimulatedExposureRow[]> {
    const row = {
      id: SIMULATED_INCIDENT_ID,
      supplier_id: incident.supplierId,
      exfiltration: incident.exfiltration,
      clients_notified_at: incident.clientsNotifiedAt?.toISOString() ?? null,
      data_categories_affected: incident.dataCategoriesAffected,
      share_of_data_affected: incident.shareOfDataAffected,
      started_at: incident.startedAt?.toISOString() ?? null,
      detected_at: incident.detectedAt.toISOString(),
      contained_at: incident.containedAt?.toISOString() ?? null,
    };
    return connection.transaction(async (manager) => {
      await manager.query(READ_ONLY_SQL);
      return manager.query(SIMULATION_SQL, [JSON.stringify(row), null, null]);
    });
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
    correction: string | null = null,
  ): Promise<RecomputeResult & { changedIds: string[] }> {
    const [row] = await manager.query(ENGINE_SQL, [incidentIds, clientIds, today, reason, correction]);
    // Every revision can move an obligation (awareness, data at risk, level, a review flag): the clocks
    // kept on the rows follow in the same transaction, under the lock already held.
    if (row.changed_ids)
      await refreshObligationClocks(manager, row.changed_ids, new Date(), { locked: true });
    if (row.last_alert_id) await notifyAlerts(manager, row.last_alert_id);
    return { changed: row.changed, lastAlertId: row.last_alert_id, changedIds: row.changed_ids ?? [] };
  }
}

/** Rule 2 as days pass: an open incident exposes a contract from the day it starts (docs/exposure-scoring.md). */
export function startedContractsJob(engine: ExposureEngine): DailyJob {
  return {
    name: 'exposures-of-contracts-starting',
    run: (manager, sinceDay, today) => engine.recomputeStartedContracts(manager, sinceDay, today),
  };
}
