import { GraphQLSchema, getNamedType, isInterfaceType, isLeafType, isObjectType } from 'graphql';
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp, testSchema } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';

/**
 * Pages of exposures and contracts read only the columns of the fields selected on their nodes
 * (OptionalListColumns in src/common/paging.ts). These tests hold every field of a page to what the same
 * object answers through node(id:), which always reads whole rows, however the fields are selected:
 * directly, through fragments, or by two aliases of one list asking for different fields.
 *
 * The fields come from the schema, so a field added later (one that may read a column a page leaves out)
 * is checked without anyone remembering to list it. Fields that need arguments cannot be selected blindly:
 * they are named here, so a new one is a decision too.
 */
const FIELDS_NEEDING_ARGUMENTS = { Exposure: ['asOf'], Contract: [] };

/**
 * Every field of `typeName` without required arguments: leaves as they are, another node by its id,
 * any other object with all of its own fields the same way (one level down).
 */
function everyField(
  schema: GraphQLSchema,
  typeName: string,
  depth = 0,
): { selection: string; skipped: string[] } {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const skipped: string[] = [];
  const parts = Object.values(type.getFields()).flatMap((field) => {
    if (field.args.some((arg) => arg.type.toString().endsWith('!') && arg.defaultValue === undefined)) {
      skipped.push(field.name);
      return [];
    }
    const named = getNamedType(field.type);
    if (isLeafType(named)) return [field.name];
    const isNode = (isObjectType(named) || isInterfaceType(named)) && 'id' in named.getFields();
    if (isNode && (depth > 0 || named.name !== typeName)) return [`${field.name} { id }`];
    if (depth > 1) return [];
    // One level down, an object is selected only for its leaves (Exposure.icoReportDraft { answers { ... } }).
    const inner = everyField(schema, named.name, depth + 1).selection;
    return inner ? [`${field.name} { ${inner} }`] : [];
  });
  return { selection: parts.join(' '), skipped };
}

let EXPOSURE_FIELDS: string;
let CONTRACT_FIELDS: string;
beforeAll(async () => {
  const schema = await testSchema();
  const exposure = everyField(schema, 'Exposure');
  const contract = everyField(schema, 'Contract');
  expect({ Exposure: exposure.skipped, Contract: contract.skipped }).toEqual(FIELDS_NEEDING_ARGUMENTS);
  EXPOSURE_FIELDS = exposure.selection;
  CONTRACT_FIELDS = contract.selection;
  // What the hand-written lists of before covered is still covered.
  for (const field of [
    'notificationDeadline',
    'notification {',
    'contracts { id }',
    'path { id }',
    'factors {',
  ])
    expect(EXPOSURE_FIELDS).toContain(field);
  for (const field of ['title', 'endsOn', 'criticality', 'value {', 'dataProcessingAgreements { id }'])
    expect(CONTRACT_FIELDS).toContain(field);
});

