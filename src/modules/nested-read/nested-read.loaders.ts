import DataLoader from 'dataloader';
import { FieldNode, GraphQLResolveInfo, Kind, SelectionSetNode, getNamedType, isObjectType } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import { types } from 'pg';
import { DataSource } from 'typeorm';
import { Viewer } from '../../auth/viewer';
import { Connection, decodeCursor, pageSize, toConnection } from '../../common/connection';
import { ListOrder, ListedColumn, OptionalListColumns, SqlParams, listedColumns } from '../../common/paging';
import { fieldsOf, selectedNodeFields } from '../../common/selection';
import { assertValidFilter } from '../../common/validation';
import { ClientEntity } from '../client/client.entity';
import { clientVisibility } from '../client/client.loaders';
import { ContractEntity } from '../contract/contract.entity';
import { CONTRACT_OPTIONAL_COLUMNS, CONTRACT_ORDER, liveContracts } from '../contract/contract.loaders';
import { ExposureEntity } from '../exposure/exposure.entity';
import { ExposureFilter } from '../exposure/exposure.inputs';
import {
  EXPOSURE_OPTIONAL_COLUMNS,
  EXPOSURE_ORDER,
  exposureConditions,
  plainFilter,
} from '../exposure/exposure.loaders';
import { IncidentEntity } from '../incident/incident.entity';
import { incidentVisibility } from '../incident/incident.loaders';
import { SupplierEntity } from '../supplier/supplier.entity';
import { PLANNED, PlannedFields } from './nested-read.planned';

/**
 * The nested read planned into one SQL statement (docs/performance.md, "One statement for a nested read").
 *
 * A connection field among incident.exposures, client.exposures, client.contracts and supplier.contracts
 * looks, before it reads its page, at what the query selects below it: the objects (exposure.client,
 * contract.supplier, contract.client, incident.supplier) and connections of these same kinds, to any depth.
 * All of it becomes one statement, each page an array of JSON arrays of the row's values, each object a
 * LEFT JOIN by primary key, reading only the columns the selected fields need. Query.node on an incident
 * with such a selection reads the incident itself in the same statement (ROOTS). What it reads is
 * attached to the rows it belongs to (under PLANNED, by response key): each planned field of a planned row
 * is answered from there at once (nested-read.planned.ts), with no loader, promise or resolver of its own.
 * The rows are made for this one plan, so a field selected differently elsewhere in the query never sees them.
 *
 * The same rules as the loaders: exposureConditions, liveContracts and clientVisibility are the loaders'
 * own functions, and test/register/nested-read.test.ts compares every answer with the level-by-level path.
 * What the planner does not understand (another argument, a filter key it does not know, an invalid page
 * size or cursor, a field of another kind) it leaves alone: that field resolves through its loader as
 * before, and its errors are raised where they always were.
 */

type PlannedType = 'Exposure' | 'Client' | 'Contract' | 'Supplier' | 'Incident';
type EntityClass = abstract new (...args: never[]) => object;

const ENTITIES: Record<PlannedType, { entity: EntityClass; table: string }> = {
  Exposure: { entity: ExposureEntity, table: 'exposure' },
  Client: { entity: ClientEntity, table: 'client' },
  Contract: { entity: ContractEntity, table: 'contract' },
  Supplier: { entity: SupplierEntity, table: 'supplier' },
  Incident: { entity: IncidentEntity, table: 'incident' },
};

/** An object field the planner reads by primary key (what clientById and supplierById read). */
interface ObjectRelation {
  target: PlannedType;
  foreignKey: string;
  visibility: (viewer: Viewer, params: SqlParams, alias: string) => string[];
}

const OBJECT_RELATIONS: Record<string, ObjectRelation> = {
  'Exposure.client': { target: 'Client', foreignKey: 'client_id', visibility: clientVisibility },
  'Contract.client': { target: 'Client', foreignKey: 'client_id', visibility: clientVisibility },
  'Contract.supplier': { target: 'Supplier', foreignKey: 'supplier_id', visibility: () => [] },
  'Incident.supplier': { target: 'Supplier', foreignKey: 'supplier_id', visibility: () => [] },
};

