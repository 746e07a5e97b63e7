import { ExfiltrationStatus } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { GRAPHIQL_TABS } from '../../src/graphiql/tabs';
import { TestApp, dataOf, startTestApp, testSchema } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { parse, validate } from 'graphql';

/**
 * The operations GraphiQL opens with (src/graphiql/tabs.ts) run through the API as they are, on a small
 * register, within the default cost limit: a schema change that breaks one fails here.
 */
describe('GraphiQL tabs', () => {
  let app: TestApp;
  let supplierId: string;
  beforeAll(async () => {
    app = await startTestApp();
    const supplier = await createSupplier(app.services, { name: 'Capita' });
    supplierId = supplier.id;
    const client = await createClient(app.services);
    const contract = await createContract(app.services, client.id, supplier.id);
    await createAgreement(app.services, contract.id);
    await recordIncident(app.services, supplier.id, { exfiltration: ExfiltrationStatus.CONFIRMED });
  });
  afterAll(() => app.stop());

  const tabs = GRAPHIQL_TABS.filter((tab) => !tab.query.includes('subscription '));

  it.each(tabs.map((tab) => [/(?:query|mutation) (\w+)/.exec(tab.query)![1], tab] as const))(
    '%s answers without errors',
    async (_name, tab) => {
      const variables = tab.variables ? JSON.parse(tab.variables) : undefined;
      if (variables?.input?.supplierId) variables.input.supplierId = encodeGlobalId('Supplier', supplierId);
      const data = dataOf(await app.gql(app.adminToken, tab.query, variables));
      expect(JSON.stringify(data)).toMatch(/Capita|test-admin|clientsExposed":1/);
    },
  );

  it('are all valid against the schema, the subscription too', async () => {
    const schema = await testSchema();
    for (const tab of GRAPHIQL_TABS) expect(validate(schema, parse(tab.query))).toEqual([]);
  });

  it("refuses an operationName the document does not have with a 400 (GraphiQL sends a tab's old name after an edit)", async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.adminToken}` },
      body: JSON.stringify({ query: '{ suppliers(first: 1) { totalCount } }', operationName: 'WhatIf' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].message).toMatch(/no operation named "WhatIf"/);
  });

  it('has the common questions, each named', () => {
    const names = GRAPHIQL_TABS.map((tab) => /(?:query|mutation|subscription) (\w+)/.exec(tab.query)?.[1]);
    expect(names).toEqual([
      'SupplierInTheNews',
      'LatestIncidentExposures',
      'WhatIf',
      'Concentration',
      'WhoAmI',
      'MyAlerts',
    ]);
  });
});
