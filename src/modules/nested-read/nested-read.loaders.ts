import DataLoader from 'dataloader';
import { FieldNode, GraphQLResolveInfo, getNamedType, isObjectType } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import { types } from 'pg';
import { DataSource } from 'typeorm';
import { Viewer } from '../../auth/viewer';
import { decodeCursor, pageSize } from '../../common/connection';
import {
  ListOrder,
  ListedColumn,
  OptionalListColumns,
  SqlParams,
  hydrate,
  listColumns,
  listedColumns,
} from '../../common/paging';
import { fieldsOf, selectedNodeFields } from '../../common/selection';
import { assertValidFilter } from '../../common/validation';
import { ClientEntity } from '../client/client.entity';
import { ClientLoaders, clientVisibility } from '../client/client.loaders';
import { ContractEntity } from '../contract/contract.entity';
import {
  CONTRACT_OPTIONAL_COLUMNS,
  CONTRACT_ORDER,
  ContractLoaders,
  liveContracts,
} from '../contract/contract.loaders';
import { ExposureEntity } from '../exposure/exposure.entity';
import { ExposureFilter } from '../exposure/exposure.inputs';
import {
  EXPOSURE_OPTIONAL_COLUMNS,
  EXPOSURE_ORDER,
  ExposureLoaders,
  exposureConditions,
  plainFilter,
} from '../exposure/exposure.loaders';
import { IncidentEntity } from '../incident/incident.entity';
import { SupplierEntity } from '../supplier/supplier.entity';
import { SupplierLoaders } from '../supplier/supplier.loaders';

/**
 * The nested read planned into one SQL statement (docs/performance.md, "One statement for a nested read").
 *
 * A connection field among incident.exposures, client.exposures, client.contracts and supplier.contracts
 * looks, before it reads its page, at what the query selects below it: the objects (exposure.client,
 * contract.supplier, contract.client, incident.supplier) and connections of these same kinds, to any depth.
 * All of it becomes one statement, each level a LATERAL top-N or a correlated subquery that builds a JSON
 * array of the row's columns as text, and the answer primes the per-request DataLoaders the resolvers read
 * (by-id loaders, page loaders, count loaders) with exactly the rows, columns and keys those loaders
 * would have fetched. Every resolver then runs unchanged and finds its data already there, so the answer is
 * the one the per-level path gives (test/register/nested-read.test.ts compares them value by value).
 *
 * The same rules as the loaders: exposureConditions, liveContracts and clientVisibility are the loaders'
 * own functions. What the planner does not understand (another argument, a filter key it does not know, an
 * invalid page size or cursor, a field of another kind) it leaves alone: that field resolves through its
 * loader as before, and its errors are raised where they always were.
 */

type PlannedType = 'Exposure' | 'Client' | 'Contract' | 'Supplier' | 'Incident';
type EntityClass = abstract new (...args: never[]) => object;

/** What the planner primes: the loaders the planned resolvers read. */
export type PrimedLoaders = Pick<ClientLoaders, 'clientById'> &
  Pick<SupplierLoaders, 'supplierById'> &
  Pick<
    ContractLoaders,
    | 'contractPagesByClient'
    | 'contractCountsByClient'
    | 'contractPagesBySupplier'
    | 'contractCountsBySupplier'
  > &
  Pick<
    ExposureLoaders,
    | 'exposurePagesByIncident'
    | 'exposureCountsByIncident'
    | 'exposurePagesByClient'
    | 'exposureCountsByClient'
  >;

const ENTITIES: Record<PlannedType, { entity: EntityClass; table: string }> = {
  Exposure: { entity: ExposureEntity, table: 'exposure' },
  Client: { entity: ClientEntity, table: 'client' },
  Contract: { entity: ContractEntity, table: 'contract' },
  Supplier: { entity: SupplierEntity, table: 'supplier' },
  Incident: { entity: IncidentEntity, table: 'incident' },
};

/** An object field read through a by-id loader of the full list columns (what clientById and supplierById read). */
interface ObjectRelation {
  target: PlannedType;
  foreignKey: { column: string; property: string };
  visibility: (viewer: Viewer, params: SqlParams, alias: string) => string[];
  prime: (loaders: PrimedLoaders, id: string, row: object) => void;
}

