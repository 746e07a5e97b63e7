import { TestApp, dataOf, startTestApp } from '../support/app';
import { createSupplier } from '../support/factories';

describe('suppliers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('creates a supplier and finds it by search, with Relay paging', async () => {
    const created = await app.gql(
      app.adminToken,
      `mutation { createSupplier(input: { name: "Capita plc", country: "GB", tier: STRATEGIC, strategic: true, lei: "7LTWFZYICNSX8D621K86", companyNumber: "02081330" }) { supplier { id name tier strategic lei companyNumber } userErrors { field code message } } }`,
    );
    const payload = dataOf(created).createSupplier;
    expect(payload.userErrors).toEqual([]);
    expect(payload.supplier).toMatchObject({
      name: 'Capita plc',
      tier: 'STRATEGIC',
      strategic: true,
      lei: '7LTWFZYICNSX8D621K86',
    });
    for (let i = 0; i < 4; i += 1) await createSupplier(app.services, { name: `Other ${i}` });

    const found = dataOf(
      await app.gql(
        app.analystToken,
        `{ suppliers(filter: { search: "capita" }) { totalCount edges { node { id name } } } }`,
      ),
    );
    expect(found.suppliers.totalCount).toBe(1);
    expect(found.suppliers.edges[0].node.id).toBe(payload.supplier.id);

    const page1 = dataOf(
      await app.gql(
        app.analystToken,
        `{ suppliers(first: 2) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }`,
      ),
    );
    expect(page1.suppliers.totalCount).toBe(5);
    expect(page1.suppliers.edges.map((e: any) => e.node.name)).toEqual(['Capita plc', 'Other 0']);
    const page2 = dataOf(
      await app.gql(
        app.analystToken,
        `query($after: String) { suppliers(first: 10, after: $after) { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } }`,
        { after: page1.suppliers.pageInfo.endCursor },
      ),
    );
    expect(page2.suppliers.edges.map((e: any) => e.node.name)).toEqual(['Other 1', 'Other 2', 'Other 3']);
    expect(page2.suppliers.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });
});
