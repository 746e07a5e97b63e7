/**
 * Breadth-first walks of the sub-processor graph from many sources at once, one recursive CTE for all of
 * them, the engine's walk without its paths (exposure.engine.ts): a row per (source, level) carries the
 * level's new suppliers (frontier) and every supplier settled so far (visited, a jsonb set), so each
 * supplier is settled once per source, at its shortest distance, and each link is followed at most once per
 * source whatever cycles the graph has. The work is the size of what the sources reach: linear in the
 * links reached from each source (docs/concentration.md measures it). Archived suppliers have no links left
 * (removeSupplier), so the walks need no filter.
 *
 * `sources` is a SQL relation with a uuid column `source`. The CTE named `name` has rows
 * (source, depth, frontier uuid[]): depth 0 is the source itself.
 *
 * - `dependents`: backwards, to the suppliers that use the source as a sub-processor (directly or through chains);
 * - `subprocessors`: forwards, to the suppliers the source relies on (directly or through chains).
 *
 * `links` is the relation walked, with columns (supplier_id, subprocessor_id): the register's links by
 * default, or a condensation of them (concentration walks its strongly connected components).
 */
export function supplierWalk(
  name: string,
  sources: string,
  direction: 'dependents' | 'subprocessors',
  links = 'supplier_subprocessor',
): string {
  const [from, to] =
    direction === 'dependents' ? ['subprocessor_id', 'supplier_id'] : ['supplier_id', 'subprocessor_id'];
  return `${name}(source, depth, frontier, visited) AS (
  SELECT s.source, 0, ARRAY[s.source], jsonb_build_object(s.source::text, true) FROM ${sources} s
  UNION ALL
  SELECT w.source, w.depth + 1, step.frontier, w.visited || step.seen
  FROM ${name} w
  CROSS JOIN LATERAL (
    SELECT array_agg(x.node) AS frontier, jsonb_object_agg(x.node::text, true) AS seen
    FROM (
      SELECT DISTINCT l.${to} AS node FROM ${links} l
      WHERE l.${from} = ANY (w.frontier) AND NOT w.visited ? l.${to}::text
    ) x
  ) step
  WHERE step.frontier IS NOT NULL
)`;
}