type PlainExposureFilter = ExposureFilter | null;

/** A connection field, read as its service reads it (exposure.service.ts, contract.service.ts). */
interface PageRelation {
  target: 'Exposure' | 'Contract';
  parentColumn: string;
  /** The filter keys the planner understands; none: the field takes no filter. */
  filterKeys: readonly string[] | null;
  optional: OptionalListColumns;
  order: ListOrder<never>;
  descending: boolean;
  conditions: (viewer: Viewer, filter: PlainExposureFilter, params: SqlParams, alias: string) => string[];
}

const EXPOSURE_FILTER_KEYS = ['clientId', 'incidentId', 'minLevel', 'notificationStatus', 'includeResolved'];

const exposurePages = (parentColumn: string): PageRelation => ({
  target: 'Exposure',
  parentColumn,
  filterKeys: EXPOSURE_FILTER_KEYS,
  optional: EXPOSURE_OPTIONAL_COLUMNS,
  order: EXPOSURE_ORDER as ListOrder<never>,
  descending: true,
  conditions: (viewer, filter, params, alias) => exposureConditions(viewer, filter, params, alias),
});

const contractPages = (parentColumn: string): PageRelation => ({
  target: 'Contract',
  parentColumn,
  filterKeys: null,
  optional: CONTRACT_OPTIONAL_COLUMNS,
  order: CONTRACT_ORDER as ListOrder<never>,
  descending: false,
  conditions: (viewer, _filter, params, alias) => liveContracts(viewer, params, alias),
});

const PAGE_RELATIONS: Record<string, PageRelation> = {
  'Incident.exposures': exposurePages('incident_id'),
  'Client.exposures': exposurePages('client_id'),
  'Client.contracts': contractPages('client_id'),
  'Supplier.contracts': contractPages('supplier_id'),
};

/** The fields the planner answers itself on the rows it reads (nested-read.planned.ts wraps their resolvers). */
export const PLANNED_FIELDS: readonly string[] = [
  ...Object.keys(OBJECT_RELATIONS),
  ...Object.keys(PAGE_RELATIONS),
];

/**
 * The properties a field resolver reads from its row, for the fields with a resolver of their own that a
 * planned row may meet. A field the executor reads itself (a plain @Field, a property of the row) needs
 * its own column; a planned field needs none (the planner reads it); any other field makes the row read
 * every column a list reads, so a resolver missing here can only cost columns, never lose one
 * (test/register/nested-read.test.ts selects every field of the planned types one at a time).
 */
const RESOLVER_COLUMNS: Record<string, readonly string[]> = {
  'Exposure.id': ['id'],
  'Exposure.client': ['clientId'],
  'Exposure.incident': ['incidentId'],
  'Client.id': ['id'],
  'Client.regimes': ['regimes', 'sector', 'country'],
  'Client.contracts': ['id'],
  'Client.exposures': ['id'],
  'Contract.id': ['id'],
  'Contract.client': ['clientId'],
  'Contract.supplier': ['supplierId'],
  'Contract.value': ['valueAmount', 'valueCurrency'],
  'Supplier.id': ['id'],
  'Supplier.contracts': ['id'],
  'Incident.id': ['id'],
  'Incident.supplier': ['supplierId'],
  'Incident.exposures': ['id'],
};

/** How a column's value comes back inside the JSON: as JSON itself, or as text for pg's own parser. */
interface ColumnReader {
  property: string;
  /** null: the JSON value is what pg's parser gives (uuid, text, integer, boolean, jsonb and their arrays). */
  parse: ((text: string) => unknown) | null;
}

interface NodePlan {
  type: PlannedType;
  columns: ListedColumn[];
  readers: ColumnReader[];
  objects: { key: string; relation: ObjectRelation; node: NodePlan }[];
  pages: PagePlan[];
}

