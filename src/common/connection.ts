import { GraphQLError } from 'graphql';
import { ClassType, Field, Int, ObjectType } from 'type-graphql';
import { ErrorCode } from './error-code';

/** Relay pagination limits: an out-of-range `first` is an error that says so, never silently clamped. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

@ObjectType({ simpleResolvers: true, description: 'Where a page sits in its list (Relay connection spec).' })
export class PageInfo {
  @Field({ description: 'True when more items follow this page.' })
  hasNextPage: boolean;

  @Field({ description: 'True when items precede this page (when it was fetched with `after`).' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of the page.' })
  startCursor: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last item; pass it as `after` for the next page.',
  })
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** A getter, so the count query runs only when a client asks for totalCount. */
  readonly totalCount: number | Promise<number>;
}

/** Builds `<Name>Edge` and `<Name>Connection` object types for a node type. */
export function connectionTypes<T extends object>(nodeType: ClassType<T>, name: string, plural: string) {
  @ObjectType(`${name}Edge`, {
    simpleResolvers: true,
    description: `One ${name.toLowerCase()} in a page, with its cursor.`,
  })
  class EdgeType {
    @Field({ description: 'Opaque cursor of this item; pass it as `after` to read the items that follow.' })
    cursor: string;

    @Field(() => nodeType, { description: `The ${name.toLowerCase()}.` })
    node: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true, description: `A page of ${plural}.` })
  class ConnectionType {
    @Field(() => [EdgeType], { description: 'The items of this page, in order.' })
    edges: EdgeType[];

    @Field(() => PageInfo, { description: 'Where this page sits in the whole list.' })
    pageInfo: PageInfo;

    // Not a plain field: its value is a promise (the count runs only when asked for), which graphql-jit
    // awaits only from a resolver (see assertNoFieldGuards in schema.ts).
    @Field(() => Int, {
      simple: false,
      description: `How many ${plural} the whole list holds (that you may see), across all pages.`,
    })
    totalCount: number;
  }
  return { EdgeType, ConnectionType };
}

/**
 * Keyset cursor: the list it belongs to (its kind, e.g. "suppliers") and the sort values of the last row
 * seen, so pages stay stable while rows are added, and a cursor of one list is refused by another.
 */
export function encodeCursor(kind: string, values: unknown[]): string {
  return Buffer.from(JSON.stringify([kind, values]), 'utf8').toString('base64url');
}

/** The SQL types a keyset cursor value may be cast to (see OrderColumn in paging.ts). */
export type CursorCast = 'text' | 'uuid' | 'timestamptz' | 'date' | 'numeric' | 'integer';

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 'YYYY-MM-DD' names a real day (JavaScript's Date would roll 2023-02-30 over to March; PostgreSQL refuses it). */
function isCalendarDay(text: string): boolean {
  const [y, m, d] = text.split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * Whether a decoded value can be cast to the column's SQL type. A cursor of another list can have the
 * right length but the wrong kinds of values; unchecked, it reaches PostgreSQL and fails there as a fault.
 */
function fitsCast(value: unknown, cast: CursorCast): boolean {
  switch (cast) {
    case 'text':
      return typeof value === 'string' && !value.includes('\u0000');
    case 'uuid':
      return typeof value === 'string' && UUID_TEXT.test(value);
    case 'timestamptz':
      return (
        typeof value === 'string' &&
        /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
        isCalendarDay(value.slice(0, 10))
      );
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && isCalendarDay(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) <= 2_147_483_647;
    case 'numeric':
      return (
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))
      );
  }
}

const cursorError = (message: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName: 'after' } });

/** Decodes a cursor made by encodeCursor for the list `kind`, ordered by columns of these SQL types; anything else is a BAD_USER_INPUT error. */
export function decodeCursor(cursor: string, kind: string, casts: readonly CursorCast[]): unknown[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    Array.isArray(decoded) &&
    decoded.length === 2 &&
    typeof decoded[0] === 'string' &&
    Array.isArray(decoded[1])
  ) {
    const [cursorKind, values] = decoded as [string, unknown[]];
    if (cursorKind !== kind && /^[a-zA-Z]{1,40}$/.test(cursorKind)) {
      throw cursorError(
        `This cursor belongs to the ${cursorKind} list, not to ${kind}: pass \`after\` a cursor that ${kind} returned`,
      );
    }
    if (
      cursorKind === kind &&
      values.length === casts.length &&
      values.every((v, i) => fitsCast(v, casts[i]))
    )
      return values;
  }
  throw cursorError(
    `The cursor "${cursor.slice(0, 60)}" is not valid for this list: use a cursor returned by the same list`,
  );
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export function pageSize(args: PageArgs): number {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new GraphQLError(`\`first\` must be between 0 and ${MAX_PAGE_SIZE}, got ${args.first}`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName: 'first' },
    });
  }
  return first;
}

/** An edge whose cursor is encoded only if a client asks for it (most nested pages never do; pageInfo's two are encoded for every page). */
class PageEdge<T> implements Edge<T> {
  constructor(
    readonly node: T,
    private readonly kind: string,
    private readonly cursorOf: (row: T) => unknown[],
  ) {}

  get cursor(): string {
    return encodeCursor(this.kind, this.cursorOf(this.node));
  }
}

/**
 * A page built from `first + 1` fetched rows. Its pageInfo is made only when read and its count run only
 * when totalCount is read: a nested read of a hundred pages rarely shows either.
 */
class PageConnection<T> implements Connection<T> {
  readonly edges: Edge<T>[];
  private info?: PageInfo;

  constructor(
    private readonly rows: number,
    private readonly first: number,
    private readonly hadCursor: boolean,
    edges: Edge<T>[],
    private readonly count: () => number | Promise<number>,
  ) {
    this.edges = edges;
  }

  get pageInfo(): PageInfo {
    if (this.info) return this.info;
    const { edges } = this;
    const info = Object.assign(new PageInfo(), {
      hasNextPage: this.rows > this.first,
      hasPreviousPage: this.hadCursor,
    });
    // Encoded only if asked for, like the edges' cursors.
    Object.defineProperties(info, {
      startCursor: { enumerable: true, get: () => (edges.length ? edges[0].cursor : null) },
      endCursor: { enumerable: true, get: () => (edges.length ? edges[edges.length - 1].cursor : null) },
    });
    return (this.info = info);
  }

  get totalCount(): number | Promise<number> {
    return this.count();
  }
}

/** Turns `first + 1` fetched rows into a connection page. */
export function toConnection<T>(
  rows: T[],
  first: number,
  hadCursor: boolean,
  kind: string,
  cursorOf: (row: T) => unknown[],
  count: () => number | Promise<number>,
): Connection<T> {
  const edges: Edge<T>[] = new Array(Math.min(rows.length, first));
  for (let i = 0; i < edges.length; i += 1) edges[i] = new PageEdge(rows[i], kind, cursorOf);
  return new PageConnection(rows.length, first, hadCursor, edges, count);
}