const primeClient = (loaders: PrimedLoaders, id: string, row: object) =>
  loaders.clientById.prime(id, row as ClientEntity);
const primeSupplier = (loaders: PrimedLoaders, id: string, row: object) =>
  loaders.supplierById.prime(id, row as SupplierEntity);

const OBJECT_RELATIONS: Record<string, ObjectRelation> = {
  'Exposure.client': {
    target: 'Client',
    foreignKey: { column: 'client_id', property: 'clientId' },
    visibility: clientVisibility,
    prime: primeClient,
  },
  'Contract.client': {
    target: 'Client',
    foreignKey: { column: 'client_id', property: 'clientId' },
    visibility: clientVisibility,
    prime: primeClient,
  },
  'Contract.supplier': {
    target: 'Supplier',
    foreignKey: { column: 'supplier_id', property: 'supplierId' },
    visibility: () => [],
    prime: primeSupplier,
  },
  'Incident.supplier': {
    target: 'Supplier',
    foreignKey: { column: 'supplier_id', property: 'supplierId' },
    visibility: () => [],
    prime: primeSupplier,
  },
};

type PlainExposureFilter = ExposureFilter | null;

/** A connection field, with the loader keys its service reads (exposure.service.ts, contract.service.ts). */
interface PageRelation {
  target: 'Exposure' | 'Contract';
  parentColumn: string;
  /** The filter keys the planner understands; none: the field takes no filter. */
  filterKeys: readonly string[] | null;
  optional: OptionalListColumns;
  order: ListOrder<never>;
  descending: boolean;
  conditions: (viewer: Viewer, filter: PlainExposureFilter, params: SqlParams, alias: string) => string[];
  primePage: (
    loaders: PrimedLoaders,
    key: {
      parentId: string;
      first: number;
      after: string | null;
      filter: PlainExposureFilter;
      leaveOut: string[];
    },
    rows: object[],
  ) => void;
  primeCount: (loaders: PrimedLoaders, parentId: string, filter: PlainExposureFilter, count: number) => void;
}

const EXPOSURE_FILTER_KEYS = ['clientId', 'incidentId', 'minLevel', 'notificationStatus', 'includeResolved'];

function exposurePages(
  parentColumn: string,
  pages: (l: PrimedLoaders) => PrimedLoaders['exposurePagesByIncident'],
  counts: (l: PrimedLoaders) => PrimedLoaders['exposureCountsByIncident'],
): PageRelation {
  return {
    target: 'Exposure',
    parentColumn,
    filterKeys: EXPOSURE_FILTER_KEYS,
    optional: EXPOSURE_OPTIONAL_COLUMNS,
    order: EXPOSURE_ORDER as ListOrder<never>,
    descending: true,
    conditions: (viewer, filter, params, alias) => exposureConditions(viewer, filter, params, alias),
    // The page loaders' key holds the filter and the order (planned pages are the default order only).
    primePage: (loaders, key, rows) =>
      pages(loaders).prime(
        { ...key, filter: { filter: key.filter, orderBy: null } },
        rows as ExposureEntity[],
      ),
    primeCount: (loaders, parentId, filter, count) => counts(loaders).prime({ parentId, filter }, count),
  };
}

function contractPages(
  parentColumn: string,
  pages: (l: PrimedLoaders) => PrimedLoaders['contractPagesByClient'],
  counts: (l: PrimedLoaders) => PrimedLoaders['contractCountsByClient'],
): PageRelation {
  return {
    target: 'Contract',
    parentColumn,
    filterKeys: null,
    optional: CONTRACT_OPTIONAL_COLUMNS,
    order: CONTRACT_ORDER as ListOrder<never>,
    descending: false,
    conditions: (viewer, _filter, params, alias) => liveContracts(viewer, params, alias),
    primePage: (loaders, key, rows) =>
      pages(loaders).prime(
        { parentId: key.parentId, first: key.first, after: key.after, leaveOut: key.leaveOut },
        rows as ContractEntity[],
      ),
    primeCount: (loaders, parentId, _filter, count) => counts(loaders).prime(parentId, count),
  };
}

