/**
 * orderBy on the supplier list (NAME, DEPENDENTS) and on contract lists (REFERENCE, VALUE, ENDS_ON), and
 * Supplier.incidents(filter:), through the API: every order checked against a sort of the API's own
 * unordered answer, paged two at a time to the end (keyset cursors across NULLs and ties), a cursor
 * read in one order refused in another, and a client token seeing only its own contracts and incidents.
 */
import { IncidentStatus } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';

type Row = Record<string, any>;

describe('orderBy and Supplier.incidents(filter:)', () => {
  let app: TestApp;
  let hub: string;
  let clientOne: string;
  let clientOneToken: string;
  const dependentsOf = new Map<string, number>();

  beforeAll(async () => {
    app = await startTestApp();
    const s = app.services;
    // Names with ties in dependents; a cycle (cloud <-> backup) so the walk must stop.
    const names = ['Delta', 'alpha', 'Charlie', 'Bravo', 'Echo', 'Foxtrot'];
    const suppliers = [];
    for (const name of names) suppliers.push(await createSupplier(s, { name: `${name} Services` }));
    const [d, a, c, b, e, f] = suppliers;
    await linkSubprocessor(s, a.id, d.id); // alpha -> delta
    await linkSubprocessor(s, b.id, d.id); // bravo -> delta
    await linkSubprocessor(s, c.id, a.id); // charlie -> alpha -> delta
    await linkSubprocessor(s, d.id, e.id); // delta -> echo
    await linkSubprocessor(s, e.id, d.id); // echo -> delta (a cycle)
    void f; // relied on by nobody, relies on nobody
    hub = d.id;

    const one = await createClient(s, { name: 'Client One' });
    const two = await createClient(s, { name: 'Client Two' });
    clientOne = one.id;
    clientOneToken = await app.clientToken(one.id);
    const values = [
      { client: one.id, value: { amount: '1200.50', currency: 'GBP' }, endsOn: '2031-03-31' },
      { client: two.id, value: { amount: '99000.00', currency: 'GBP' }, endsOn: null },
      { client: one.id, value: null, endsOn: '2029-01-01' },
      { client: two.id, value: { amount: '1200.50', currency: 'EUR' }, endsOn: '2029-01-01' },
      { client: one.id, value: { amount: '5.00', currency: 'GBP' }, endsOn: null },
      { client: two.id, value: null, endsOn: '2035-12-31' },
      { client: one.id, value: { amount: '750000.00', currency: 'GBP' }, endsOn: '2027-06-30' },
    ];
    for (const [i, v] of values.entries()) {
      const contract = await createContract(s, v.client, hub, {
        reference: `R-${String(7 - i).padStart(2, '0')}`,
        value: v.value,
        endsOn: v.endsOn,
      });
      await createAgreement(s, contract.id);
    }
    await recordIncident(s, hub, {
      title: 'Old one',
      status: IncidentStatus.CLOSED,
      startedAt: new Date('2023-01-01T00:00:00Z'),
      detectedAt: new Date('2023-01-02T00:00:00Z'),
      containedAt: new Date('2023-01-03T00:00:00Z'),
    });
    await recordIncident(s, hub, {
      title: 'Recent one',
      status: IncidentStatus.CONFIRMED,
      startedAt: new Date('2024-05-01T00:00:00Z'),
      detectedAt: new Date('2024-05-02T00:00:00Z'),
    });
    await recordIncident(s, hub, {
      title: 'Suspected one',
      status: IncidentStatus.SUSPECTED,
      startedAt: new Date('2024-06-01T00:00:00Z'),
      detectedAt: new Date('2024-06-02T00:00:00Z'),
    });

    // Dependents as the API counts them (Supplier.dependents totalCount), the reference for DEPENDENTS.
    const { suppliers: all } = dataOf(
      await app.gql(
        app.adminToken,
        `{ suppliers(first: 100) { edges { node { id name dependents { totalCount } } } } }`,
      ),
    );
    for (const { node } of all.edges) dependentsOf.set(node.id, node.dependents.totalCount);
  });

  afterAll(() => app?.stop());

  /** Every page of a list, two at a time; the query takes $after and returns the connection. */
  async function readAll(token: string, query: string, pick: (data: any) => any, variables: Row = {}) {
    const nodes: Row[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const connection: any = pick(dataOf(await app.gql(token, query, { ...variables, after })));
      nodes.push(...connection.edges.map((e: any) => e.node));
      if (!connection.pageInfo.hasNextPage) return { nodes, totalCount: connection.totalCount };
      after = connection.pageInfo.endCursor;
    }
    throw new Error('more than 50 pages');
  }

  const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

  it.each([
    [null, 'NAME', 1],
    ['ASC', 'NAME', 1],
    ['DESC', 'NAME', -1],
    [null, 'DEPENDENTS', -1],
    ['ASC', 'DEPENDENTS', 1],
  ])('orders suppliers (direction %s, field %s) and pages through them', async (direction, field, sign) => {
    const orderBy = direction ? { field, direction } : { field };
    const { nodes, totalCount } = await readAll(
      app.analystToken,
      `query($after: String, $orderBy: SupplierOrder) { suppliers(first: 2, after: $after, orderBy: $orderBy) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }`,
      (data) => data.suppliers,
      { orderBy },
    );
    expect(nodes).toHaveLength(dependentsOf.size);
    expect(totalCount).toBe(dependentsOf.size);
    // The reference: PostgreSQL's text order is the database's collation; compare names by the API's own
    // NAME order, so only the dependents key is re-derived here.
    const { nodes: byName } = await readAll(
      app.analystToken,
      `query($after: String) { suppliers(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }`,
      (data) => data.suppliers,
    );
    const nameRank = new Map(byName.map((n, i) => [n.id, i]));
    const expected = [...byName].sort((a, b) =>
      field === 'NAME'
        ? sign * (nameRank.get(a.id)! - nameRank.get(b.id)!)
        : sign *
          (compare(dependentsOf.get(a.id)!, dependentsOf.get(b.id)!) ||
            nameRank.get(a.id)! - nameRank.get(b.id)!),
    );
    expect(nodes.map((n) => n.id)).toEqual(expected.map((n) => n.id));
    if (field === 'DEPENDENTS' && sign === -1) {
      // delta is relied on by alpha, bravo, charlie (through alpha) and echo; echo, in a cycle with delta,
      // by the same four less itself plus delta: both 4, the most, so name decides (DESC: Echo first).
      expect(nodes.slice(0, 2).map((n) => dependentsOf.get(n.id))).toEqual([4, 4]);
      expect(nodes[1].id).toBe(encodeGlobalId('Supplier', hub));
    }
  });

  const contractsQuery = `query($id: ID!, $after: String, $orderBy: ContractOrder) { node(id: $id) { ... on Supplier {
    contracts(first: 2, after: $after, orderBy: $orderBy) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { reference endsOn value { amount currency } client { id } } } } } } }`;

  it.each([
    [{ field: 'REFERENCE' }],
    [{ field: 'REFERENCE', direction: 'DESC' }],
    [{ field: 'VALUE' }],
    [{ field: 'VALUE', direction: 'ASC' }],
    [{ field: 'ENDS_ON' }],
    [{ field: 'ENDS_ON', direction: 'DESC' }],
  ])(
    'orders a supplier’s contracts by %j, NULLs at their documented place, ties by reference',
    async (orderBy: { field: string; direction?: string }) => {
      const read = (token: string) =>
        readAll(token, contractsQuery, (data) => data.node.contracts, {
          id: encodeGlobalId('Supplier', hub),
          orderBy,
        });
      const { nodes, totalCount } = await read(app.adminToken);
      expect(nodes).toHaveLength(7);
      expect(totalCount).toBe(7);
      const descending = orderBy.direction ? orderBy.direction === 'DESC' : orderBy.field === 'VALUE';
      const key = (c: Row): [number | string, string] =>
        orderBy.field === 'VALUE'
          ? [c.value ? Number(c.value.amount) : -1, c.reference]
          : orderBy.field === 'ENDS_ON'
            ? [c.endsOn ?? '9999-12-31', c.reference]
            : ['', c.reference];
      const expected = [...nodes].sort((a, b) => {
        const [ka, ra] = key(a);
        const [kb, rb] = key(b);
        return (descending ? -1 : 1) * (compare(ka, kb) || compare(ra, rb));
      });
      expect(nodes.map((c) => c.reference)).toEqual(expected.map((c) => c.reference));

      // A client token: the same order over its own contracts only, and the count is its own.
      const own = await read(clientOneToken);
      expect(own.totalCount).toBe(4);
      expect(own.nodes.every((c) => c.client.id === encodeGlobalId('Client', clientOne))).toBe(true);
      expect(own.nodes.map((c) => c.reference)).toEqual(
        expected.filter((c) => c.client.id === encodeGlobalId('Client', clientOne)).map((c) => c.reference),
      );
    },
  );

  it("orders a client's contracts too (Client.contracts)", async () => {
    const { nodes } = await readAll(
      clientOneToken,
      `query($id: ID!, $after: String) { node(id: $id) { ... on Client {
        contracts(first: 2, after: $after, orderBy: { field: VALUE }) { totalCount pageInfo { hasNextPage endCursor }
          edges { node { reference value { amount } } } } } } }`,
      (data) => data.node.contracts,
      { id: encodeGlobalId('Client', clientOne) },
    );
    expect(nodes.map((c) => c.value?.amount ?? null)).toEqual(['750000.00', '1200.50', '5.00', null]);
  });

  it('refuses a cursor read in another order, naming the list it came from', async () => {
    const first = dataOf(
      await app.gql(
        app.adminToken,
        `{ suppliers(first: 1, orderBy: { field: DEPENDENTS }) { pageInfo { endCursor } } }`,
      ),
    );
    const refused = await app.gql(
      app.adminToken,
      `query($after: String) { suppliers(first: 1, after: $after) { edges { node { id } } } }`,
      { after: first.suppliers.pageInfo.endCursor },
    );
    expect(refused.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.body.errors?.[0].message).toContain('suppliersByDependentsDesc');

    const contracts = dataOf(
      await app.gql(app.adminToken, contractsQuery, {
        id: encodeGlobalId('Supplier', hub),
        orderBy: { field: 'VALUE' },
      }),
    );
    const wrongOrder = await app.gql(app.adminToken, contractsQuery, {
      id: encodeGlobalId('Supplier', hub),
      orderBy: { field: 'ENDS_ON' },
      after: contracts.node.contracts.pageInfo.endCursor,
    });
    expect(wrongOrder.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(wrongOrder.body.errors?.[0].message).toContain('contractsByValueDesc');
  });

  it('filters Supplier.incidents by status and detected range; a client sees only the incidents that expose it', async () => {
    const query = `query($id: ID!, $filter: IncidentFilter) { node(id: $id) { ... on Supplier {
      incidents(first: 10, filter: $filter) { totalCount edges { node { title status detectedAt } } } } } }`;
    const titles = async (token: string, filter: Row | null) => {
      const { node } = dataOf(await app.gql(token, query, { id: encodeGlobalId('Supplier', hub), filter }));
      expect(node.incidents.totalCount).toBe(node.incidents.edges.length);
      return node.incidents.edges.map((e: any) => e.node.title);
    };
    expect(await titles(app.adminToken, null)).toEqual(['Suspected one', 'Recent one', 'Old one']);
    expect(await titles(app.adminToken, { status: 'CONFIRMED' })).toEqual(['Recent one']);
    expect(await titles(app.adminToken, { detectedFrom: '2024-01-01T00:00:00Z' })).toEqual([
      'Suspected one',
      'Recent one',
    ]);
    expect(
      await titles(app.adminToken, {
        detectedFrom: '2023-01-01T00:00:00Z',
        detectedBefore: '2024-06-02T00:00:00Z',
      }),
    ).toEqual(['Recent one', 'Old one']);
    expect(
      await titles(app.adminToken, {
        supplierId: encodeGlobalId('Supplier', '00000000-0000-4000-8000-000000000000'),
      }),
    ).toEqual([]);
    // Query.incidents takes the same range.
    const { incidents } = dataOf(
      await app.gql(
        app.adminToken,
        `{ incidents(first: 10, filter: { detectedBefore: "2024-01-01T00:00:00Z" }) { edges { node { title } } } }`,
      ),
    );
    expect(incidents.edges.map((e: any) => e.node.title)).toEqual(['Old one']);

    // A client with no contract at the supplier sees no incident there, not even as a count.
    const stranger = await createClient(app.services, { name: 'Stranger' });
    const strangerToken = await app.clientToken(stranger.id);
    expect(await titles(strangerToken, null)).toEqual([]);
    expect(await titles(strangerToken, { status: 'CONFIRMED' })).toEqual([]);
    // Client One is exposed to the open ones (the closed one was recorded closed: still computed).
    const own = await titles(clientOneToken, { detectedFrom: '2024-01-01T00:00:00Z' });
    expect(own).toEqual(['Suspected one', 'Recent one']);
  });
});