describe('list pages read only the selected columns, and answer exactly what whole rows answer', () => {
  let app: TestApp;
  let incidentId: string;
  let clientIds: string[];
  let supplierId: string;

  beforeAll(async () => {
    app = await startTestApp();
    const s = app.services;
    const cloud = await createSupplier(s, { name: 'Cloud host' });
    const supplier = await createSupplier(s, { name: 'Outsourcer' });
    supplierId = supplier.id;
    await linkSubprocessor(s, supplier.id, cloud.id);
    clientIds = [];
    for (let i = 0; i < 3; i += 1) {
      const client = await createClient(s, { name: `Council ${i}` });
      clientIds.push(client.id);
      const direct = await createContract(s, client.id, supplier.id, {
        reference: `OUT-${i}`,
        endsOn: '2030-12-31',
        criticality: ServiceCriticality.CRITICAL,
        value: { amount: `${i + 1}000.50`, currency: 'GBP' },
      });
      await createAgreement(s, direct.id, {
        dataCategories: [DataCategory.HEALTH, DataCategory.CONTACT],
        dataSubjectCount: 1000 * (i + 1),
      });
      const hosted = await createContract(s, client.id, cloud.id, {
        reference: `HOST-${i}`,
        title: 'Hosting',
      });
      await createAgreement(s, hosted.id, { dataCategories: [DataCategory.FINANCIAL] });
    }
    const incident = await recordIncident(s, cloud.id, { title: 'Bucket left open' });
    incidentId = incident.incident.id;
    // One decided exposure, so the notification columns hold values, not only nulls.
    const page = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 1) { edges { node { id } } } } } }`,
        { id: encodeGlobalId('Incident', incidentId) },
      ),
    );
    const exposureId = page.node.exposures.edges[0].node.id;
    const decided = await app.gql(
      app.adminToken,
      `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { message } } }`,
      {
        input: { exposureId, status: 'REPORTED', reportedAt: '2023-04-01T09:00:00Z', reference: 'ICO-42' },
      },
    );
    expect(dataOf(decided).recordNotificationDecision.userErrors).toEqual([]);
  }, 60_000);
  afterAll(() => app.stop());

  const whole = async (id: string, fields: string, type: string) =>
    dataOf(
      await app.gql(app.adminToken, `query($id: ID!) { node(id: $id) { ... on ${type} { ${fields} } } }`, {
        id,
      }),
    ).node;

  it('every exposure field of a page equals the whole row, selected directly or through fragments', async () => {
    const variables = { id: encodeGlobalId('Incident', incidentId) };
    const direct = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 10) { edges { node { ${EXPOSURE_FIELDS} } } } } } }`,
        variables,
      ),
    );
    const viaFragments = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 10) { ...Page } } } }
      fragment Page on ExposureConnection { edges { ... on ExposureEdge { node { ...Fields } } } }
      fragment Fields on Exposure { ${EXPOSURE_FIELDS} }`,
        variables,
      ),
    );
    const nodes = direct.node.exposures.edges.map((edge: any) => edge.node);
    expect(nodes).toHaveLength(3);
    expect(nodes.filter((node: any) => node.notification.status === 'REPORTED')).toHaveLength(1);
    expect(
      nodes.every(
        (node: any) =>
          node.contracts.length > 0 && node.path.length > 0 && node.dataCategoriesAtRisk.length > 0,
      ),
    ).toBe(true);
    for (const node of nodes) expect(node).toEqual(await whole(node.id, EXPOSURE_FIELDS, 'Exposure'));
    expect(viaFragments).toEqual(direct);
  });

  it('two aliases of one list with different fields each get their own', async () => {
    const result = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident {
      scores: exposures(first: 10) { edges { node { id score } } }
      chains: exposures(first: 10) { edges { node { id contracts { reference } notification { reference } awareAt } } } } } }`,
        { id: encodeGlobalId('Incident', incidentId) },
      ),
    );
    const chains = result.node.chains.edges.map((edge: any) => edge.node);
    for (const node of chains)
      expect(node).toEqual(
        await whole(node.id, 'id contracts { reference } notification { reference } awareAt', 'Exposure'),
      );
    expect(result.node.scores.edges.map((edge: any) => edge.node.id)).toEqual(
      chains.map((node: any) => node.id),
    );
  });

  it("every contract field of a client's and a supplier's page equals the whole row", async () => {
    const ofClient = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Client { contracts(first: 10) { edges { node { ${CONTRACT_FIELDS} } } } } } }`,
        { id: encodeGlobalId('Client', clientIds[1]) },
      ),
    );
    const ofSupplier = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Supplier { contracts(first: 10) { edges { node { ${CONTRACT_FIELDS} } } } } } }`,
        { id: encodeGlobalId('Supplier', supplierId) },
      ),
    );
    const nodes = [...ofClient.node.contracts.edges, ...ofSupplier.node.contracts.edges].map(
      (edge: any) => edge.node,
    );
    expect(nodes).toHaveLength(5);
    expect(nodes.filter((node: any) => node.value !== null && node.endsOn !== null)).toHaveLength(4);
    for (const node of nodes) expect(node).toEqual(await whole(node.id, CONTRACT_FIELDS, 'Contract'));
  });
});