const PAGE_RELATIONS: Record<string, PageRelation> = {
  'Incident.exposures': exposurePages(
    'incident_id',
    (l) => l.exposurePagesByIncident,
    (l) => l.exposureCountsByIncident,
  ),
  'Client.exposures': exposurePages(
    'client_id',
    (l) => l.exposurePagesByClient,
    (l) => l.exposureCountsByClient,
  ),
  'Client.contracts': contractPages(
    'client_id',
    (l) => l.contractPagesByClient,
    (l) => l.contractCountsByClient,
  ),
  'Supplier.contracts': contractPages(
    'supplier_id',
    (l) => l.contractPagesBySupplier,
    (l) => l.contractCountsBySupplier,
  ),
};

interface NodePlan {
  type: PlannedType;
  columns: ListedColumn[];
  /** Per column: its property on the entity and the parser of its text, looked up once per plan. */
  readers: { property: string; parse: (text: string) => unknown }[];
  objects: { relation: ObjectRelation; node: NodePlan }[];
  pages: PagePlan[];
}

interface PagePlan {
  relation: PageRelation;
  first: number;
  after: string | null;
  cursor: unknown[] | null;
  filter: PlainExposureFilter;
  leaveOut: string[];
  count: boolean;
  node: NodePlan;
  /** pageKey's text for everything but the parent, made once. */
  keyPrefix?: string;
}

interface PlanContext {
  info: Pick<GraphQLResolveInfo, 'fragments' | 'variableValues' | 'schema'>;
  db: DataSource;
}

/** Fields selected on an object, grouped by response name (what GraphQL merges into one field). */
function groupedFields(fieldNodes: readonly FieldNode[], context: PlanContext): Map<string, FieldNode[]> {
  const groups = new Map<string, FieldNode[]>();
  for (const node of fieldNodes)
    for (const field of fieldsOf(node.selectionSet, context.info)) {
      const key = field.alias?.value ?? field.name.value;
      const group = groups.get(key);
      if (group) group.push(field);
      else groups.set(key, [field]);
    }
  return groups;
}

function planNode(
  type: PlannedType,
  fieldNodes: readonly FieldNode[],
  leaveOut: string[],
  context: PlanContext,
): NodePlan {
  const columns = listedColumns(context.db, ENTITIES[type].entity, leaveOut);
  const plan: NodePlan = {
    type,
    columns,
    readers: columns.map((column) => ({ property: column.propertyName, parse: parserOf(column) })),
    objects: [],
    pages: [],
  };
  for (const group of groupedFields(fieldNodes, context).values()) {
    const name = `${type}.${group[0].name.value}`;
    const object = OBJECT_RELATIONS[name];
    if (object) {
      plan.objects.push({ relation: object, node: planNode(object.target, group, [], context) });
      continue;
    }
    const page = PAGE_RELATIONS[name] && planPage(type, PAGE_RELATIONS[name], group, context);
    if (page) plan.pages.push(page);
  }
  return plan;
}

/** null: this connection is left to its loader (an argument the planner does not understand, or an invalid one). */
function planPage(
  parentType: PlannedType,
  relation: PageRelation,
  fieldNodes: readonly FieldNode[],
  context: PlanContext,
): PagePlan | null {
  const parent = context.info.schema.getType(parentType);
  if (!isObjectType(parent)) return null;
  const field = parent.getFields()[fieldNodes[0].name.value];
  if (!field || !isObjectType(getNamedType(field.type))) return null;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(field, fieldNodes[0], context.info.variableValues);
  } catch {
    return null;
  }
  for (const [name, value] of Object.entries(args)) {
    if (value === null || value === undefined) continue;
    if (name === 'first' || name === 'after') continue;
    if (name === 'filter' && relation.filterKeys) continue;
    return null;
  }
  let first: number;
  let cursor: unknown[] | null = null;
  const after = (args.after as string | null | undefined) ?? null;
  let filter: PlainExposureFilter = null;
  try {
    first = pageSize({ first: args.first as number | null | undefined });
    if (after)
      cursor = decodeCursor(
        after,
        relation.order.kind,
        relation.order.map((o) => o.cast),
      );
    if (args.filter) {
      const given = args.filter as Record<string, unknown>;
      if (Object.keys(given).some((key) => given[key] != null && !relation.filterKeys!.includes(key)))
        return null;
      const typed = Object.assign(new ExposureFilter(), given);
      assertValidFilter(ExposureFilter, typed);
      filter = plainFilter(typed);
    }
  } catch {
    return null;
  }
  const connection = groupedFields(fieldNodes, context);
  const nodes = (connection.get('edges') ?? []).flatMap((edges) =>
    fieldsOf(edges.selectionSet, context.info).filter((f) => f.name.value === 'node'),
  );
  // Aliased edges or nodes would be merged differently by GraphQL; such rare shapes keep the loader path.
  for (const [key, group] of connection)
    if (group.some((f) => (f.alias?.value ?? f.name.value) !== f.name.value) || key !== group[0].name.value)
      return null;
  const leaveOut = relation.optional.leaveOutFor(
    selectedNodeFields({ fieldNodes, fragments: context.info.fragments }),
  );
  return {
    relation,
    first,
    after,
    cursor,
    filter,
    leaveOut,
    count: connection.has('totalCount'),
    node: planNode(relation.target, nodes, leaveOut, context),
  };
}

