import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, clientScope } from '../../auth/viewer';
import { SPECIAL_CATEGORIES, sqlValues } from '../../common/enums';
import { Connection, PageArgs, decodeCursor, pageSize, toConnection } from '../../common/connection';
import { SqlParams, hydrate, listColumns, listOrder } from '../../common/paging';
import { assertValidFilter } from '../../common/validation';
import { SupplierEntity } from '../supplier/supplier.entity';
import { supplierWalk } from '../supplier/supplier.walk';
import { ConcentrationFilter } from './concentration.inputs';

/** One row of the ranking (SupplierConcentration in the schema). */
export interface SupplierConcentrationValue {
  supplier: SupplierEntity;
  clientsReached: number;
  directClients: number;
  contracts: number;
  criticalContracts: number;
  criticalServiceShare: number;
  specialCategoryClients: number;
  peopleRange: { low: number; high: number };
}

/** Most clients reached first, then most contracts, then by supplier id (a stable order for paging). */
export const CONCENTRATION_ORDER = listOrder<SupplierConcentrationValue>('concentration', [
  { sql: 't.clients_reached', cast: 'integer', value: (c) => c.clientsReached },
  { sql: 't.contracts_reached', cast: 'integer', value: (c) => c.contracts },
  { sql: 't.id', cast: 'uuid', value: (c) => c.supplier.id },
]);

/**
 * Every live supplier's reach, in one statement. `client`: the SQL of a uuid parameter limiting the count
 * to one client's contracts (null: every client's).
 *
 * What counts is what an incident at the supplier today would involve, by the exposure engine's rules 2
 * and 3 (docs/exposure-scoring.md) with an incident window of today: live contracts and agreements only;
 * each agreement holds its data from the contract's start to the later of the contract's end and its own
 * retention; a contract without agreements counts (service impact) while it runs. A holding reaches the
 * suppliers that its entry reaches through supplier-level links (the entry included): the contract's own
 * supplier for every holding of the contract, and each sub-processor an agreement names for that agreement.
 * (The engine does not use an agreement-level chain that passes through the contract's own supplier; that
 * supplier then reaches the same suppliers itself, covering every holding, so the counts are the same.)
 *
 * Cost: the links' strongly connected components labelled once (a step per level of the graph and round,
 * each reading every link once), then one breadth-first walk over the condensed graph from each distinct
 * entry component (supplierWalk), then one join of what each entry reaches with the holdings entering there,
 * grouped by hash per (supplier, client, contract), then per (supplier, client), then per supplier: no
 * DISTINCT sorts. docs/concentration.md has the measurements (one component over all 2,000 suppliers of the
 * benchmark's register: about 2.5 s, where walking from each member did not finish in 5 minutes).
 */
