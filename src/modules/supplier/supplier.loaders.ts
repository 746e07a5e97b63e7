import { DataSource } from 'typeorm';
import { byIdLoader, childPageLoader, countLoader, groupByParent, groupLoader } from '../../common/loaders';
import { decodeCursor, pageSize } from '../../common/connection';
import { ListOrder, hydrate, listColumns, listOrder } from '../../common/paging';
import { SupplierEntity } from './supplier.entity';
import { supplierWalk } from './supplier.walk';

/** A supplier that uses another as a sub-processor, `depth` links up the chain (1: directly). */
export interface SupplierDependent {
  supplier: SupplierEntity;
  depth: number;
}

/** Dependents nearest first, then by name. */
export const DEPENDENT_ORDER: ListOrder<SupplierDependent> = listOrder('dependents', [
  { sql: 'r.depth', cast: 'integer', value: (d) => d.depth },
  { sql: 't.name', cast: 'text', value: (d) => d.supplier.name },
  { sql: 't.id', cast: 'uuid', value: (d) => d.supplier.id },
]);

/** Every (parent, dependent, depth) of the parents in $1: one breadth-first walk for all of them. */
const DEPENDENTS_SQL = `WITH RECURSIVE ${supplierWalk('walk', '(SELECT unnest($1::uuid[]) AS source)', 'dependents')},
reached AS (
  SELECT w.source, n.node, w.depth FROM walk w CROSS JOIN LATERAL unnest(w.frontier) AS n(node) WHERE w.depth > 0
)`;

/** Suppliers are visible to every role, so these loaders need no viewer scope. */
export function createSupplierLoaders(db: DataSource) {
  return {
    supplierById: byIdLoader<SupplierEntity>(async (ids) => {
      const rows = await db.query(
        `SELECT ${listColumns(db, SupplierEntity)} FROM supplier t WHERE t.id = ANY($1::uuid[])`,
        [ids],
      );
      return rows.map((row: Record<string, unknown>) => hydrate(db, SupplierEntity, row));
    }),
    subprocessorsBySupplier: groupLoader<SupplierEntity>(async (supplierIds) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT l.supplier_id AS __parent, s.* FROM supplier_subprocessor l JOIN supplier s ON s.id = l.subprocessor_id
         WHERE l.supplier_id = ANY($1::uuid[]) ORDER BY s.name, s.id`,
        [supplierIds],
      );
      return groupByParent(rows, (row) => hydrate(db, SupplierEntity, row));
    }),
    /** A page of each parent's dependents (first + 1 rows), for all parents in one statement. */
    dependentPagesBySupplier: childPageLoader<SupplierDependent>(async (parentIds, args) => {
      const first = pageSize(args);
      const cursor = args.after
        ? decodeCursor(
            args.after,
            DEPENDENT_ORDER.kind,
            DEPENDENT_ORDER.map((o) => o.cast),
          )
        : null;
      const rows: Record<string, unknown>[] = await db.query(
        `${DEPENDENTS_SQL},
         ranked AS (
           SELECT r.source AS __parent, r.depth AS __depth, ${listColumns(db, SupplierEntity)},
                  row_number() OVER (PARTITION BY r.source ORDER BY r.depth, t.name, t.id) AS __n
           FROM reached r JOIN supplier t ON t.id = r.node
           WHERE ${cursor ? '(r.depth, t.name, t.id) > ($2::integer, $3::text, $4::uuid)' : 'TRUE'}
         )
         SELECT * FROM ranked WHERE __n <= $${cursor ? 5 : 2} ORDER BY __parent, __n`,
        cursor ? [parentIds, ...cursor, first + 1] : [parentIds, first + 1],
      );
      return groupByParent(rows, (row) => ({
        supplier: hydrate(db, SupplierEntity, row),
        depth: row.__depth as number,
      }));
    }),
    dependentCountsBySupplier: countLoader(async (parentIds) => {
      const rows: { source: string; count: number }[] = await db.query(
        `${DEPENDENTS_SQL} SELECT source, count(*)::int AS count FROM reached GROUP BY source`,
        [parentIds],
      );
      return new Map(rows.map((row) => [row.source, row.count]));
    }),
  };
}

export type SupplierLoaders = ReturnType<typeof createSupplierLoaders>;
