import { DataSource } from 'typeorm';
import { Viewer, clientScope } from '../../auth/viewer';
import { byIdLoader, childPageLoader, countLoader } from '../../common/loaders';
import {
  OptionalListColumns,
  SqlParams,
  childCountsQuery,
  childPagesQuery,
  hydrate,
  listOrder,
} from '../../common/paging';
import { ContractEntity } from './contract.entity';

export const CONTRACT_ORDER = listOrder<ContractEntity>('contracts', [
  { sql: 't.reference', cast: 'text', value: (c) => c.reference },
  { sql: 't.id', cast: 'uuid', value: (c) => c.id },
]);

/** Contract columns a page reads only when a selected field shows them. */
export const CONTRACT_OPTIONAL_COLUMNS = new OptionalListColumns({
  title: ['title'],
  startsOn: ['startsOn'],
  endsOn: ['endsOn'],
  criticality: ['criticality'],
  valueAmount: ['value'],
  valueCurrency: ['value'],
});

/** The contracts a viewer may see: a client-role viewer only its own. */
export function contractVisibility(viewer: Viewer, params: SqlParams, alias = 't'): string[] {
  const scope = clientScope(viewer);
  return scope ? [`${alias}.client_id = ${params.param(scope)}::uuid`] : [];
}

/** The contracts in the register that a viewer may see: lists leave removed (archived) contracts out. */
function liveContracts(viewer: Viewer, params: SqlParams): string[] {
  return ['t.removed_at IS NULL', ...contractVisibility(viewer, params)];
}

export type ContractLoaders = ReturnType<typeof createContractLoaders>;

export function createContractLoaders(db: DataSource, viewer: Viewer) {
  const pagesBy = (parentColumn: string) =>
    childPageLoader<ContractEntity>((parentIds, args, _filter, leaveOut) => {
      const params = new SqlParams();
      return childPagesQuery(
        db,
        {
          entity: ContractEntity,
          from: 'contract t',
          where: liveContracts(viewer, params),
          params,
          order: CONTRACT_ORDER,
          leaveOut,
        },
        `t.${parentColumn}`,
        parentIds,
        args,
      );
    });
  const countsBy = (parentColumn: string) =>
    countLoader((parentIds) => {
      const params = new SqlParams();
      return childCountsQuery(
        db,
        'contract t',
        liveContracts(viewer, params),
        params,
        `t.${parentColumn}`,
        parentIds,
      );
    });
  return {
    /** Archived contracts too: the exposures that ran through a removed contract still show it (node() does not). */
    contractById: byIdLoader<ContractEntity>(async (ids) => {
      const params = new SqlParams();
      const where = [`t.id = ANY(${params.param(ids)}::uuid[])`, ...contractVisibility(viewer, params)];
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT t.* FROM contract t WHERE ${where.join(' AND ')}`,
        params.values,
      );
      return rows.map((row) => hydrate(db, ContractEntity, row));
    }),
    contractPagesBySupplier: pagesBy('supplier_id'),
    contractCountsBySupplier: countsBy('supplier_id'),
    contractPagesByClient: pagesBy('client_id'),
    contractCountsByClient: countsBy('client_id'),
  };
}