/** Whether planning saves anything: a page with nothing nested below it is already one statement. */
const hasNested = (plan: PagePlan) => plan.node.objects.length > 0 || plan.node.pages.length > 0;

/** pg's own parsers for the column types the planned entities use, applied to the text PostgreSQL sends inside JSON. */
const TYPE_OIDS: Record<string, [number, number]> = {
  uuid: [2950, 2951],
  text: [25, 1009],
  integer: [23, 1007],
  int: [23, 1007],
  bigint: [20, 1016],
  boolean: [16, 1000],
  jsonb: [3802, 3807],
  timestamptz: [1184, 1185],
  date: [1082, 1182],
  numeric: [1700, 1231],
};

function parserOf(column: ListedColumn): (text: string) => unknown {
  const oids = TYPE_OIDS[column.type];
  if (!oids)
    throw new Error(`The nested-read planner has no parser for ${column.type} (${column.databaseName})`);
  return types.getTypeParser(oids[column.isArray ? 1 : 0], 'text') as (text: string) => unknown;
}

/** Writes the SQL of a plan; aliases are numbered so nested levels never collide. */
class StatementWriter {
  readonly params = new SqlParams();
  private aliases = 0;
  constructor(private readonly viewer: Viewer) {}

  alias(): string {
    this.aliases += 1;
    return `n${this.aliases}`;
  }

  /** json_build_array(columns as text…, nested values…) for the row aliased `alias`. */
  node(plan: NodePlan, alias: string): string {
    return `json_build_array(${this.nested(
      plan,
      alias,
      plan.columns.map((c) => `${alias}."${c.databaseName}"::text`),
    ).join(', ')})`;
  }

  /** The nested values of a row (objects, then pages), appended to `parts`. */
  nested(plan: NodePlan, alias: string, parts: string[] = []): string[] {
    for (const object of plan.objects) {
      const child = this.alias();
      const where = [
        `${child}.id = ${alias}.${object.relation.foreignKey.column}`,
        ...object.relation.visibility(this.viewer, this.params, child),
      ];
      parts.push(
        `(SELECT ${this.node(object.node, child)} FROM ${ENTITIES[object.node.type].table} ${child} WHERE ${where.join(' AND ')})`,
      );
    }
    for (const page of plan.pages) {
      const child = this.alias();
      // array(… ORDER BY … LIMIT) keeps the page's order without sorting it again in an aggregate.
      const rows = `to_json(array(SELECT ${this.node(page.node, child)}
        FROM ${ENTITIES[page.node.type].table} ${child} WHERE ${this.pageWhere(page, child, `${alias}.id`).join(' AND ')}
        ORDER BY ${this.orderBy(page, child)} LIMIT ${page.first + 1}))`;
      parts.push(`json_build_array(${rows}, ${page.count ? this.count(page, `${alias}.id`) : 'NULL'})`);
    }
    return parts;
  }

  column(sql: string, alias: string): string {
    return sql.replace(/^t\./, `${alias}.`);
  }

