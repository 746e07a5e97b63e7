import { DataSource } from 'typeorm';
import { byIdLoader, groupByParent, groupLoader } from '../../common/loaders';
import { hydrate, listColumns } from '../../common/paging';
import { SupplierEntity } from './supplier.entity';

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
  };
}
