import { GraphQLSchema, getNamedType, isLeafType, isObjectType } from 'graphql';
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { RegulatoryRegime } from '../../src/modules/obligation/regimes';
import { TestApp, dataOf, startTestApp, testSchema } from '../support/app';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';

/**
 * The nested-read planner (src/modules/nested-read): a nested read of connections among incidents,
 * exposures, clients, contracts and suppliers is one SQL statement below its root, and answers exactly what
 * the level-by-level path answers. Two instances on the same database: one plans, one does not
 * (NESTED_READ_PLANNING=false), and every answer is compared value by value, for an admin and a client.
 *
 * The register is generated: 30 suppliers (the first 3 relied on by the rest as sub-processors), 40
 * clients, 4 contracts per supplier spread over the clients with varied references, values and dates, some
 * removed, and an incident at each of the 3 infrastructure suppliers, so one incident exposes most clients.
 */
const SUPPLIERS = 30;
const CLIENTS = 40;

const NESTED_READ = `query($id: ID!, $first: Int, $contracts: Int) { node(id: $id) { ... on Incident { title
  exposures(first: $first) { edges { node { score level client { name contracts(first: $contracts) { edges { node { reference supplier { name } } } } } } } } } } }`;

/** Every field kind the planner reads: ids, cursors, counts, page info, numbers, dates, arrays, aliases, fragments. */
const WIDE_READ = `query($id: ID!, $first: Int, $contracts: Int, $after: String) { node(id: $id) { ... on Incident { id title
  exposures(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...E } } } } } }
  fragment E on Exposure { id score level revision dataSubjectsAtRisk dataSubjectsAtRiskRange { low high }
    dataCategoriesAtRisk specialCategoryData awareAt notificationDeadline computedAt resolvedAt
    notification { status decidedAt }
    client { id name sector country regimes
      contracts(first: $contracts) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id reference title startsOn endsOn criticality removedAt value { amount currency }
          supplier { id name tier removedAt } client { id name } } } }
      few: contracts(first: 1) { edges { node { reference title } } } }
    incident { title supplier { name } } }`;

/**
 * A selection of one field of `typeName` without required arguments: a leaf as it is, another node by its
 * id, any other object (a connection, a value such as Money) with its own fields the same way, two levels down.
 */
function selectionOf(schema: GraphQLSchema, typeName: string, fieldName: string, depth = 0): string | null {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) return null;
  const field = type.getFields()[fieldName];
  if (field.args.some((arg) => arg.type.toString().endsWith('!') && arg.defaultValue === undefined))
    return null;
  const named = getNamedType(field.type);
  if (isLeafType(named)) return fieldName;
  if (!isObjectType(named)) return `${fieldName} { __typename }`;
  if (depth > 0 && 'id' in named.getFields()) return `${fieldName} { id }`;
  if (depth > 2) return null;
  const inner = Object.keys(named.getFields())
    .map((name) => selectionOf(schema, named.name, name, depth + 1))
    .filter((selection) => selection !== null);
  return `${fieldName} { ${inner.length ? inner.join(' ') : '__typename'} }`;
}