interface PagePlan {
  /** The response key of the connection field on its parent. */
  key: string;
  relation: PageRelation;
  first: number;
  after: string | null;
  cursor: unknown[] | null;
  filter: PlainExposureFilter;
  /** Whether the row after the page is read: only pageInfo shows it (hasNextPage). */
  readsNext: boolean;
  count: boolean;
  node: NodePlan;
  cursorOf: (row: object) => unknown[];
}

interface PlanContext {
  info: Pick<GraphQLResolveInfo, 'fragments' | 'variableValues' | 'schema'>;
  db: DataSource;
}

/** Fields grouped by response name (what GraphQL merges into one field). */
function groupByKey(fields: readonly FieldNode[]): Map<string, FieldNode[]> {
  const groups = new Map<string, FieldNode[]>();
  for (const field of fields) {
    const key = field.alias?.value ?? field.name.value;
    const group = groups.get(key);
    if (group) group.push(field);
    else groups.set(key, [field]);
  }
  return groups;
}

/** Fields selected on an object, grouped by response name. */
const groupedFields = (fieldNodes: readonly FieldNode[], context: PlanContext) =>
  groupByKey(fieldNodes.flatMap((node) => fieldsOf(node.selectionSet, context.info)));

/**
 * The fields a selection on an interface (Query.node) selects on one of its types: its own fields and those
 * of the fragments whose type condition is that type or one of the given interfaces (or has none).
 */
function fieldsOn(
  selectionSet: SelectionSetNode | undefined,
  typeNames: readonly string[],
  context: PlanContext,
  into: FieldNode[] = [],
): FieldNode[] {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      into.push(selection);
      continue;
    }
    const fragment =
      selection.kind === Kind.INLINE_FRAGMENT ? selection : context.info.fragments[selection.name.value];
    const condition = fragment?.typeCondition?.name.value;
    if (fragment && (condition === undefined || typeNames.includes(condition)))
      fieldsOn(fragment.selectionSet, typeNames, context, into);
  }
  return into;
}

/** JSON gives these as pg's parsers would; the rest is sent as text and parsed by pg's parser. */
const AS_JSON = new Set(['uuid', 'text', 'integer', 'int', 'boolean', 'jsonb']);
const ARRAYS_AS_JSON = new Set(['uuid', 'text']);
const asJson = (column: ListedColumn) => (column.isArray ? ARRAYS_AS_JSON : AS_JSON).has(column.type);

/** pg's text parsers for the other column types the planned entities use. */
const TYPE_OIDS: Record<string, [number, number]> = {
  bigint: [20, 1016],
  timestamptz: [1184, 1185],
  date: [1082, 1182],
  numeric: [1700, 1231],
};

function readerOf(column: ListedColumn): ColumnReader {
  if (asJson(column)) return { property: column.propertyName, parse: null };
  const oids = TYPE_OIDS[column.type];
  if (!oids)
    throw new Error(`The nested-read planner has no parser for ${column.type} (${column.databaseName})`);
  return {
    property: column.propertyName,
    parse: types.getTypeParser(oids[column.isArray ? 1 : 0], 'text') as (text: string) => unknown,
  };
}

/**
 * The columns a node's selected fields read (RESOLVER_COLUMNS), in the entity's order; every listed column
 * but `leaveOut` when one of them is a field the planner cannot see into.
 */
function columnsOf(
  type: PlannedType,
  groups: Map<string, FieldNode[]>,
  planned: ReadonlySet<string>,
  also: readonly string[],
  leaveOut: readonly string[],
  context: PlanContext,
): ListedColumn[] {
  const all = listedColumns(context.db, ENTITIES[type].entity, leaveOut);
  const objectType = context.info.schema.getType(type);
  if (!isObjectType(objectType)) return all;
  const fields = objectType.getFields();
  const properties = new Set(also);
  for (const [key, [field]] of groups) {
    const name = field.name.value;
    if (name === '__typename' || planned.has(key)) continue;
    const declared = RESOLVER_COLUMNS[`${type}.${name}`];
    if (declared) declared.forEach((property) => properties.add(property));
    else if (!fields[name]?.resolve && all.some((column) => column.propertyName === name))
      properties.add(name);
    else return all;
  }
  return all.filter((column) => properties.has(column.propertyName));
}

