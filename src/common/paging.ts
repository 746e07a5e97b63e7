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
}

export interface ListSpec<E extends object> {
  entity: ClassType<E>;
  /** FROM clause; the selected table must be aliased `t`. */
  from: string;
  /** Conditions joined with AND, written against `params`. */
  where: string[];
  params: SqlParams;
  order: OrderColumn<E>[];
  descending?: boolean;
}

type Runner = DataSource | EntityManager;

/** Raw rows (snake_case) to entity instances, through TypeORM's metadata: no per-row ORM hydration cost. */
export function hydrate<E extends ObjectLiteral>(db: Runner, entity: ClassType<E>, raw: Record<string, unknown>): E {
  const metadata = (db instanceof DataSource ? db : db.dataSource).getMetadata(entity);
  const object = metadata.create() as E;
  for (const column of metadata.columns) {
    if (column.databaseName in raw) (object as Record<string, unknown>)[column.propertyName] = raw[column.databaseName];
  }
  return object;
}

function keysetCondition<E extends object>(spec: ListSpec<E>, params: SqlParams, cursor: unknown[]): string {
  const left = spec.order.map((o) => o.sql).join(', ');
  const right = spec.order.map((o, i) => `${params.param(cursor[i])}::${o.cast}`).join(', ');
  return `(${left}) ${spec.descending ? '<' : '>'} (${right})`;
}

function orderBy<E extends object>(spec: ListSpec<E>): string {
  return spec.order.map((o) => `${o.sql} ${spec.descending ? 'DESC' : 'ASC'}`).join(', ');
}

const cursorOf = <E extends object>(spec: ListSpec<E>) => (row: E) => spec.order.map((o) => o.value(row));

/** A top-level Relay connection: one statement for the page, one more only if totalCount is asked for. */
export async function pageQuery<E extends ObjectLiteral>(db: Runner, spec: ListSpec<E>, args: PageArgs): Promise<Connection<E>> {
  const first = pageSize(args);
  const cursor = args.after ? decodeCursor(args.after, spec.order.map((o) => o.cast)) : null;
  const baseWhere = spec.where.length ? spec.where.join(' AND ') : 'TRUE';
  const countParams = [...spec.params.values];
  const totalCount = async () => {
    const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM ${spec.from} WHERE ${baseWhere}`, countParams);
    return count as number;
  };
  const where = cursor ? `${baseWhere} AND ${keysetCondition(spec, spec.params, cursor)}` : baseWhere;
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT t.* FROM ${spec.from} WHERE ${where} ORDER BY ${orderBy(spec)} LIMIT ${first + 1}`,
    spec.params.values,
  );
  return toConnection(rows.map((r) => hydrate(db, spec.entity, r)), first, cursor !== null, cursorOf(spec), totalCount);
}

/**
 * Pages of children for many parents in one statement (row_number per parent), so a nested
 * connection such as supplier.contracts costs one query per request, not one per supplier.
 */
export async function childPagesQuery<E extends ObjectLiteral>(
  db: Runner,
  spec: ListSpec<E>,
  parentColumn: string,
  parentIds: readonly string[],
  args: PageArgs,
): Promise<Map<string, E[]>> {
  const first = pageSize(args);
  const cursor = args.after ? decodeCursor(args.after, spec.order.map((o) => o.cast)) : null;
  const conditions = [...spec.where, `${parentColumn} = ANY(${spec.params.param(parentIds)}::uuid[])`];
  if (cursor) conditions.push(keysetCondition(spec, spec.params, cursor));
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT * FROM (
       SELECT t.*, ${parentColumn} AS __parent, row_number() OVER (PARTITION BY ${parentColumn} ORDER BY ${orderBy(spec)}) AS __rank
       FROM ${spec.from} WHERE ${conditions.join(' AND ')}
     ) ranked WHERE __rank <= ${first + 1} ORDER BY __parent, __rank`,
    spec.params.values,
  );
  const byParent = new Map<string, E[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) byParent.get(row.__parent as string)?.push(hydrate(db, spec.entity, row));
  return byParent;
}

/** Counts of children per parent in one statement. */
export async function childCountsQuery(db: Runner, from: string, where: string[], params: SqlParams, parentColumn: string, parentIds: readonly string[]): Promise<Map<string, number>> {
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
export async function childConnection<E>(rows: Promise<E[]>, args: PageArgs, order: OrderColumn<E>[], count: () => Promise<number>): Promise<Connection<E>> {
  // The page was requested before the arguments are checked here. With bad arguments the loader rejects
  // too; left unhandled, that rejection would end the whole process (Node's default), not just this request.
  rows.catch(() => undefined);
  const first = pageSize(args);
  if (args.after) decodeCursor(args.after, order.map((o) => o.cast));
  return toConnection(await rows, first, Boolean(args.after), (row) => order.map((o) => o.value(row)), count);
}
