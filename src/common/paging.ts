import { DataSource, EntityManager, ObjectLiteral } from 'typeorm';
import { ClassType } from 'type-graphql';
import { Connection, CursorCast, PageArgs, decodeCursor, pageSize, toConnection } from './connection';

/** Collects bind parameters while SQL text is written: `sql.param(v)` returns `$n`. */
export class SqlParams {
  readonly values: unknown[] = [];
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** One column of a keyset order. `cast` types the cursor value back in SQL. */
export interface OrderColumn<E> {
  sql: string;
  cast: CursorCast;
  value: (row: E) => string | number;
  /**
   * For a sort value that is not one of the entity's columns (another table's, by a subquery in `sql`): it is
   * selected as `as` and set on each row as `property`, so `value` can read it for the row's cursor.
   */
  selected?: { as: string; property: string };
}

/** The extra select items of an order's non-column sort values. */
function selectedSortValues<E>(order: readonly OrderColumn<E>[]): string {
  return order
    .filter((o) => o.selected)
    .map((o) => `, ${o.sql} AS "${o.selected!.as}"`)
    .join('');
}

/** Rows hydrated, with an order's non-column sort values set on them. */
function hydrateOrdered<E extends ObjectLiteral>(
  db: Runner,
  spec: Pick<ListSpec<E>, 'entity' | 'order'>,
  raw: Record<string, unknown>,
): E {
  const row = hydrate(db, spec.entity, raw) as Record<string, unknown>;
  for (const o of spec.order) if (o.selected) row[o.selected.property] = raw[o.selected.as];
  return row as E;
}

/**
 * A keyset order, named after the list it orders ("suppliers", "contracts"): the list's cursors carry
 * that name, so a cursor passed to another list is an error that says so (two lists may order by the
 * same kinds of values, e.g. suppliers and clients by name and id, and would otherwise page silently wrong).
 */
export type ListOrder<E> = readonly OrderColumn<E>[] & { readonly kind: string };

export function listOrder<E>(kind: string, columns: OrderColumn<E>[]): ListOrder<E> {
  return Object.assign(columns, { kind });
}

export interface ListSpec<E extends object> {
  entity: ClassType<E>;
  /** FROM clause; the selected table must be aliased `t`. */
  from: string;
  /** Conditions joined with AND, written against `params`. */
  where: string[];
  params: SqlParams;
  order: ListOrder<E>;
  descending?: boolean;
  /** Entity properties this query need not read (see OptionalListColumns). */
  leaveOut?: readonly string[];
}

/**
 * Columns of a list that are read only when a GraphQL field showing them is selected on its nodes,
 * declared as property → the node fields that read it. A nested page of a hundred exposures and six
 * hundred contracts then parses only the columns the query returns (docs/performance.md). Every other
 * column is always read, so a resolver missing from this map can only cost a column, never lose one.
 */
export class OptionalListColumns {
  constructor(private readonly readers: Readonly<Record<string, readonly string[]>>) {}