function planNode(
  type: PlannedType,
  fieldNodes: readonly FieldNode[],
  leaveOut: string[],
  also: readonly string[],
  context: PlanContext,
): NodePlan {
  return planGroups(type, groupedFields(fieldNodes, context), leaveOut, also, context);
}

function planGroups(
  type: PlannedType,
  groups: Map<string, FieldNode[]>,
  leaveOut: string[],
  also: readonly string[],
  context: PlanContext,
): NodePlan {
  const plan: NodePlan = { type, columns: [], readers: [], objects: [], pages: [] };
  const planned = new Set<string>();
  for (const [key, group] of groups) {
    const name = `${type}.${group[0].name.value}`;
    const object = OBJECT_RELATIONS[name];
    if (object) {
      plan.objects.push({ key, relation: object, node: planNode(object.target, group, [], [], context) });
      planned.add(key);
      continue;
    }
    const page = PAGE_RELATIONS[name] && planPage(type, key, PAGE_RELATIONS[name], group, context);
    if (page) {
      plan.pages.push(page);
      planned.add(key);
    }
  }
  plan.columns = columnsOf(type, groups, planned, also, leaveOut, context);
  plan.readers = plan.columns.map(readerOf);
  return plan;
}

/** Whether any of these fields (through fragments) is named `name`. */
const selects = (fieldNodes: readonly FieldNode[], name: string, context: PlanContext) =>
  fieldNodes.some((node) => fieldsOf(node.selectionSet, context.info).some((f) => f.name.value === name));

/** null: this connection is left to its loader (an argument the planner does not understand, or an invalid one). */
function planPage(
  parentType: PlannedType,
  key: string,
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
      if (Object.keys(given).some((name) => given[name] != null && !relation.filterKeys!.includes(name)))
        return null;
      const typed = Object.assign(new ExposureFilter(), given);
      assertValidFilter(ExposureFilter, typed);
      filter = plainFilter(typed);
    }
  } catch {
    return null;
  }
  const connection = groupedFields(fieldNodes, context);
  const edges = connection.get('edges') ?? [];
  const nodes = edges.flatMap((e) =>
    fieldsOf(e.selectionSet, context.info).filter((f) => f.name.value === 'node'),
  );
  // Aliased edges or nodes would be merged differently by GraphQL; such rare shapes keep the loader path.
  // (`a: node { … } b: node { … }` are two response keys: each selects its own fields and arguments under
  // the same names, which one plan of the merged nodes would answer from the first: test "aliased nodes".)
  const aliased = (f: FieldNode) => (f.alias?.value ?? f.name.value) !== f.name.value;
  for (const [name, group] of connection)
    if (group.some(aliased) || name !== group[0].name.value) return null;
  if (nodes.some(aliased)) return null;
  const leaveOut = relation.optional.leaveOutFor(
    selectedNodeFields({ fieldNodes, fragments: context.info.fragments }),
  );
  // Cursors (an edge's, or pageInfo's) are made from the order's columns.
  const cursors = connection.has('pageInfo') || selects(edges, 'cursor', context);
  const order = relation.order;
  const orderProperties = cursors
    ? listedColumns(context.db, ENTITIES[relation.target].entity)
        .filter((column) => order.some((o) => o.sql === `t.${column.databaseName}`))
        .map((column) => column.propertyName)
    : [];
  const node = planNode(relation.target, nodes, leaveOut, orderProperties, context);
  return {
    key,
    relation,
    first,
    after,
    cursor,
    filter,
    readsNext: connection.has('pageInfo'),
    count: connection.has('totalCount'),
    node,
    cursorOf: (row) => order.map((o) => o.value(row as never)),
  };
}