function concentrationSql(client: string): string {
  return `WITH RECURSIVE
holdings AS (
  SELECT c.id AS contract_id, c.client_id, c.supplier_id AS contract_supplier, c.criticality = 'CRITICAL' AS critical,
         a.id AS agreement_id, a.data_subject_count,
         coalesce(a.data_categories && ARRAY[${sqlValues(SPECIAL_CATEGORIES)}]::text[], false) AS special
  FROM contract c
  LEFT JOIN data_processing_agreement a ON a.contract_id = c.id AND a.removed_at IS NULL
  WHERE c.removed_at IS NULL
    AND c.starts_on <= (statement_timestamp() AT TIME ZONE 'UTC')::date
    AND (${client}::uuid IS NULL OR c.client_id = ${client}::uuid)
    AND CASE WHEN a.id IS NULL THEN coalesce(c.ends_on, 'infinity'::date)
             WHEN c.ends_on IS NULL THEN 'infinity'::date
             ELSE greatest(c.ends_on, a.data_retained_until) END >= (statement_timestamp() AT TIME ZONE 'UTC')::date
),
-- Strongly connected components of the links, labelled by their least member (as text, "C" order): every
-- member of a component reaches exactly what the others reach, so the walk below runs over the condensed
-- graph (a DAG) from each entry's component, and a component spanning every supplier is one walk, not one
-- per member. The colouring is the forward-backward one, set-based, with the whole state in one row:
-- 'forward' lowers each node's colour to the least colour of a node linking to it (restricted to nodes not
-- yet in a component) until nothing changes, so a node's colour is the least node that reaches it; nodes
-- whose colour is their own are roots; 'backward' grows each root's component from the root along links
-- backwards through nodes of the root's colour (exactly the nodes the root reaches and that reach it); then
-- those components are settled and the rest coloured again. Each step reads every link once; the steps
-- are the rounds times the depth of the graph (docs/concentration.md).
scc_links AS MATERIALIZED (
  SELECT supplier_id::text COLLATE "C" AS a, subprocessor_id::text COLLATE "C" AS b FROM supplier_subprocessor
),
scc(phase, colour, found, settled) AS (
  SELECT 'forward'::text, jsonb_object_agg(n.node, n.node), '{}'::jsonb, '{}'::jsonb
  FROM (SELECT a AS node FROM scc_links UNION SELECT b FROM scc_links) n
  HAVING count(*) > 0
  UNION ALL
  SELECT CASE WHEN s.phase = 'forward' THEN CASE WHEN fwd.lowered IS NULL THEN 'backward' ELSE 'forward' END
              WHEN bwd.grown IS NOT NULL THEN 'backward'
              WHEN rest.colour IS NULL THEN 'done' ELSE 'forward' END,
         CASE WHEN s.phase = 'forward' THEN s.colour || coalesce(fwd.lowered, '{}'::jsonb)
              WHEN bwd.grown IS NOT NULL THEN s.colour ELSE coalesce(rest.colour, '{}'::jsonb) END,
         CASE WHEN s.phase = 'forward' THEN CASE WHEN fwd.lowered IS NULL THEN roots.found ELSE s.found END
              WHEN bwd.grown IS NOT NULL THEN s.found || bwd.grown ELSE '{}'::jsonb END,
         CASE WHEN s.phase = 'backward' AND bwd.grown IS NULL THEN s.settled || s.found ELSE s.settled END
  FROM scc s
  CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(x.node, x.colour) AS lowered FROM (
      SELECT l.b AS node, min((s.colour ->> l.a) COLLATE "C") AS colour FROM scc_links l
      WHERE s.phase = 'forward' AND (s.colour ->> l.a) COLLATE "C" < (s.colour ->> l.b) COLLATE "C"
      GROUP BY l.b
    ) x
  ) fwd
  CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(r.key, r.value) AS found FROM jsonb_each_text(s.colour) r
    WHERE s.phase = 'forward' AND fwd.lowered IS NULL AND r.key = r.value
  ) roots
  CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(x.node, x.label) AS grown FROM (
      SELECT DISTINCT l.a AS node, s.found ->> l.b AS label FROM scc_links l
      WHERE s.phase = 'backward' AND s.found ? l.b AND NOT s.found ? l.a AND s.colour ->> l.a = s.found ->> l.b
    ) x
  ) bwd
  CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(r.key, r.key) AS colour FROM jsonb_object_keys(s.colour) r(key)
    WHERE s.phase = 'backward' AND bwd.grown IS NULL AND NOT s.found ? r.key
  ) rest
  WHERE s.phase <> 'done'
),
-- Suppliers without links are their own component and have no row here.
component_of AS MATERIALIZED (
  SELECT c.key::uuid AS node, c.value::uuid AS component
  FROM scc CROSS JOIN LATERAL jsonb_each_text(scc.settled) c WHERE scc.phase = 'done'
),
condensed AS MATERIALIZED (
  SELECT DISTINCT coalesce(ca.component, l.supplier_id) AS supplier_id,
         coalesce(cb.component, l.subprocessor_id) AS subprocessor_id
  FROM supplier_subprocessor l
  LEFT JOIN component_of ca ON ca.node = l.supplier_id
  LEFT JOIN component_of cb ON cb.node = l.subprocessor_id
  WHERE coalesce(ca.component, l.supplier_id) <> coalesce(cb.component, l.subprocessor_id)
),
entries AS (
  SELECT coalesce(co.component, x.entry) AS component, x.*
  FROM (
    SELECT h.contract_supplier AS entry, h.* FROM holdings h
    UNION ALL
    SELECT s.subprocessor_id, h.* FROM holdings h JOIN agreement_subprocessor s ON s.agreement_id = h.agreement_id
  ) x
  LEFT JOIN component_of co ON co.node = x.entry
),
${supplierWalk('walk', '(SELECT DISTINCT component AS source FROM entries)', 'subprocessors', 'condensed')},
-- Each entry component's reach (in components): the visited set of its walk's last level.
reach_sets AS (
  SELECT DISTINCT ON (source) source, visited FROM walk ORDER BY source, depth DESC
),
-- Entry components with the same reach are one class: what enters at any of them reaches the same suppliers.
classes AS (
  SELECT visited, min(source::text)::uuid AS class FROM reach_sets GROUP BY visited
),
class_of AS (
  SELECT rs.source, c.class FROM reach_sets rs JOIN classes c ON c.visited = rs.visited
),
component_classes AS (
  SELECT k.key::uuid AS component, array_agg(c.class ORDER BY c.class) AS classes
  FROM classes c CROSS JOIN LATERAL jsonb_object_keys(c.visited) AS k(key)
  GROUP BY k.key
),
-- Components reached by the same classes have the same figures: one signature each, counted once.
signatures AS (
  SELECT classes, min(component::text)::uuid AS sig FROM component_classes GROUP BY classes
),
component_signature AS (
  SELECT cc.component, s.sig FROM component_classes cc JOIN signatures s ON s.classes = cc.classes
),
-- Materialised: one join feeds both the contract counts and the people.
reached AS MATERIALIZED (
  SELECT s.sig, e.client_id, e.contract_id, e.agreement_id, e.data_subject_count, e.critical, e.special
  FROM signatures s
  CROSS JOIN LATERAL unnest(s.classes) AS u(class)
  JOIN class_of co ON co.class = u.class
  JOIN entries e ON e.component = co.source
),
reached_contracts AS (
  SELECT sig, client_id, contract_id, bool_or(critical) AS critical, bool_or(special) AS special
  FROM reached GROUP BY sig, client_id, contract_id
),
per_client AS (
  SELECT sig, client_id, bool_or(special) AS special, count(*) AS contracts, count(*) FILTER (WHERE critical) AS critical
  FROM reached_contracts GROUP BY sig, client_id
),
per_signature AS (
  SELECT sig, count(*)::int AS clients_reached, sum(contracts)::int AS contracts_reached,
         sum(critical)::int AS critical_contracts, (count(*) FILTER (WHERE special))::int AS special_clients
  FROM per_client GROUP BY sig
),
people AS (
  SELECT sig, max(data_subject_count)::bigint AS people_low, sum(data_subject_count)::bigint AS people_high
  FROM (SELECT DISTINCT sig, agreement_id, data_subject_count FROM reached WHERE agreement_id IS NOT NULL) reached_agreements
  GROUP BY sig
),
-- Direct clients are the supplier's own, not its cycle's.
direct AS (
  SELECT contract_supplier AS supplier_id, count(DISTINCT client_id)::int AS direct_clients
  FROM holdings GROUP BY contract_supplier
),
critical_total AS (
  SELECT count(DISTINCT contract_id)::int AS n FROM holdings WHERE critical
),
ranked AS (
  SELECT s.*, coalesce(ps.clients_reached, 0) AS clients_reached, coalesce(d.direct_clients, 0) AS direct_clients,
         coalesce(ps.contracts_reached, 0) AS contracts_reached, coalesce(ps.critical_contracts, 0) AS critical_contracts,
         coalesce(ps.special_clients, 0) AS special_clients,
         coalesce(p.people_low, 0)::text AS people_low, coalesce(p.people_high, 0)::text AS people_high,
         CASE WHEN ct.n = 0 THEN 0 ELSE coalesce(ps.critical_contracts, 0)::float8 / ct.n END AS critical_share
  FROM supplier s
  CROSS JOIN critical_total ct
  LEFT JOIN component_of co ON co.node = s.id
  LEFT JOIN component_signature ns ON ns.component = coalesce(co.component, s.id)
  LEFT JOIN per_signature ps ON ps.sig = ns.sig
  LEFT JOIN people p ON p.sig = ns.sig
  LEFT JOIN direct d ON d.supplier_id = s.id
  WHERE s.removed_at IS NULL
)`;
}