  orderBy(page: PagePlan, alias: string): string {
    const direction = page.relation.descending ? 'DESC' : 'ASC';
    return page.relation.order.map((o) => `${this.column(o.sql, alias)} ${direction}`).join(', ');
  }

  pageWhere(page: PagePlan, alias: string, parentId: string): string[] {
    const where = [
      ...page.relation.conditions(this.viewer, page.filter, this.params, alias),
      `${alias}.${page.relation.parentColumn} = ${parentId}`,
    ];
    if (page.cursor) {
      const cursor = page.cursor;
      const left = page.relation.order.map((o) => this.column(o.sql, alias)).join(', ');
      const right = page.relation.order
        .map((o, i) => `${this.params.param(cursor[i])}::${o.cast}`)
        .join(', ');
      where.push(`(${left}) ${page.relation.descending ? '<' : '>'} (${right})`);
    }
    return where;
  }

  /** The count the count loader would give: the same conditions, no cursor. */
  count(page: PagePlan, parentId: string): string {
    const alias = this.alias();
    const where = [
      ...page.relation.conditions(this.viewer, page.filter, this.params, alias),
      `${alias}.${page.relation.parentColumn} = ${parentId}`,
    ];
    return `(SELECT count(*)::int FROM ${ENTITIES[page.node.type].table} ${alias} WHERE ${where.join(' AND ')})`;
  }
}

/** Where answers go: the loaders to prime, and the pages primed so far in this request. */
interface Reader {
  db: DataSource;
  loaders: PrimedLoaders;
  primed: Set<string>;
}

/** Reads a json_build_array made by StatementWriter.node back into an entity, priming what is nested in it. */
function readNode(reader: Reader, plan: NodePlan, values: unknown[]): object {
  // What hydrate makes of a raw row, built directly: an instance of the entity with the listed properties.
  const row = Object.create(ENTITIES[plan.type].entity.prototype) as Record<string, unknown>;
  const { readers } = plan;
  for (let i = 0; i < readers.length; i += 1) {
    const text = values[i] as string | null;
    row[readers[i].property] = text === null ? null : readers[i].parse(text);
  }
  readNested(reader, plan, row, values, readers.length);
  return row;
}

function readNested(
  reader: Reader,
  plan: NodePlan,
  row: Record<string, unknown>,
  nested: unknown[],
  from = 0,
): void {
  let i = from;
  for (const object of plan.objects) {
    const value = nested[i++] as unknown[] | null;
    // A miss (not visible, or gone) is not primed: the resolver's own load finds it missing, as before.
    if (value)
      object.relation.prime(
        reader.loaders,
        row[object.relation.foreignKey.property] as string,
        readNode(reader, object.node, value),
      );
  }
  for (const page of plan.pages) {
    const [rows, count] = nested[i++] as [unknown[][], number | null];
    primePage(
      reader,
      page,
      row.id as string,
      rows.map((values) => readNode(reader, page.node, values)),
      count,
    );
  }
}

/** Identifies a primed page by what its loader key holds, so a nested resolver's own plan finds it. */
function pageKey(plan: PagePlan, parentId: string): string {
  plan.keyPrefix ??= JSON.stringify([
    plan.relation.target,
    plan.relation.parentColumn,
    plan.first,
    plan.after,
    plan.filter,
    plan.leaveOut,
    plan.count,
  ]);
  return `${plan.keyPrefix}${parentId}`;
}

function primePage(
  reader: Reader,
  page: PagePlan,
  parentId: string,
  rows: object[],
  count: number | null,
): void {
  page.relation.primePage(
    reader.loaders,
    { parentId, first: page.first, after: page.after, filter: page.filter, leaveOut: page.leaveOut },
    rows,
  );
  if (page.count && count !== null) page.relation.primeCount(reader.loaders, parentId, page.filter, count);
  reader.primed.add(pageKey(page, parentId));
}