/** Whether planning saves anything: a page with nothing nested below it is already one statement. */
const hasNested = (plan: PagePlan) => plan.node.objects.length > 0 || plan.node.pages.length > 0;

/** Writes the SQL of a plan; aliases are numbered so nested levels never collide. */
class StatementWriter {
  readonly params = new SqlParams();
  private aliases = 0;
  constructor(private readonly viewer: Viewer) {}

  alias(): string {
    this.aliases += 1;
    return `n${this.aliases}`;
  }

  /**
   * json_build_array of the row aliased `alias`: its columns, then each object, then each page (and count).
   * Each object is a LEFT JOIN (pushed onto `joins`, for the FROM clause of `alias`'s row) rather than a
   * correlated subquery: the same index lookup by primary key, without a subplan started per row (as
   * PostGraphile does; docs/performance.md). A miss (not visible, or gone) is a null object, as before.
   */
  node(plan: NodePlan, alias: string, joins: string[]): string {
    const parts = plan.columns.map(
      (column) => `${alias}."${column.databaseName}"${asJson(column) ? '' : '::text'}`,
    );
    for (const object of plan.objects) {
      const child = this.alias();
      const on = [
        `${child}.id = ${alias}.${object.relation.foreignKey}`,
        ...object.relation.visibility(this.viewer, this.params, child),
      ];
      joins.push(`LEFT JOIN ${ENTITIES[object.node.type].table} ${child} ON ${on.join(' AND ')}`);
      parts.push(`CASE WHEN ${child}.id IS NULL THEN NULL ELSE ${this.node(object.node, child, joins)} END`);
    }
    for (const page of plan.pages) {
      parts.push(this.page(page, `${alias}.id`));
      if (page.count) parts.push(this.count(page, `${alias}.id`));
    }
    return `json_build_array(${parts.join(', ')})`;
  }