const METRICS = `t.clients_reached, t.direct_clients, t.contracts_reached, t.critical_contracts, t.special_clients,
  t.people_low, t.people_high, t.critical_share`;

export class ConcentrationService {
  constructor(private readonly connection: TransactionalConnection) {}

  private get db() {
    return this.connection.manager;
  }

  /**
   * The ranking of live suppliers by clients reached. A client-role viewer's figures count only its own
   * contracts (its own reach: how much of its critical services depend on one provider), so nothing of
   * another client shows, not even as a count; suppliers themselves are public in the register.
   */
  async rank(
    viewer: Viewer,
    filter: ConcentrationFilter | null | undefined,
    page: PageArgs,
  ): Promise<Connection<SupplierConcentrationValue>> {
    assertValidFilter(ConcentrationFilter, filter);
    const first = pageSize(page);
    const cursor = page.after
      ? decodeCursor(
          page.after,
          CONCENTRATION_ORDER.kind,
          CONCENTRATION_ORDER.map((o) => o.cast),
        )
      : null;
    const params = new SqlParams();
    const client = params.param(clientScope(viewer) ?? (viewer.role === 'client' ? NO_CLIENT : null));
    const where: string[] = [];
    if (filter?.tier) where.push(`t.tier = ${params.param(filter.tier)}`);
    if (filter?.strategic != null) where.push(`t.strategic = ${params.param(filter.strategic)}`);
    if (filter?.reachesClients != null)
      where.push(filter.reachesClients ? 't.clients_reached > 0' : 't.clients_reached = 0');
    const countWhere = [...where];
    // The count binds what its own SQL names: the parameters so far, not the cursor's that follow.
    const countParams = [...params.values];
    if (cursor) {
      const [clients, contracts, id] = cursor;
      where.push(
        `(t.clients_reached, t.contracts_reached, t.id) < (${params.param(clients)}::integer, ${params.param(contracts)}::integer, ${params.param(id)}::uuid)`,
      );
    }
    const rows: Record<string, unknown>[] = await this.db.query(
      `${concentrationSql(client)}
       SELECT ${listColumns(this.db, SupplierEntity)}, ${METRICS} FROM ranked t
       WHERE ${where.length ? where.join(' AND ') : 'TRUE'}
       ORDER BY t.clients_reached DESC, t.contracts_reached DESC, t.id DESC LIMIT ${first + 1}`,
      params.values,
    );
    return toConnection(
      rows.map((row) => ({
        supplier: hydrate(this.db, SupplierEntity, row),
        clientsReached: row.clients_reached as number,
        directClients: row.direct_clients as number,
        contracts: row.contracts_reached as number,
        criticalContracts: row.critical_contracts as number,
        criticalServiceShare: row.critical_share as number,
        specialCategoryClients: row.special_clients as number,
        peopleRange: { low: Number(row.people_low), high: Number(row.people_high) },
      })),
      first,
      cursor !== null,
      CONCENTRATION_ORDER.kind,
      (c) => CONCENTRATION_ORDER.map((o) => o.value(c)),
      async () => {
        // Without a reach filter the count is the live suppliers the filter keeps: no walk needed (the
        // client parameter is still bound, so it is still typed, in a condition that is always true).
        const needsReach = filter?.reachesClients != null;
        const [{ count }] = await this.db.query(
          needsReach
            ? `${concentrationSql(client)} SELECT count(*)::int AS count FROM ranked t WHERE ${countWhere.join(' AND ')}`
            : `SELECT count(*)::int AS count FROM supplier t WHERE t.removed_at IS NULL AND (${client}::uuid IS NULL OR ${client}::uuid IS NOT NULL)${countWhere.map((w) => ` AND ${w}`).join('')}`,
          countParams,
        );
        return count as number;
      },
    );
  }
}

/** A client-role token without a client (refused elsewhere) must count nothing, never everything. */
const NO_CLIENT = '00000000-0000-0000-0000-000000000000';
