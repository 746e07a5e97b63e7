import { registerEnumType } from 'type-graphql';

/**
 * The direction of a list's `orderBy` (shared by every ordered list). A list's cursors carry the order they
 * were read in, so a cursor read in one order is refused in another (common/paging.ts, ListOrder.kind).
 */
export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

registerEnumType(OrderDirection, {
  name: 'OrderDirection',
  description: 'Ascending or descending.',
  valuesConfig: { ASC: { description: 'Smallest first.' }, DESC: { description: 'Largest first.' } },
});

/** The cursor kind of a list read in a non-default order: letters only, e.g. suppliersByDependentsDesc. */
export function orderKind(list: string, field: string, direction: OrderDirection): string {
  const camel = field
    .toLowerCase()
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `${list}By${camel}${direction === OrderDirection.ASC ? 'Asc' : 'Desc'}`;
}