  /** The properties no selected field reads, in a stable order (they are part of loader keys). */
  leaveOutFor(selected: ReadonlySet<string> | null | undefined): string[] {
    if (!selected) return [];
    return Object.entries(this.readers)
      .filter(([, fields]) => !fields.some((field) => selected.has(field)))
      .map(([property]) => property)
      .sort();
  }
}

type Runner = DataSource | EntityManager;
/** An entity class (TypeORM looks its metadata up by the class itself). */
type EntityClass = abstract new (...args: never[]) => object;

/** Raw rows (snake_case) to entity instances, through TypeORM's metadata: no per-row ORM hydration cost. */
export function hydrate<E extends ObjectLiteral>(
  db: Runner,
  entity: ClassType<E>,
  raw: Record<string, unknown>,
): E {
  const object = Object.create(entity.prototype) as Record<string, unknown>;
  for (const [databaseName, propertyName] of columnNames(db, entity)) {
    if (databaseName in raw) object[propertyName] = raw[databaseName];
  }
  return object as E;
}

/**
 * Columns lists never read: bookkeeping timestamps the API does not expose, and large values that have
 * their own batched loader (exposure factors). Leaving them out of list queries saves most of the row
 * parsing in big nested reads (docs/performance.md).
 */
const LEFT_OUT_OF_LISTS = new Set(['createdAt', 'updatedAt', 'factors']);

/**
 * The select list for a query of `entity` aliased `t`: what the API reads, without the properties in
 * `leaveOut`. Lists use it, and so do the by-id loaders of the nodes nested by the hundred (clients, suppliers).
 */
export function listColumns(db: Runner, entity: EntityClass, leaveOut: readonly string[] = []): string {
  let byLeftOut = listColumnsByEntity.get(entity);
  if (!byLeftOut) listColumnsByEntity.set(entity, (byLeftOut = new Map()));
  const key = leaveOut.join(',');
  let columns = byLeftOut.get(key);
  if (columns === undefined) {
    columns = listedColumns(db, entity, leaveOut)
      .map((column) => `t."${column.databaseName}"`)
      .join(', ');
    byLeftOut.set(key, columns);
  }
  return columns;
}

/** One column a list reads, with its SQL type (for readers that receive it as text, e.g. inside JSON). */
export interface ListedColumn {
  databaseName: string;
  propertyName: string;
  /** TypeORM's type name ('uuid', 'text', 'timestamptz', ...). */
  type: string;
  isArray: boolean;
}

/** The columns listColumns selects, in the same order. */
export function listedColumns(
  db: Runner,
  entity: EntityClass,
  leaveOut: readonly string[] = [],
): ListedColumn[] {
  const metadata = (db instanceof DataSource ? db : db.dataSource).getMetadata(entity);
  return metadata.columns
    .filter(
      (column) => !LEFT_OUT_OF_LISTS.has(column.propertyName) && !leaveOut.includes(column.propertyName),
    )
    .map((column) => ({
      databaseName: column.databaseName,
      propertyName: column.propertyName,
      type: typeof column.type === 'string' ? column.type : String(column.type),
      isArray: column.isArray,
    }));
}
const listColumnsByEntity = new WeakMap<EntityClass, Map<string, string>>();

/** (column, property) pairs per entity, looked up once: hydrate runs for every row of every list. */
const columnNamesByEntity = new WeakMap<EntityClass, [string, string][]>();
function columnNames(db: Runner, entity: EntityClass): [string, string][] {
  let names = columnNamesByEntity.get(entity);
  if (!names) {
    const metadata = (db instanceof DataSource ? db : db.dataSource).getMetadata(entity);
    names = metadata.columns.map((column) => [column.databaseName, column.propertyName]);
    columnNamesByEntity.set(entity, names);
  }
  return names;
}

function keysetCondition<E extends object>(spec: ListSpec<E>, params: SqlParams, cursor: unknown[]): string {
  const left = spec.order.map((o) => o.sql).join(', ');
  const right = spec.order.map((o, i) => `${params.param(cursor[i])}::${o.cast}`).join(', ');
  return `(${left}) ${spec.descending ? '<' : '>'} (${right})`;
}

function orderBy<E extends object>(
  spec:
    Pick<ListSpec<E>, 'order' | 'descending'> | { order: readonly OrderColumn<E>[]; descending?: boolean },
): string {
  return spec.order.map((o) => `${o.sql} ${spec.descending ? 'DESC' : 'ASC'}`).join(', ');
}

const cursorOf =
  <E extends object>(spec: ListSpec<E>) =>
  (row: E) =>
    spec.order.map((o) => o.value(row));

/** A top-level Relay connection: one statement for the page, one more only if totalCount is asked for. */
export async function pageQuery<E extends ObjectLiteral>(
  db: Runner,
  spec: ListSpec<E>,
  args: PageArgs,
): Promise<Connection<E>> {
  const first = pageSize(args);
  const cursor = args.after
    ? decodeCursor(
        args.after,
        spec.order.kind,
        spec.order.map((o) => o.cast),
      )
    : null;
  const baseWhere = spec.where.length ? spec.where.join(' AND ') : 'TRUE';
  const countParams = [...spec.params.values];
  const totalCount = async () => {
    const [{ count }] = await db.query(
      `SELECT count(*)::int AS count FROM ${spec.from} WHERE ${baseWhere}`,
      countParams,
    );
    return count as number;
  };
  const where = cursor ? `${baseWhere} AND ${keysetCondition(spec, spec.params, cursor)}` : baseWhere;
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${listColumns(db, spec.entity, spec.leaveOut)}${selectedSortValues(spec.order)} FROM ${spec.from} WHERE ${where} ORDER BY ${orderBy(spec)} LIMIT ${first + 1}`,
    spec.params.values,
  );
  return toConnection(
    rows.map((r) => hydrateOrdered(db, spec, r)),
    first,
    cursor !== null,
    spec.order.kind,
    cursorOf(spec),
    totalCount,
  );
}

/**
 * Pages of children for many parents in one statement, so a nested connection such as
 * supplier.contracts costs one query per request, not one per supplier. Each parent's page is a
 * LATERAL top-N (ORDER BY … LIMIT first + 1) that walks the (parent, sort keys) index and stops:
 * an incident with 9,000 exposures reads 101 of them, not all 9,000.
 */
export async function childPagesQuery<E extends ObjectLiteral>(
  db: Runner,
  spec: ListSpec<E>,
  parentColumn: string,
  parentIds: readonly string[],
  args: PageArgs,
): Promise<Map<string, E[]>> {
  const first = pageSize(args);
  const cursor = args.after
    ? decodeCursor(
        args.after,
        spec.order.kind,
        spec.order.map((o) => o.cast),
      )
    : null;
  const parents = spec.params.param(parentIds);
  const conditions = [...spec.where, `${parentColumn} = parent.id`];
  if (cursor) conditions.push(keysetCondition(spec, spec.params, cursor));
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT parent.id AS __parent, page.*
     FROM unnest(${parents}::uuid[]) AS parent(id)
     CROSS JOIN LATERAL (
       SELECT ${listColumns(db, spec.entity, spec.leaveOut)}${selectedSortValues(spec.order)} FROM ${spec.from} WHERE ${conditions.join(' AND ')} ORDER BY ${orderBy(spec)} LIMIT ${first + 1}
     ) page
     ORDER BY parent.id, ${orderBy({ ...spec, order: spec.order.map((o) => ({ ...o, sql: o.selected ? `page."${o.selected.as}"` : o.sql.replace(/\bt\./g, 'page.') })) })}`,
    spec.params.values,
  );
  const byParent = new Map<string, E[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) byParent.get(row.__parent as string)?.push(hydrateOrdered(db, spec, row));
  return byParent;
}