describe('Nested reads planned into one statement', () => {
  let planned: TestApp;
  let levelByLevel: TestApp;
  let incidentId: string;
  let clientIds: string[];

  beforeAll(async () => {
    planned = await startTestApp({ MAX_QUERY_COST: '10000000' });
    levelByLevel = await startTestApp(
      { MAX_QUERY_COST: '10000000', NESTED_READ_PLANNING: 'false' },
      { database: planned.database },
    );
    const s = planned.services;
    const pad = (i: number) => String(i).padStart(2, '0');
    const suppliers: { id: string }[] = [];
    for (let i = 0; i < SUPPLIERS; i += 1)
      suppliers.push(await createSupplier(s, { name: `Supplier ${pad((i * 7) % SUPPLIERS)} ${i}` }));
    for (let i = 3; i < SUPPLIERS; i += 1) await linkSubprocessor(s, suppliers[i].id, suppliers[i % 3].id);
    const clients: { id: string }[] = [];
    for (let i = 0; i < CLIENTS; i += 1)
      clients.push(
        await createClient(s, {
          name: `Client ${pad(i)}`,
          ...(i % 5 === 0 ? { regimes: [RegulatoryRegime.UK_GDPR] } : {}),
        }),
      );
    clientIds = clients.map((c) => c.id);
    const criticalities = [
      ServiceCriticality.CRITICAL,
      ServiceCriticality.IMPORTANT,
      ServiceCriticality.STANDARD,
    ];
    let n = 0;
    for (let i = 0; i < SUPPLIERS; i += 1) {
      for (let j = 0; j < 4; j += 1) {
        n += 1;
        const contract = await createContract(s, clients[(i * 3 + j * 11) % CLIENTS].id, suppliers[i].id, {
          reference: `K-${pad((n * 37) % 100)}-${j}`,
          criticality: criticalities[(i + j) % 3],
          value:
            j === 3 ? null : { amount: `${(i + 1) * 1000 + j}.${pad(j * 7)}`, currency: j ? 'GBP' : 'EUR' },
          startsOn: `2020-0${1 + (j % 9)}-1${j}`,
        });
        await createAgreement(s, contract.id, {
          reference: `DPA-${n}`,
          dataCategories: j === 0 ? [DataCategory.HEALTH, DataCategory.CONTACT] : [DataCategory.CONTACT],
          dataSubjectCount: 1000 * (j + 1) + i,
        });
        if (n % 17 === 0)
          await s.contract.remove(FACTORY_ADMIN, { id: encodeGlobalId('Contract', contract.id) });
      }
    }
    for (let i = 0; i < 3; i += 1)
      await recordIncident(s, suppliers[i].id, {
        title: `Incident ${i}`,
        detectedAt: new Date(Date.UTC(2023, 2, 1 + i)),
        startedAt: new Date(Date.UTC(2023, 1, 1)),
      });
    [{ id: incidentId }] = await planned.database.db.query(
      `SELECT incident_id AS id FROM exposure GROUP BY incident_id ORDER BY count(*) DESC LIMIT 1`,
    );
  }, 180_000);
  afterAll(async () => {
    await levelByLevel?.stop();
    await planned?.stop();
  });

  /** The same request to both instances: the planned one's statement count and both answers. */
  async function both(token: string, query: string, variables: Record<string, unknown>) {
    const a = await planned.gql(token, query, variables);
    const b = await levelByLevel.gql(token, query, variables);
    return {
      statements: a.sqlStatements,
      levelStatements: b.sqlStatements,
      planned: dataOf(a),
      old: dataOf(b),
    };
  }

  it('the register is big enough for the page sizes to matter', async () => {
    const [{ exposures, clients }] = await planned.database.db.query(
      `SELECT count(*)::int AS exposures, count(DISTINCT client_id)::int AS clients FROM exposure WHERE incident_id = $1`,
      [incidentId],
    );
    expect(exposures).toBeGreaterThanOrEqual(20);
    expect(clients).toBe(exposures);
  });

  it.each([
    [1, 1],
    [5, 2],
    [20, 5],
    [100, 10],
  ])(
    'incident → exposures(first: %d) → client → contracts(first: %d) → supplier: 1 statement, the same answer',
    async (first, contracts) => {
      const {
        statements,
        levelStatements,
        planned: a,
        old: b,
      } = await both(planned.adminToken, NESTED_READ, {
        id: encodeGlobalId('Incident', incidentId),
        first,
        contracts,
      });
      // The incident itself is read in the same statement as everything below it.
      expect(statements).toBe(1);
      expect(levelStatements).toBe(5);
      expect(a).toEqual(b);
      expect(a.node.exposures.edges.length).toBeGreaterThan(0);
      expect(a.node.exposures.edges.some((e: any) => e.node.client.contracts.edges.length > 0)).toBe(true);
    },
  );

  it('every field kind, counts, cursors, aliases and fragments: the same answer, page after page', async () => {
    const variables = { id: encodeGlobalId('Incident', incidentId), first: 7, contracts: 2, after: null };
    let pages = 0;
    for (let after: string | null = null; ; pages += 1) {
      const {
        statements,
        planned: a,
        old: b,
      } = await both(planned.adminToken, WIDE_READ, { ...variables, after });
      expect(a).toEqual(b);
      // The incident (node), the planned page, and what the planner leaves to loaders at their own level
      // (exposure.incident and its supplier) — never more as the page grows.
      expect(statements).toBeLessThanOrEqual(4);
      const page = a.node.exposures;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  it('every field of each planned type, selected alone where the planner reads it: the same answer', async () => {
    const schema = await testSchema();
    // Where each type's rows are read by the planner: [type, the read with FIELD in that place].
    const places: [string, string][] = [
      ['Exposure', 'exposures(first: 6) { edges { node { FIELD client { name } } } }'],
      ['Client', 'exposures(first: 6) { edges { node { client { FIELD } } } }'],
      [
        'Contract',
        'exposures(first: 6) { edges { node { client { contracts(first: 3) { edges { node { FIELD } } } } } } }',
      ],
      [
        'Supplier',
        'exposures(first: 6) { edges { node { client { contracts(first: 3) { edges { node { supplier { FIELD } } } } } } } }',
      ],
      ['Supplier', 'supplier { FIELD } exposures(first: 1) { edges { node { client { name } } } }'],
      // The incident itself, read in the same statement as what is planned below it.
      ['Incident', 'FIELD below: exposures(first: 2) { edges { node { score } } }'],
    ];
    let compared = 0;
    let incidentFields = 0;
    for (const [typeName, place] of places) {
      const type = schema.getType(typeName);
      if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
      for (const fieldName of Object.keys(type.getFields())) {
        const selection = selectionOf(schema, typeName, fieldName);
        if (!selection) continue;
        const query = `query($id: ID!) { node(id: $id) { ... on Incident { ${place.replace('FIELD', selection)} } } }`;
        const { planned: a, old: b } = await both(planned.adminToken, query, {
          id: encodeGlobalId('Incident', incidentId),
        });
        expect({ selection, answer: a }).toEqual({ selection, answer: b });
        compared += 1;
        if (typeName === 'Incident') incidentFields += 1;
      }
    }
    expect(compared).toBeGreaterThan(60);
    expect(incidentFields).toBeGreaterThan(10);
  });

  it('node(id:) of an incident: the fragments that apply to it, its visibility, objects alone (one statement)', async () => {
    const id = encodeGlobalId('Incident', incidentId);
    const query = `query($id: ID!) { node(id: $id) { __typename id ...N
      ... on Supplier { name contracts(first: 2) { edges { node { reference } } } }
      ... on Incident { title supplier { name tier } ...I } } }
      fragment N on Node { ... on Incident { status exposures(first: 3) { totalCount edges { node { score } } } } }
      fragment I on Incident { detectedAt shareOfDataAffected dataCategoriesAffected exposureMapUrl }`;
    const wide = await both(planned.adminToken, query, { id });
    expect(wide.planned).toEqual(wide.old);
    expect(wide.planned.node.__typename).toBe('Incident');
    expect(wide.planned.node.exposures.edges.length).toBe(3);
    expect(wide.statements).toBe(1);
    const objectOnly = await both(
      planned.adminToken,
      `query($id: ID!) { node(id: $id) { ... on Incident { title supplier { name } } } }`,
      {
        id,
      },
    );
    expect(objectOnly.planned).toEqual(objectOnly.old);
    expect(objectOnly.planned.node.supplier.name).toEqual(expect.any(String));
    expect(objectOnly.statements).toBe(1);
    // A client the incident did not expose sees no incident at all, planned or not.
    const { id: unexposed } = await createClient(planned.services, { name: 'Client not exposed' });
    const hidden = await both(await planned.clientToken(unexposed), NESTED_READ, {
      id,
      first: 10,
      contracts: 2,
    });
    expect(hidden.planned).toEqual({ node: null });
    expect(hidden.old).toEqual({ node: null });
    const unknown = await both(planned.adminToken, NESTED_READ, {
      id: encodeGlobalId('Incident', '00000000-0000-4000-8000-000000000000'),
      first: 10,
      contracts: 2,
    });
    expect(unknown.planned).toEqual({ node: null });
    expect(unknown.old).toEqual({ node: null });
  });

  it('a client token sees only its own rows, exactly as through the loaders', async () => {
    for (const clientId of clientIds.slice(0, 6)) {
      const token = await planned.clientToken(clientId);
      const wide = await both(token, WIDE_READ, {
        id: encodeGlobalId('Incident', incidentId),
        first: 50,
        contracts: 10,
        after: null,
      });
      expect(wide.planned).toEqual(wide.old);
      const read = await both(token, NESTED_READ, {
        id: encodeGlobalId('Incident', incidentId),
        first: 100,
        contracts: 5,
      });
      expect(read.planned).toEqual(read.old);
      expect(read.statements).toBeLessThanOrEqual(2);
      const exposures = wide.planned.node?.exposures.edges ?? [];
      expect(exposures.length).toBeLessThanOrEqual(1);
      for (const edge of exposures) {
        expect(edge.node.client.id).toBe(encodeGlobalId('Client', clientId));
        for (const contract of edge.node.client.contracts.edges)
          expect(contract.node.client.id).toBe(encodeGlobalId('Client', clientId));
      }
      const suppliers = await both(
        token,
        `query($first: Int) { suppliers(first: $first) { edges { node { name contracts(first: 5) { totalCount edges { node { reference client { id name } } } } } } } }`,
        { first: 50 },
      );
      expect(suppliers.planned).toEqual(suppliers.old);
      const seen = suppliers.planned.suppliers.edges.flatMap((e: any) => e.node.contracts.edges);
      expect(seen.every((c: any) => c.node.client.id === encodeGlobalId('Client', clientId))).toBe(true);
    }
  });

  it('top-level lists with planned connections below: the same answers, one statement below the list', async () => {
    // [query, variables, statements with planning]
    const queries: [string, Record<string, unknown>, number][] = [
      [
        `query($first: Int) { clients(first: $first) { edges { node { name contracts(first: 3) { totalCount edges { node { reference supplier { name } } } }
          exposures(first: 2, filter: { includeResolved: true }) { totalCount edges { node { score incident { title } } } } } } } }`,
        { first: 40 },
        // clients page; contracts → supplier planned; exposures page, its count and incidents (Exposure.incident
        // is not planned: nothing below that page is, so it reads through its loaders as before)
        5,
      ],
      [
        `query($first: Int) { suppliers(first: $first) { edges { node { name contracts(first: 4) { edges { node { reference client { name exposures(first: 3, filter: { minLevel: LOW }) { edges { node { level } } } } } } } } } } }`,
        { first: 30 },
        // suppliers page; contracts → client → exposures planned
        2,
      ],
    ];
    for (const [query, variables, expected] of queries) {
      const {
        statements,
        levelStatements,
        planned: a,
        old: b,
      } = await both(planned.adminToken, query, variables);
      expect(a).toEqual(b);
      expect(statements).toBe(expected);
      expect(levelStatements).toBeGreaterThan(expected);
    }
  });

  it('aliased nodes of one edge with different selections below them: the same answers', async () => {
    // `a: node` and `b: node` are different response keys, so GraphQL merges nothing between them: each
    // selects its own page sizes and its own fields under the same key (here `x`, `c`).
    const id = encodeGlobalId('Incident', incidentId);
    const queries = [
      `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 10) { edges {
        a: node { client { c: contracts(first: 1) { edges { node { reference } } } } }
        b: node { client { c: contracts(first: 3) { totalCount edges { node { reference supplier { name } } } } } } } } } } }`,
      `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 10) { edges {
        a: node { x: incident { title } client { name } }
        b: node { x: client { name sector } } } } } } }`,
      `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 10) { edges {
        a: node { x: client { name } }
        b: node { x: incident { title } } } } } } }`,
    ];
    for (const query of queries) {
      const a = await planned.gql(planned.adminToken, query, { id });
      const b = await levelByLevel.gql(planned.adminToken, query, { id });
      expect({ query, body: a.body }).toEqual({ query, body: b.body });
      expect(b.body.errors).toBeUndefined();
    }
    const [first] = (await levelByLevel.gql(planned.adminToken, queries[0], { id })).body.data.node.exposures
      .edges;
    expect(first.b.client.c.edges.length).toBeGreaterThan(first.a.client.c.edges.length);
  });

  it('after and first: 0 on nested connections, for an admin and a client: the same answers', async () => {
    const id = encodeGlobalId('Incident', incidentId);
    const CURSORS = `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 30) { edges { cursor node {
      client { contracts(first: 1) { pageInfo { endCursor } edges { cursor } } } } } } } } }`;
    const seen = await levelByLevel.gql(planned.adminToken, CURSORS, { id });
    const cursors: string[] = seen.body.data.node.exposures.edges
      .map((e: any) => e.node.client.contracts.pageInfo.endCursor)
      .filter((c: string | null) => c !== null);
    const exposureCursor: string = seen.body.data.node.exposures.edges[2].cursor;
    expect(cursors.length).toBeGreaterThan(3);
    const QUERY = `query($id: ID!, $after: String, $exposuresAfter: String, $first: Int) { node(id: $id) { ... on Incident {
      exposures(first: 5, after: $exposuresAfter) { pageInfo { hasNextPage hasPreviousPage } edges { node { score client { name
        contracts(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { reference supplier { name } } } } } } } } } } }`;
    const tokens = [planned.adminToken, await planned.clientToken(clientIds[0])];
    for (const token of tokens)
      for (const variables of [
        { id, after: cursors[0], first: 2 },
        { id, after: cursors[3], first: 3, exposuresAfter: exposureCursor },
        { id, first: 0 },
        { id, after: cursors[1], first: 0 },
      ]) {
        const { planned: a, old: b } = await both(token, QUERY, variables);
        expect({ variables, answer: a }).toEqual({ variables, answer: b });
      }
  });

  it('directives, inline fragments, two aliases of one connection, and the supplier root for a client: the same answers', async () => {
    const id = encodeGlobalId('Incident', incidentId);
    const query = `query($id: ID!, $yes: Boolean!, $no: Boolean!) { node(id: $id) { __typename ... on Incident {
      supplier { name contracts(first: 4) { totalCount pageInfo { hasNextPage } edges { node { reference client { name } } } } }
      a: exposures(first: 2) { edges { __typename cursor node { __typename score ...C } } }
      b: exposures(first: 3) { totalCount edges { node { level client @include(if: $yes) { name ... on Client {
        contracts(first: 2) @skip(if: $no) { edges { node { reference supplier { name } } } } } }
        skipped: client @include(if: $no) { name } } } } } } }
      fragment C on Exposure { client { ... on Node { id } sector contracts(first: 1) { edges { node { ...K } } } } }
      fragment K on Contract { reference supplier @skip(if: $no) { tier } }`;
    const tokens = [
      planned.adminToken,
      planned.analystToken,
      ...(await Promise.all(clientIds.slice(0, 3).map((c) => planned.clientToken(c)))),
    ];
    for (const token of tokens)
      for (const flags of [
        { yes: true, no: false },
        { yes: false, no: true },
      ]) {
        const { planned: a, old: b } = await both(token, query, { id, ...flags });
        expect({ flags, answer: a }).toEqual({ flags, answer: b });
      }
  });

  it('an orderBy is left to the loaders (the planner knows only the default order): the same answers', async () => {
    for (const field of ['VALUE', 'ENDS_ON', 'REFERENCE']) {
      const query = `query($first: Int) { clients(first: $first) { edges { node { name
        contracts(first: 3, orderBy: { field: ${field} }) { edges { cursor node { reference value { amount } supplier { name } } } }
        byReference: contracts(first: 2) { edges { node { reference supplier { name } } } } } } } }`;
      const { planned: a, old: b } = await both(planned.adminToken, query, { first: 40 });
      expect(a).toEqual(b);
      expect(a.clients.edges.some((e: any) => e.node.contracts.edges.length > 1)).toBe(true);
    }
  });

  it('arguments it does not plan are left to the loaders, with their errors where they were', async () => {
    const id = encodeGlobalId('Incident', incidentId);
    const bad = await planned.gql(planned.adminToken, NESTED_READ, { id, first: 101, contracts: 1 });
    const old = await levelByLevel.gql(planned.adminToken, NESTED_READ, { id, first: 101, contracts: 1 });
    expect(bad.body.errors?.map((e: any) => e.message)).toEqual(old.body.errors?.map((e: any) => e.message));
    expect(bad.body.data).toEqual(old.body.data);
    expect(bad.body.errors?.length).toBeGreaterThan(0);
    const a = await planned.gql(planned.adminToken, NESTED_READ, { id, first: 3, contracts: 500 });
    const b = await levelByLevel.gql(planned.adminToken, NESTED_READ, { id, first: 3, contracts: 500 });
    const withoutRequestIds = (body: any) =>
      JSON.parse(JSON.stringify(body, (key, value) => (key === 'requestId' ? undefined : value)));
    expect(withoutRequestIds(a.body)).toEqual(withoutRequestIds(b.body));
    expect(a.body.errors?.length).toBeGreaterThan(0);
  });
});
