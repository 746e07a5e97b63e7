import { loadDemoRegister } from '../../src/seed/demo';
import { DEMO_CLIENTS, DEMO_CONTRACTS, DEMO_INCIDENTS, DEMO_SUPPLIERS } from '../../src/seed/demo-data';
import { TestApp, dataOf, startTestApp } from '../support/app';

const HOUR = 3_600_000;

const EXPOSURE_FIELDS = `
  id score level dataCategoriesAtRisk specialCategoryData dataSubjectsAtRisk awareAt notificationDeadline
  factors { name contribution }
  contracts { reference }
  path { name }
  client { name }
  incident { title kind supplier { name } }
  notification { status }`;

/** Every open exposure (admin view), page by page at the top level: nested lists would pass the query cost limit. */
async function allExposures(app: TestApp): Promise<any[]> {
  const all: any[] = [];
  let after: string | null = null;
  do {
    const data: any = dataOf(
      await app.gql(
        app.adminToken,
        `query($after: String) { exposures(first: 20, after: $after) {
      edges { node { ${EXPOSURE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      ),
    );
    all.push(...data.exposures.edges.map((e: any) => e.node));
    after = data.exposures.pageInfo.hasNextPage ? data.exposures.pageInfo.endCursor : null;
  } while (after);
  return all;
}

/** Every client with its exposures; clients without any map to []. */
async function exposuresByClient(app: TestApp): Promise<Map<string, any[]>> {
  const byClient = new Map<string, any[]>(Object.values(DEMO_CLIENTS).map((c) => [c.name, []]));
  for (const exposure of await allExposures(app)) byClient.get(exposure.client.name)!.push(exposure);
  return byClient;
}

/** Row counts of every table the demo writes: the second load must leave them all as they were. */
async function tableCounts(app: TestApp): Promise<Record<string, number>> {
  const tables = [
    'supplier',
    'supplier_subprocessor',
    'client',
    'contract',
    'data_processing_agreement',
    'agreement_subprocessor',
    'incident',
    'exposure',
    'exposure_revision',
    'exposure_alert',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [{ n }] = await app.database.db.query(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = n;
  }
  return counts;
}

describe('demo register', () => {
  let app: TestApp;
  let lines: string[];
  let first: Awaited<ReturnType<typeof loadDemoRegister>>;

  beforeAll(async () => {
    app = await startTestApp();
    lines = [];
    first = await loadDemoRegister(app.database.db, app.services, (line) => lines.push(line));
  });
  afterAll(() => app.stop());

  it('loads every supplier, client and contract, prints progress and returns the sample client', async () => {
    expect(lines[0]).toMatch(/Loading the demo register/);
    expect(lines[lines.length - 1]).toMatch(/Demo register loaded/);
    expect(first.sampleClient).toEqual({ id: expect.any(String), name: 'Colchester City Council' });

    const counts = await tableCounts(app);
    expect(counts.supplier).toBe(Object.keys(DEMO_SUPPLIERS).length);
    expect(counts.client).toBe(Object.keys(DEMO_CLIENTS).length);
    expect(counts.contract).toBe(DEMO_CONTRACTS.length);
    expect(counts.incident).toBe(DEMO_INCIDENTS.length);
  });

  it('has Capita as a strategic supplier with its contracts, its chain and the March 2023 attack', async () => {
    const data = dataOf(
      await app.gql(
        app.adminToken,
        `{
      suppliers(first: 1, filter: { search: "Capita" }) {
        totalCount
        edges { node {
          name tier strategic companyNumber lei country
          subprocessors { name }
          contracts(first: 20) { totalCount edges { node { reference client { name } value { amount currency } } } }
          incidents(first: 5) { totalCount edges { node { kind status startedAt detectedAt containedAt clientsNotifiedAt exfiltration dataCategoriesAffected } } }
        } }
      }
    }`,
      ),
    );
    expect(data.suppliers.totalCount).toBe(1);
    const capita = data.suppliers.edges[0].node;
    expect(capita).toMatchObject({
      name: 'Capita plc',
      tier: 'STRATEGIC',
      strategic: true,
      companyNumber: '02081330',
      lei: null,
      country: 'GB',
    });
    expect(capita.subprocessors.map((s: any) => s.name)).toEqual(['Example Colocation Ltd (fictional)']);
    expect(capita.contracts.totalCount).toBeGreaterThanOrEqual(5);
    const dwp = capita.contracts.edges.find(
      (e: any) => e.node.client.name === 'Department for Work and Pensions',
    ).node;
    expect(dwp.value).toEqual({ amount: '550000000.00', currency: 'GBP' });

    expect(capita.incidents.totalCount).toBe(1);
    // The attack after its updates: exfiltration suspected, categories narrowed.
    expect(capita.incidents.edges[0].node).toMatchObject({
      kind: 'CYBER_ATTACK',
      status: 'CONTAINED',
      exfiltration: 'SUSPECTED',
      dataCategoriesAffected: expect.arrayContaining(['HEALTH']),
    });
    const attack = capita.incidents.edges[0].node;
    expect(new Date(attack.startedAt).toISOString()).toBe('2023-03-22T00:00:00.000Z');
    expect(new Date(attack.detectedAt).toISOString()).toBe('2023-03-31T00:00:00.000Z');
    expect(new Date(attack.containedAt).toISOString()).toBe('2023-03-31T00:00:00.000Z');
    expect(attack.clientsNotifiedAt.startsWith('2023-04-03')).toBe(true);
  });

  it('records both 2023 incidents: the attack at Capita and the council bucket at its storage sub-processor', async () => {
    const data = dataOf(
      await app.gql(
        app.adminToken,
        `{
      incidents(first: 10) { totalCount edges { node { title kind status exfiltration supplier { name } exposures(first: 50) { totalCount } } } }
    }`,
      ),
    );
    const byKind = new Map<string, any>(data.incidents.edges.map((e: any) => [e.node.kind, e.node]));
    expect(byKind.get('CYBER_ATTACK')).toMatchObject({
      supplier: { name: 'Capita plc' },
      status: 'CONTAINED',
    });
    expect(byKind.get('CYBER_ATTACK').title).toMatch(/4%/);
    expect(byKind.get('MISCONFIGURED_STORAGE')).toMatchObject({
      supplier: { name: 'Amazon Web Services EMEA SARL' },
      status: 'CONTAINED',
      exfiltration: 'SUSPECTED',
    });
    expect(byKind.get('MISCONFIGURED_STORAGE').title).toMatch(/Capita/);
    expect(byKind.get('CYBER_ATTACK').exposures.totalCount).toBeGreaterThanOrEqual(8);
  });

  it('exposes the DWP to the March attack with its health data, directly, with a 72-hour deadline from the notice', async () => {
    const exposures = (await exposuresByClient(app)).get('Department for Work and Pensions')!;
    const attack = exposures.find((x) => x.incident.kind === 'CYBER_ATTACK');
    expect(attack).toBeDefined();
    expect(attack.dataCategoriesAtRisk).toContain('HEALTH');
    expect(attack.specialCategoryData).toBe(true);
    expect(attack.path.map((s: any) => s.name)).toEqual(['Capita plc']);
    // Only the Capita contract: the Atos one (same data, no incident) is not involved.
    expect(attack.contracts.map((c: any) => c.reference)).toEqual(['DWP-PIP-CAPITA']);
    expect(attack.dataSubjectsAtRisk).toBe(1_200_000);
    expect(new Date(attack.awareAt).toISOString()).toBe('2023-04-03T06:00:00.000Z');
    expect(new Date(attack.notificationDeadline).getTime() - new Date(attack.awareAt).getTime()).toBe(
      72 * HOUR,
    );
    expect(attack.level).toBe('CRITICAL');
    expect(attack.score).toBe(
      Math.round(attack.factors.reduce((sum: number, f: any) => sum + f.contribution, 0)),
    );
    expect(attack.notification.status).toBe('ASSESSING');
  });

  it("shows several regulators' clocks at once: the pension scheme's UK GDPR, the EU entity's EU GDPR and DORA", async () => {
    const data = dataOf(
      await app.gql(
        app.adminToken,
        `{ clients(first: 20) { edges { node { name country regimes
           exposures(first: 3, filter: { includeResolved: true }) { edges { node { nextDueAt incident { kind }
             obligations { regime milestone startsAt dueAt status source } } } } } } } }`,
      ),
    );
    const clients = new Map<string, any>(data.clients.edges.map((e: any) => [e.node.name, e.node]));
    const attackOf = (name: string) =>
      clients
        .get(name)
        .exposures.edges.map((e: any) => e.node)
        .find((x: any) => x.incident.kind === 'CYBER_ATTACK');
    const clocks = (exposure: any) =>
      exposure.obligations.map((o: any) => `${o.regime}/${o.milestone}/${o.status}`);

    // The pension scheme (the Pensions Regulator's 2023 context) and a council: UK GDPR Art. 33 and 34.
    const uss = attackOf('Universities Superannuation Scheme');
    expect(clients.get('Universities Superannuation Scheme').regimes).toEqual(['UK_GDPR']);
    expect(clocks(uss)).toEqual(['UK_GDPR/NOTIFICATION/OVERDUE', 'UK_GDPR/DATA_SUBJECTS/OPEN']);
    expect(uss.obligations[0]).toMatchObject({
      startsAt: '2023-04-03T06:00:00.000Z',
      dueAt: '2023-04-06T06:00:00.000Z',
      source: 'UK GDPR Art. 33(1)',
    });
    expect(uss.nextDueAt).toBe('2023-04-06T06:00:00.000Z');

    // The illustrative EU financial entity: EU GDPR's 72 h runs; DORA was not in force in 2023, so its
    // milestones are NOT_STARTED (an obligation takes the rule in force at its trigger).
    const name = 'Example Pensions Administration Ireland DAC (illustrative, not a Capita client)';
    expect(clients.get(name)).toMatchObject({ country: 'IE', regimes: ['EU_GDPR', 'DORA'] });
    const eu = attackOf(name);
    expect(clocks(eu)).toEqual([
      'EU_GDPR/NOTIFICATION/OVERDUE',
      'DORA/INITIAL_NOTIFICATION/NOT_STARTED',
      'DORA/INTERMEDIATE_REPORT/NOT_STARTED',
      'DORA/FINAL_REPORT/NOT_STARTED',
    ]);
    expect(eu.obligations[0]).toMatchObject({ dueAt: '2023-04-06T06:00:00.000Z' });
    expect(eu.obligations[0].source).toMatch(/2016\/679/);
  });

  it('exposes the councils whose agreements authorise the cloud storage to the bucket, through the sub-processor', async () => {
    const byClient = await exposuresByClient(app);
    const bucketExposed = [...byClient.entries()]
      .map(
        ([name, exposures]) =>
          [name, exposures.find((x) => x.incident.kind === 'MISCONFIGURED_STORAGE')] as const,
      )
      .filter(([, exposure]) => exposure);
    expect(bucketExposed.map(([name]) => name).sort()).toEqual([
      'Colchester City Council',
      'Coventry City Council',
      'Rochford District Council',
      'South Staffordshire Council',
    ]);
    for (const [, exposure] of bucketExposed) {
      expect(exposure.path.map((s: any) => s.name)).toEqual(['Capita plc', 'Amazon Web Services EMEA SARL']);
      expect(exposure.dataCategoriesAtRisk).toEqual(['BASIC_IDENTITY', 'CONTACT', 'FINANCIAL']);
      expect(exposure.specialCategoryData).toBe(false);
      expect(new Date(exposure.awareAt).toISOString()).toBe('2023-05-12T00:00:00.000Z');
    }
    // One link down the chain scores lower than the same council's direct exposure to the attack.
    const colchester = byClient.get('Colchester City Council')!;
    const direct = colchester.find((x) => x.incident.kind === 'CYBER_ATTACK');
    const viaStorage = colchester.find((x) => x.incident.kind === 'MISCONFIGURED_STORAGE');
    expect(direct.path.map((s: any) => s.name)).toEqual(['Capita plc']);
    expect(viaStorage.score).toBeLessThan(direct.score);
  });

  it('keeps a client exposed through retention after its contract ended, but not one whose window is long over', async () => {
    const byClient = await exposuresByClient(app);
    // Barnet's contract ended on 28 February 2023, but Capita held its data until 31 August.
    const barnet = byClient.get('London Borough of Barnet')!;
    expect(barnet.map((x) => x.incident.kind)).toEqual(['CYBER_ATTACK']);
    expect(barnet[0].contracts.map((c: any) => c.reference)).toEqual(['LBB-CSG-CAPITA']);
    // Harrow's contract and retention ended in 2016-2017: exposed to nothing, though its agreement named the storage.
    expect(byClient.get('London Borough of Harrow')).toEqual([]);
    // Clients of the contrast suppliers only: nothing.
    expect(byClient.get('Home Office')).toEqual([]);
  });

  it('reaches every live Capita client through the supplier-level link, with no data at risk and a LOW level', async () => {
    const outage = DEMO_INCIDENTS.find((i) => i.supplier === 'colocation')!;
    const exposures = (await allExposures(app)).filter((x) => x.incident.title === outage.facts.title);
    expect(exposures.length).toBeGreaterThan(0);
    expect(exposures.map((x) => x.client.name)).not.toContain('London Borough of Barnet'); // data gone by 2024
    for (const exposure of exposures) {
      expect(exposure.path.map((s: any) => s.name)).toEqual([
        'Capita plc',
        'Example Colocation Ltd (fictional)',
      ]);
      expect(exposure).toMatchObject({
        level: 'LOW',
        dataCategoriesAtRisk: [],
        specialCategoryData: false,
        dataSubjectsAtRisk: 0,
      });
    }
  });

  it('writes nothing when loaded a second time, and still returns the sample client', async () => {
    const before = await tableCounts(app);
    const graphBefore = dataOf(
      await app.gql(
        app.adminToken,
        `{ suppliers { totalCount } clients { totalCount } incidents { totalCount } exposures(first: 100) { totalCount } }`,
      ),
    );
    const again: string[] = [];
    const second = await loadDemoRegister(app.database.db, app.services, (line) => again.push(line));
    expect(second).toEqual(first);
    expect(again).toEqual([expect.stringMatching(/already holds data/)]);
    expect(await tableCounts(app)).toEqual(before);
    expect(
      dataOf(
        await app.gql(
          app.adminToken,
          `{ suppliers { totalCount } clients { totalCount } incidents { totalCount } exposures(first: 100) { totalCount } }`,
        ),
      ),
    ).toEqual(graphBefore);
  });
});

describe('demo register, when a write fails halfway', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('leaves nothing behind, says why, and loads fully on the next attempt', async () => {
    // Every supplier, client, contract and agreement goes in before the first incident: fail there.
    // Only the owner may put a trigger on a table: the API's role (app.database.db) may not.
    await app.database.asOwner((owner) =>
      owner.query(`
      CREATE FUNCTION demo_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
      CREATE TRIGGER demo_test_refuse BEFORE INSERT ON incident FOR EACH ROW EXECUTE FUNCTION demo_test_refuse();`),
    );
    const lines: string[] = [];
    await expect(loadDemoRegister(app.database.db, app.services, (line) => lines.push(line))).rejects.toThrow(
      /none of it was written.*Failed at incident "Cyber attack.*refused by the test/s,
    );
    expect(lines.length).toBeGreaterThan(0); // it had got going
    const counts = await tableCounts(app);
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);

    await app.database.asOwner((owner) =>
      owner.query(`DROP TRIGGER demo_test_refuse ON incident; DROP FUNCTION demo_test_refuse();`),
    );
    const result = await loadDemoRegister(app.database.db, app.services, () => undefined);
    expect(result.sampleClient?.name).toBe('Colchester City Council');
    expect((await tableCounts(app)).incident).toBe(DEMO_INCIDENTS.length);
  });
});
