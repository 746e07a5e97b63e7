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
import { ContractOrder, ContractOrderField } from './contract.inputs';
import { OrderDirection, orderKind } from '../../common/order-direction';
import { ListOrder } from '../../common/paging';

export const CONTRACT_ORDER = listOrder<ContractEntity>('contracts', [
  { sql: 't.reference', cast: 'text', value: (c) => c.reference },
  { sql: 't.id', cast: 'uuid', value: (c) => c.id },
]);

const DEFAULT_DIRECTION: Record<ContractOrderField, OrderDirection> = {
  REFERENCE: OrderDirection.ASC,
  VALUE: OrderDirection.DESC,
  ENDS_ON: OrderDirection.ASC,
};

/** A date column as pg gives it (a Date at local midnight, or text) to the 'YYYY-MM-DD' a cursor carries. */
function dayText(value: Date | string): string {
  if (typeof value === 'string') return value.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}

/** Open-ended contracts sort as ending on this day; contracts without a value as worth -1. */
const NO_END = '9999-12-31';
const NO_VALUE = '-1';

export interface ContractListOrder {
  order: ListOrder<ContractEntity>;
  descending: boolean;
  /** Properties the order reads, so a page never leaves them out. */
  reads: readonly string[];
}

/**
 * The keyset order of a contract list for an `orderBy` (null: by reference). Each order has its own
 * cursor kind (contractsByValueDesc…), so a cursor read in one order is refused in another. NULLs sort
 * as a sentinel (coalesce) because a row comparison with a NULL in it is never true: no row would follow.
 */
export function contractOrder(orderBy: ContractOrder | null | undefined): ContractListOrder {
  const field = orderBy?.field ?? ContractOrderField.REFERENCE;
  const direction = orderBy?.direction ?? DEFAULT_DIRECTION[field];
  const descending = direction === OrderDirection.DESC;
  if (field === ContractOrderField.REFERENCE && !descending)
    return { order: CONTRACT_ORDER, descending, reads: [] };
  const kind = orderKind('contracts', field, direction);
  switch (field) {
    case ContractOrderField.REFERENCE:
      return { order: listOrder(kind, [...CONTRACT_ORDER]), descending, reads: [] };
    case ContractOrderField.VALUE:
      return {
        order: listOrder(kind, [
          {
            sql: `coalesce(t.value_amount, ${NO_VALUE})`,
            cast: 'numeric',
            value: (c) => c.valueAmount ?? NO_VALUE,
          },
          ...CONTRACT_ORDER,
        ]),
        descending,
        reads: ['valueAmount'],
      };
    case ContractOrderField.ENDS_ON:
      return {
        order: listOrder(kind, [
          {
            sql: `coalesce(t.ends_on, '${NO_END}'::date)`,
            cast: 'date',
            value: (c) => (c.endsOn === null ? NO_END : dayText(c.endsOn as Date | string)),
          },
          ...CONTRACT_ORDER,
        ]),
        descending,
        reads: ['endsOn'],
      };
  }
}

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
export function liveContracts(viewer: Viewer, params: SqlParams, alias = 't'): string[] {
  return [`${alias}.removed_at IS NULL`, ...contractVisibility(viewer, params, alias)];
}

export type ContractLoaders = ReturnType<typeof createContractLoaders>;

export function createContractLoaders(db: DataSource, viewer: Viewer) {
  const pagesBy = (parentColumn: string) =>
    childPageLoader<ContractEntity, ContractOrder>((parentIds, args, orderBy, leaveOut) => {
      const params = new SqlParams();
      const { order, descending, reads } = contractOrder(orderBy);
      return childPagesQuery(
        db,
        {
          entity: ContractEntity,
          from: 'contract t',
          where: liveContracts(viewer, params),
          params,
          order,
          descending,
          leaveOut: leaveOut.filter((property) => !reads.includes(property)),
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