/** The one statement for a planned connection under many parents (the parents of one level of the query). */
async function readPlanned(
  reader: Reader,
  viewer: Viewer,
  plan: PagePlan,
  parentIds: readonly string[],
): Promise<void> {
  const { db } = reader;
  const writer = new StatementWriter(viewer);
  const parents = writer.params.param(parentIds);
  const nested = writer.nested(plan.node, 't');
  const entity = ENTITIES[plan.node.type];
  const count = plan.count ? `, ${writer.count(plan, 'parent.id')} AS __count` : '';
  const direction = plan.relation.descending ? 'DESC' : 'ASC';
  const sql = `SELECT parent.id AS __parent${count}, page.*
     FROM unnest(${parents}::uuid[]) AS parent(id)
     LEFT JOIN LATERAL (
       SELECT ${[listColumns(db, entity.entity, plan.leaveOut), ...nested.map((n, i) => `${n} AS __n${i}`)].join(', ')}
       FROM ${entity.table} t WHERE ${writer.pageWhere(plan, 't', 'parent.id').join(' AND ')}
       ORDER BY ${writer.orderBy(plan, 't')} LIMIT ${plan.first + 1}
     ) page ON TRUE
     ORDER BY parent.id, ${plan.relation.order.map((o) => `${writer.column(o.sql, 'page')} ${direction}`).join(', ')}`;
  const rows: Record<string, unknown>[] = await db.query(sql, writer.params.values);
  const byParent = new Map<string, { rows: object[]; count: number | null }>(
    parentIds.map((id) => [id, { rows: [], count: null }]),
  );
  for (const row of rows) {
    const parent = byParent.get(row.__parent as string)!;
    parent.count = (row.__count as number | undefined) ?? null;
    // A parent with an empty page still has its row (LEFT JOIN), for its count.
    if (row.id === null) continue;
    const entityRow = hydrate(db, entity.entity as never, row) as Record<string, unknown>;
    readNested(
      reader,
      plan.node,
      entityRow,
      nested.map((_n, i) => row[`__n${i}`]),
    );
    parent.rows.push(entityRow);
  }
  for (const [parentId, page] of byParent) primePage(reader, plan, parentId, page.rows, page.count);
}

export type NestedReadLoaders = ReturnType<typeof createNestedReadLoaders>;

/** `enabled` false (NESTED_READ_PLANNING=false): every connection reads through its loaders, level by level. */
export function createNestedReadLoaders(
  db: DataSource,
  viewer: Viewer,
  loaders: PrimedLoaders,
  enabled = true,
) {
  const reader: Reader = { db, loaders, primed: new Set() };
  // One plan per field of the query (its AST node): the resolver runs once per parent, the plan is made once.
  const plans = new Map<FieldNode, PagePlan | null>();
  const planIds = new WeakMap<PagePlan, number>();
  let lastPlanId = 0;
  const planIdOf = (plan: PagePlan) => {
    let id = planIds.get(plan);
    if (id === undefined) planIds.set(plan, (id = lastPlanId += 1));
    return id;
  };
  const planned = new DataLoader<{ parentId: string; plan: PagePlan }, void, string>(
    async (keys) => {
      const byPlan = new Map<PagePlan, string[]>();
      for (const key of keys) {
        const ids = byPlan.get(key.plan);
        if (ids) ids.push(key.parentId);
        else byPlan.set(key.plan, [key.parentId]);
      }
      for (const [plan, parentIds] of byPlan) await readPlanned(reader, viewer, plan, parentIds);
      return keys.map(() => undefined);
    },
    { cacheKeyFn: (key) => `${planIdOf(key.plan)}:${pageKey(key.plan, key.parentId)}` },
  );
  return {
    nestedRead: {
      /**
       * Called by a planned connection's resolver before it reads its page: plans the selection below it
       * into one statement (batched over every parent of this level) and primes the loaders. Does nothing
       * when the field is not one the planner knows, when a planned parent already primed its page, or
       * when nothing nested below it would be saved.
       */
      async prefetch(info: GraphQLResolveInfo, parentId: string): Promise<void> {
        const relation = PAGE_RELATIONS[`${info.parentType.name}.${info.fieldName}`];
        if (!relation || !enabled) return;
        let plan = plans.get(info.fieldNodes[0]);
        if (plan === undefined) {
          const made = planPage(info.parentType.name as PlannedType, relation, info.fieldNodes, { info, db });
          plans.set(info.fieldNodes[0], (plan = made && hasNested(made) ? made : null));
        }
        if (!plan || reader.primed.has(pageKey(plan, parentId))) return;
        await planned.load({ parentId, plan });
      },
    },
  };
}