  /** A page of `parentId`'s rows, in order: array(… ORDER BY … LIMIT) keeps it without sorting in an aggregate. */
  page(page: PagePlan, parentId: string): string {
    const alias = this.alias();
    const joins: string[] = [];
    const node = this.node(page.node, alias, joins);
    return `to_json(array(SELECT ${node}
      FROM ${ENTITIES[page.node.type].table} ${alias} ${joins.join(' ')} WHERE ${this.pageWhere(page, alias, parentId).join(' AND ')}
      ORDER BY ${this.orderBy(page, alias)} LIMIT ${page.first + (page.readsNext ? 1 : 0)}))`;
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

/** Reads a json_build_array made by StatementWriter.node: an entity with the planned values attached. */
function readNode(plan: NodePlan, values: unknown[]): object {
  // What hydrate makes of a raw row, built directly: an instance of the entity with the read properties.
  const row = Object.create(ENTITIES[plan.type].entity.prototype) as Record<string | symbol, unknown>;
  const { readers } = plan;
  let i = 0;
  for (; i < readers.length; i += 1) {
    const value = values[i];
    const { parse } = readers[i];
    row[readers[i].property] = value === null || parse === null ? value : parse(value as string);
  }
  if (plan.objects.length === 0 && plan.pages.length === 0) return row;
  const planned: PlannedFields = {};
  for (const object of plan.objects) {
    const value = values[i++] as unknown[] | null;
    // A miss (not visible, or gone) is not attached: the field's resolver finds it missing, as before.
    if (value) planned[object.key] = readNode(object.node, value);
  }
  for (const page of plan.pages) {
    const rows = values[i++] as unknown[][];
    const count = page.count ? (values[i++] as number) : null;
    planned[page.key] = readPage(page, rows, count);
  }
  row[PLANNED] = planned;
  return row;
}

/** A planned page as the connection its service would have built from the same rows. */
function readPage(page: PagePlan, rows: unknown[][], count: number | null): Connection<object> {
  return toConnection(
    rows.map((values) => readNode(page.node, values)),
    page.first,
    Boolean(page.after),
    page.relation.order.kind,
    page.cursorOf,
    // Read only when totalCount is selected, which plans the count.
    () => count as number,
  );
}

/**
 * The planned statements get a name, so that each connection of the pool parses and plans each of them
 * once and then only binds and executes it (PostGraphile does the same): a plan's text depends only on the
 * query's shape and the viewer's kind, never on values, so a client sends the same few texts again and
 * again, and planning was about 0.4 ms of PostgreSQL's 4 ms per nested read. Names are given to the first
 * PREPARED_STATEMENTS distinct texts this process sees, and kept: that bounds what a connection holds (a
 * parsed statement and its plan per name) whatever shapes clients send; later texts run unnamed, as before.
 */
const PREPARED_STATEMENTS = 100;
const statementNames = new Map<string, string>();

/**
 * What db.query is given: pg's query config ({ name, text }) where TypeORM passes the text through unchanged
 * to pg's client.query, which takes either (the statement counter and the logs see it as one statement still).
 */
function preparedStatement(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < PREPARED_STATEMENTS) {
    name = `nested_read_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return (name === undefined ? text : { name, text }) as unknown as string;
}

/** The one statement for a planned connection under many parents (the parents of one level of the query). */
async function readPlanned(
  db: DataSource,
  viewer: Viewer,
  plan: PagePlan,
  parentIds: readonly string[],
): Promise<Map<string, Connection<object>>> {
  const writer = new StatementWriter(viewer);
  const parents = writer.params.param(parentIds);
  const page = writer.page(plan, 'parent.id');
  const count = plan.count ? `, ${writer.count(plan, 'parent.id')} AS __count` : '';
  const text = `SELECT parent.id AS __parent, ${page} AS __page${count} FROM unnest(${parents}::uuid[]) AS parent(id)`;
  const rows: { __parent: string; __page: unknown[][]; __count?: number }[] = await db.query(
    preparedStatement(text),
    writer.params.values,
  );
  return new Map(rows.map((row) => [row.__parent, readPage(plan, row.__page, row.__count ?? null)]));
}

/**
 * The objects Query.node may read with what is planned below them, with the by-id loader's visibility rule.
 * Reading the object in the same statement makes the whole nested read one statement (PostGraphile's is one
 * too), and its only parameters are the id and the visibility's, so after PostgreSQL's five custom plans of a
 * prepared statement its generic plan is as cheap as theirs and the statement is no longer planned at all
 * (the parents' `unnest($1::uuid[])` of readPlanned keeps it planning each time: docs/performance.md).
 */
const ROOTS: Partial<Record<PlannedType, (viewer: Viewer, params: SqlParams, alias: string) => string[]>> = {
  Incident: incidentVisibility,
};

/** null: nothing below the object is planned (the by-id loader reads it then). */
function planRoot(
  type: PlannedType,
  context: PlanContext,
  fieldNodes: readonly FieldNode[],
): NodePlan | null {
  const objectType = context.info.schema.getType(type);
  if (!isObjectType(objectType)) return null;
  const typeNames = [type, ...objectType.getInterfaces().map((i) => i.name)];
  const fields = fieldNodes.flatMap((node) => fieldsOn(node.selectionSet, typeNames, context));
  const plan = planGroups(type, groupByKey(fields), [], [], context);
  return plan.objects.length > 0 || plan.pages.length > 0 ? plan : null;
}

/** The one statement for Query.node: the object by id, if visible, with everything planned below it. */
async function readRoot(db: DataSource, viewer: Viewer, plan: NodePlan, id: string): Promise<object | null> {
  const writer = new StatementWriter(viewer);
  const alias = writer.alias();
  const where = [
    `${alias}.id = ${writer.params.param(id)}::uuid`,
    ...ROOTS[plan.type]!(viewer, writer.params, alias),
  ];
  const joins: string[] = [];
  const node = writer.node(plan, alias, joins);
  const text = `SELECT ${node} AS __node FROM ${ENTITIES[plan.type].table} ${alias} ${joins.join(' ')} WHERE ${where.join(' AND ')}`;
  const rows: { __node: unknown[] }[] = await db.query(preparedStatement(text), writer.params.values);
  return rows.length > 0 ? readNode(plan, rows[0].__node) : null;
}

export type NestedReadLoaders = ReturnType<typeof createNestedReadLoaders>;

const sameNodes = (a: readonly FieldNode[], b: readonly FieldNode[]) =>
  a.length === b.length && a.every((node, i) => node === b[i]);

/** `enabled` false (NESTED_READ_PLANNING=false): every connection reads through its loaders, level by level. */
export function createNestedReadLoaders(db: DataSource, viewer: Viewer, enabled = true) {
  // One plan per field of the query (its AST nodes): the resolver runs once per parent, the plan is made once.
  // The same first node may be merged with different others elsewhere (a fragment used twice), hence the list.
  const plans = new Map<FieldNode, { fieldNodes: readonly FieldNode[]; plan: PagePlan | null }[]>();
  const planIds = new WeakMap<PagePlan, number>();
  let lastPlanId = 0;
  const planIdOf = (plan: PagePlan) => {
    let id = planIds.get(plan);
    if (id === undefined) planIds.set(plan, (id = lastPlanId += 1));
    return id;
  };
  const planOf = (info: GraphQLResolveInfo, relation: PageRelation): PagePlan | null => {
    let known = plans.get(info.fieldNodes[0]);
    if (!known) plans.set(info.fieldNodes[0], (known = []));
    const found = known.find((k) => sameNodes(k.fieldNodes, info.fieldNodes));
    if (found) return found.plan;
    const made = planPage(
      info.parentType.name as PlannedType,
      String(info.path.key),
      relation,
      info.fieldNodes,
      { info, db },
    );
    const plan = made && hasNested(made) ? made : null;
    known.push({ fieldNodes: info.fieldNodes, plan });
    return plan;
  };
  const planned = new DataLoader<{ parentId: string; plan: PagePlan }, Connection<object>, string>(
    async (keys) => {
      const byPlan = new Map<PagePlan, string[]>();
      for (const key of keys) {
        const ids = byPlan.get(key.plan);
        if (ids) ids.push(key.parentId);
        else byPlan.set(key.plan, [key.parentId]);
      }
      const read = new Map<PagePlan, Map<string, Connection<object>>>();
      for (const [plan, parentIds] of byPlan) read.set(plan, await readPlanned(db, viewer, plan, parentIds));
      return keys.map((key) => read.get(key.plan)!.get(key.parentId)!);
    },
    { cacheKeyFn: (key) => `${planIdOf(key.plan)}:${key.parentId}` },
  );
  return {
    nestedRead: {
      /**
       * Called by a connection's resolver before it reads its page the usual way: the page and everything
       * planned below it, in one statement batched over every parent of this level of the query. null when
       * the field is not one the planner knows or understands, or when nothing nested below it would be
       * saved: the resolver reads its page through its loader then.
       */
      connection<E>(info: GraphQLResolveInfo, parentId: string): Promise<Connection<E>> | null {
        const relation = PAGE_RELATIONS[`${info.parentType.name}.${info.fieldName}`];
        if (!relation || !enabled) return null;
        const plan = planOf(info, relation);
        return plan && (planned.load({ parentId, plan }) as Promise<Connection<E>>);
      },
      /**
       * Called by Query.node for an object of `type` before it loads it by id: the object and everything
       * planned below it in one statement. null when the type is not one the planner reads at the root, or
       * when nothing below it is planned: node() loads it by id then.
       */
      node(info: GraphQLResolveInfo, type: string, id: string): Promise<object | null> | null {
        if (!enabled || !(type in ROOTS)) return null;
        const plan = planRoot(type as PlannedType, { info, db }, info.fieldNodes);
        return plan && readRoot(db, viewer, plan, id);
      },
    },
  };
}
