import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';

/**
 * The number of SQL statements a nested query issues is pinned, and must not grow with the page
 * size: every nested field reads through a per-request DataLoader that batches one level of the
 * tree into one statement. An N+1 shows up here as a count that differs between N = 5 and N = 50.
 *
 * The register: 50 suppliers (45 of them relying on one of 5 "infrastructure" suppliers), 50 clients,
 * 150 contracts (3 per supplier, 3 per client), one agreement per contract (with an agreement-level
 * sub-processor), and one incident per supplier, so every list below has at least 50 entries.
 *
 * Each query reaches every loader from one depth only. A loader reached from two branches (say
 * supplierById under Exposure.path and under Incident.supplier) may or may not find its keys already
 * in the per-request cache depending on which statement PostgreSQL answers first, so its count would
 * be a race, not a number to pin.
 */
const SUPPLIERS = 50;

describe('SQL statements per request', () => {
  let app: TestApp;

  beforeAll(async () => {
    // The query cost limit (src/security/limits.ts) is an estimate checked before execution and is tested on its own;
    // here it is raised so the same nested queries can run at 50 per page and their actual SQL be counted.
    app = await startTestApp({ MAX_QUERY_COST: '10000000' });
    const s = app.services;
    const pad = (i: number) => String(i).padStart(2, '0');
    const suppliers: { id: string }[] = [];
    for (let i = 0; i < SUPPLIERS; i += 1)
      suppliers.push(await createSupplier(s, { name: `Supplier ${pad(i)}` }));
    for (let i = 0; i < 45; i += 1) await linkSubprocessor(s, suppliers[i].id, suppliers[45 + (i % 5)].id);
    const clients: { id: string }[] = [];
    for (let i = 0; i < SUPPLIERS; i += 1) clients.push(await createClient(s, { name: `Client ${pad(i)}` }));
    const criticalities = [
      ServiceCriticality.CRITICAL,
      ServiceCriticality.IMPORTANT,
      ServiceCriticality.STANDARD,
    ];
    for (let i = 0; i < SUPPLIERS; i += 1) {
      for (let j = 0; j < 3; j += 1) {
        const contract = await createContract(s, clients[(i + j) % SUPPLIERS].id, suppliers[i].id, {
          reference: `K-${pad(i)}-${j}`,
          criticality: criticalities[j],
          value: { amount: `${(i + 1) * 1000}.00`, currency: 'GBP' },
        });
        await createAgreement(s, contract.id, {
          reference: `DPA-${pad(i)}-${j}`,
          dataCategories: j === 0 ? [DataCategory.HEALTH, DataCategory.CONTACT] : [DataCategory.CONTACT],
          dataSubjectCount: 1000 * (j + 1),
          subprocessorIds: [suppliers[45 + ((i + 1) % 5)].id].filter((id) => id !== suppliers[i].id),
        });
      }
    }
    for (let i = 0; i < SUPPLIERS; i += 1)
      await recordIncident(s, suppliers[i].id, {
        title: `Incident ${pad(i)}`,
        detectedAt: new Date(Date.UTC(2023, 2, 1 + i)),
        startedAt: new Date(Date.UTC(2023, 1, 1)),
      });
  }, 120_000);
  afterAll(() => app.stop());

  /** Runs the query with first = 5 and first = 50 and returns both statement counts and results. */
  async function atPageSizes(token: string, query: string) {
    const small = await app.gql(token, query, { first: 5 });
    const large = await app.gql(token, query, { first: 50 });
    return {
      small: { count: small.sqlStatements, data: dataOf(small) },
      large: { count: large.sqlStatements, data: dataOf(large) },
    };
  }

  it('the register is big enough for the page sizes to matter', async () => {
    const [{ suppliers, contracts, agreements, incidents, exposures }] = await app.database.db.query(
      `SELECT (SELECT count(*) FROM supplier)::int AS suppliers, (SELECT count(*) FROM contract)::int AS contracts,
              (SELECT count(*) FROM data_processing_agreement)::int AS agreements, (SELECT count(*) FROM incident)::int AS incidents,
              (SELECT count(*) FROM exposure WHERE resolved_at IS NULL)::int AS exposures`,
    );
    expect({ suppliers, contracts, agreements, incidents }).toEqual({
      suppliers: 50,
      contracts: 150,
      agreements: 150,
      incidents: 50,
    });
    expect(exposures).toBeGreaterThanOrEqual(50);
  });

  it('suppliers → subprocessors, contracts (page + totalCount) → client, agreements → sub-processors: 5 statements at any page size', async () => {
    const query = `query($first: Int) { suppliers(first: $first) { edges { node { name subprocessors { name }
      contracts(first: 5) { totalCount edges { node { reference client { name } dataProcessingAgreements { reference subprocessors { name } } } } } } } } }`;
    const { small, large } = await atPageSizes(app.adminToken, query);
    // suppliers page, supplier sub-processors, contract pages + counts + clients (one planned statement,
    // modules/nested-read), agreements, agreement sub-processors
    expect(small.count).toBe(5);
    expect(large.count).toBe(5);
    expect(small.data.suppliers.edges).toHaveLength(5);
    expect(large.data.suppliers.edges).toHaveLength(50);
    const contracts = large.data.suppliers.edges.flatMap((e: any) => e.node.contracts.edges);
    expect(contracts).toHaveLength(150);
    expect(
      contracts.every((c: any) => c.node.client.name && c.node.dataProcessingAgreements.length === 1),
    ).toBe(true);
    expect(large.data.suppliers.edges.filter((e: any) => e.node.subprocessors.length === 1)).toHaveLength(45);
  });

  it('clients → contracts (page + totalCount) → supplier: 3 statements at any page size', async () => {
    const query = `query($first: Int) { clients(first: $first) { totalCount edges { node { name
      contracts(first: 5) { totalCount edges { node { reference supplier { name } } } } } } } }`;
    const { small, large } = await atPageSizes(app.adminToken, query);
    // clients page, clients count, contract pages + counts + suppliers (planned)
    expect(small.count).toBe(3);
    expect(large.count).toBe(3);
    expect(large.data.clients.edges).toHaveLength(50);
    expect(
      large.data.clients.edges.every(
        (e: any) =>
          e.node.contracts.totalCount === 3 && e.node.contracts.edges.every((c: any) => c.node.supplier.name),
      ),
    ).toBe(true);
  });

  it('incidents (page + totalCount) → supplier, and their exposures (page + totalCount) → client: 4 statements at any page size', async () => {
    const query = `query($first: Int) { incidents(first: $first) { totalCount edges { node { title supplier { name }
      exposures(first: 3) { totalCount edges { node { score client { name } } } } } } } }`;
    const { small, large } = await atPageSizes(app.adminToken, query);
    // incidents page, incidents count, suppliers, exposure pages + counts + clients (planned)
    expect(small.count).toBe(4);
    expect(large.count).toBe(4);
    expect(large.data.incidents.edges).toHaveLength(50);
    expect(
      large.data.incidents.edges.every((e: any) => e.node.supplier.name && e.node.exposures.totalCount >= 1),
    ).toBe(true);
  });

  it('exposures → client → contracts, incident → supplier, contracts → agreements: 9 statements at any page size', async () => {
    const query = `query($first: Int) { exposures(first: $first) { totalCount edges { node { score level path { name }
      client { name contracts(first: 2) { totalCount } }
      incident { title supplier { name } }
      contracts { reference dataProcessingAgreements { reference } } } } } }`;
    const { small, large } = await atPageSizes(app.adminToken, query);
    // exposures page, exposures count, clients, client contract pages, client contract counts,
    // incidents, incident suppliers, exposure contracts, agreements
    expect(small.count).toBe(9);
    expect(large.count).toBe(9);
    expect(large.data.exposures.edges).toHaveLength(50);
  });

  it('a client-role caller: clients → contracts → supplier, agreements; exposures → incident, contracts: 8 statements at any page size (its scope is a condition in each statement, not extra statements)', async () => {
    const [{ client_id: clientId }] = await app.database.db.query(
      `SELECT client_id FROM exposure GROUP BY client_id ORDER BY count(*) DESC LIMIT 1`,
    );
    const token = await app.clientToken(clientId);
    const query = `query($first: Int) { clients(first: $first) { totalCount edges { node { name
      contracts(first: 5) { totalCount edges { node { reference supplier { name } dataProcessingAgreements { reference } } } }
      exposures(first: $first) { totalCount edges { node { score incident { title } contracts { reference } } } } } } } }`;
    const { small, large } = await atPageSizes(token, query);
    // clients page + count, contract pages + counts + suppliers (planned), agreements, exposure pages + counts,
    // incidents, exposure contracts
    expect(small.count).toBe(8);
    expect(large.count).toBe(8);
    expect(large.data.clients.totalCount).toBe(1);
  });

  // Each of these reads through a DataLoader: incidents page (1) + summaries (1); exposures page (1) + revisions or as-of rows (1).
  it.each([
    [
      'Incident.exposureSummary',
      `query($first: Int) { incidents(first: $first) { edges { node { title exposureSummary { clientsExposed } } } } }`,
      2,
    ],
    [
      'Exposure.history',
      `query($first: Int) { exposures(first: $first) { edges { node { score history { revision } } } } }`,
      2,
    ],
    [
      'Exposure.asOf',
      `query($first: Int) { exposures(first: $first) { edges { node { score asOf(at: "2030-01-01T00:00:00Z") { revision } } } } }`,
      2,
    ],
    // The stored clock is a column of the page: no statement of its own, filtered and ordered in SQL.
    [
      'Exposure.nextDueAt, filtered by dueBefore and ordered by NEXT_DUE',
      `query($first: Int) { exposures(first: $first, filter: { dueBefore: "2100-01-01T00:00:00Z" }, orderBy: { field: NEXT_DUE }) { edges { node { nextDueAt } } } }`,
      1,
    ],
    [
      'Exposure.decisions',
      `query($first: Int) { exposures(first: $first) { edges { node { score decisions { status } } } } }`,
      2,
    ],
    // The page, then one statement each for the clients, triggers, decisions, revisions and factors.
    [
      'Exposure.obligations, nextDueAt and decisions',
      `query($first: Int) { exposures(first: $first) { edges { node { nextDueAt obligations { regime dueAt status } decisions { status } } } } }`,
      6,
    ],
    [
      'Incident.exposures ordered by CLIENT_NAME, with obligations',
      `query($first: Int) { incidents(first: $first) { edges { node { exposures(first: 3, orderBy: { field: CLIENT_NAME }) { edges { node { nextDueAt obligations { status } } } } } } } }`,
      7,
    ],
  ])('%s: %d statements at any page size', async (_name, query, statements) => {
    const { small, large } = await atPageSizes(app.adminToken, query as string);
    expect(small.count).toBe(statements);
    expect(large.count).toBe(statements);
  });
});
