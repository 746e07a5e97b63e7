import { loadDemoRegister } from '../../src/seed/demo';
import { TestApp, startTestApp } from '../support/app';

/**
 * An operation's first run goes through graphql-js; from its second it runs compiled by graphql-jit
 * (src/common/compiled-execution.ts). Over the demo register, each operation below is sent three times
 * by each viewer and must answer the same each time: data, errors with their codes, paths and locations,
 * and HTTP status. So the compiled executor is held to graphql-js, the reference, on what users send:
 * nested connections, fragments, aliases, variables, abstract types, introspection and errors.
 */
const OPERATIONS: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  {
    name: 'nested connections with fragments, an alias and a variable',
    query: `query($first: Int) { suppliers(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...S } } } }
      fragment S on Supplier { id name tier strategic subprocessors { name }
        contracts(first: $first) { totalCount edges { node { reference value { amount currency } client { name } dpas: dataProcessingAgreements { reference dataCategories } } } }
        incidents(first: 3) { edges { node { title status exposureSummary { clientsExposed peopleAtRisk nearestDeadline critical }
          exposures(first: 5) { edges { node { ... on Exposure { score level dataCategoriesAtRisk awareAt notificationDeadline notification { status }
            factors { name contribution } path { name } contracts { reference } client { id name } } } } } } } } }`,
    variables: { first: 3 },
  },
  {
    name: 'every node type, with __typename, and node(id:) on an abstract type',
    query: `{ exposures(first: 3) { edges { node { __typename id client { __typename id } incident { id supplier { id } } contracts { id dataProcessingAgreements { __typename id } } } } }
      node(id: "U3VwcGxpZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { __typename id } }`,
  },
  {
    name: 'a filter, a cursor from the first page, and a list of clients',
    query: `query($level: ExposureLevel) { exposures(first: 2, filter: { minLevel: $level }) { totalCount pageInfo { endCursor hasNextPage } edges { node { score level client { name sector } } } }
      clients(first: 4) { edges { node { name contracts(first: 2) { edges { node { reference supplier { name } } } } } } } }`,
    variables: { level: 'LOW' },
  },
  {
    name: 'introspection',
    query: `{ __schema { queryType { name } types { name kind fields { name } } } __type(name: "Exposure") { name interfaces { name } } }`,
  },
  { name: 'a page size out of range', query: `{ suppliers(first: 101) { totalCount } }` },
  {
    name: 'a cursor of another list',
    query: `{ suppliers(first: 1, after: "bm90LWEtY3Vyc29y") { totalCount } }`,
  },
  {
    name: 'an unknown id and a malformed one',
    query: `{ a: node(id: "U3VwcGxpZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { id } b: node(id: "nonsense") { id } }`,
  },
  {
    name: 'a variable of the wrong type',
    query: `query($first: Int) { suppliers(first: $first) { totalCount } }`,
    variables: { first: 'many' },
  },
];

describe('compiled execution answers what graphql-js answers', () => {
  let app: TestApp;
  let clientToken: string;

  beforeAll(async () => {
    app = await startTestApp({ MAX_QUERY_COST: '1000000' });
    const demo = await loadDemoRegister(app.database.db, app.services, () => undefined);
    if (!demo.sampleClient) throw new Error('the demo register has no sample client');
    clientToken = await app.clientToken(demo.sampleClient.id);
  }, 60_000);
  afterAll(() => app.stop());

  for (const operation of OPERATIONS) {
    it(operation.name, async () => {
      for (const token of [app.adminToken, clientToken]) {
        const runs = [];
        for (let run = 0; run < 3; run += 1) {
          const response = await app.gql(token, operation.query, operation.variables);
          // Request ids differ by design; everything else must not.
          const errors = response.body.errors?.map(({ extensions, ...error }) => ({
            ...error,
            extensions: { ...extensions, requestId: undefined },
          }));
          runs.push({ status: response.status, data: response.body.data, errors });
        }
        expect(runs[1]).toEqual(runs[0]);
        expect(runs[2]).toEqual(runs[0]);
      }
    });
  }

  it('the nested read returns data, not only errors, for both viewers', async () => {
    const admin = await app.gql(app.adminToken, OPERATIONS[0].query, OPERATIONS[0].variables);
    const client = await app.gql(clientToken, OPERATIONS[0].query, OPERATIONS[0].variables);
    expect(admin.body.errors).toBeUndefined();
    expect(client.body.errors).toBeUndefined();
    expect(admin.body.data.suppliers.totalCount).toBeGreaterThan(0);
    const exposuresSeen = (body: any) =>
      body.data.suppliers.edges.flatMap((s: any) =>
        s.node.incidents.edges.flatMap((i: any) => i.node.exposures.edges),
      ).length;
    expect(exposuresSeen(admin.body)).toBeGreaterThan(exposuresSeen(client.body));
    expect(exposuresSeen(client.body)).toBeGreaterThan(0);
  });
});