/** Counts of children per parent in one statement. */
export async function childCountsQuery(
  db: Runner,
  from: string,
  where: string[],
  params: SqlParams,
  parentColumn: string,
  parentIds: readonly string[],
): Promise<Map<string, number>> {
  const conditions = [...where, `${parentColumn} = ANY(${params.param(parentIds)}::uuid[])`];
  const rows: { parent: string; count: number }[] = await db.query(
    `SELECT ${parentColumn} AS parent, count(*)::int AS count FROM ${from} WHERE ${conditions.join(' AND ')} GROUP BY ${parentColumn}`,
    params.values,
  );
  const counts = new Map<string, number>(parentIds.map((id) => [id, 0]));
  for (const row of rows) counts.set(row.parent, row.count);
  return counts;
}

export { toConnection, pageSize };
export type { Connection, PageArgs };

/** Builds a nested connection from a child-page loader's rows (first + 1 of them) and a lazy count. */
export async function childConnection<E>(
  rows: Promise<E[]>,
  args: PageArgs,
  order: ListOrder<E>,
  count: () => Promise<number>,
): Promise<Connection<E>> {
  // The page was requested before the arguments are checked here. With bad arguments the loader rejects
  // too; left unhandled, that rejection would end the whole process (Node's default), not just this request.
  rows.catch(() => undefined);
  const first = pageSize(args);
  if (args.after)
    decodeCursor(
      args.after,
      order.kind,
      order.map((o) => o.cast),
    );
  return toConnection(
    await rows,
    first,
    Boolean(args.after),
    order.kind,
    (row) => order.map((o) => o.value(row)),
    count,
  );
}
