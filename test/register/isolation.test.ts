import { SignJWT } from 'jose';
import { mintToken } from '../../src/auth/jwt';
import { ClientSector, DataCategory, IncidentStatus } from '../../src/common/enums';
import { NodeTypeName, encodeGlobalId } from '../../src/common/global-id';
import { GraphQLResponse, TEST_JWT_SECRET, TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';
import { expectNothingWritten, onlyError, rowCount } from './helpers';

/**
 * Two clients, A and B, share a supplier S and each have a supplier of their own. A client-role
 * token for A must never receive anything of B: no object, no name, no ID, no count. Every
 * response A gets is also scanned for every trace of B (names, references, IDs, figures).
 */
describe('client isolation and roles', () => {
  let app: TestApp;
  let tokenA: string;
  const id = (type: NodeTypeName, uuid: string) => encodeGlobalId(type, uuid);

  // Database ids, filled in beforeAll.
  const w = {} as Record<
    | 'S'
    | 'SA'
    | 'SB'
    | 'SX'
    | 'SU'
    | 'SL1'
    | 'SL2'
    | 'SN'
    | 'A'
    | 'B'
    | 'CU'
    | 'cA1'
    | 'cA2'
    | 'cB1'
    | 'cB2'
    | 'dA1'
    | 'dA2'
    | 'dB1'
    | 'dB2'
    | 'iShared'
    | 'iB'
    | 'iOld'
    | 'iX'
    | 'eA'
    | 'eBShared'
    | 'eBOwn'
    | 'eBOld',
    string
  >;
  /** Every admin mutation with an input that is valid for the admin: only the role can make it fail. */
  let adminMutations: [string, () => Record<string, unknown>][];
  /** Everything of B (and of incidents A is not exposed to) that must never reach A. */
  let secretsOfB: string[];

  /** Fails on errors, and on any trace of B anywhere in the response. */
  function asA<T = any>(response: GraphQLResponse<T>): T {
    const data = dataOf(response);
    const text = JSON.stringify(response.body);
    for (const secret of secretsOfB) {
      if (text.includes(secret)) throw new Error(`B's "${secret}" reached A in ${text}`);
    }
    return data;
  }
  const queryAsA = async (query: string, variables?: Record<string, unknown>) =>
    asA(await app.gql(tokenA, query, variables));

  beforeAll(async () => {
    // The query cost limit is an estimate (src/security/limits.ts), tested on its own; it is raised here so each query
    // below can ask for whole lists at once. The register is small: pages of 10 hold everything, and totalCount checks that.
    app = await startTestApp({ MAX_QUERY_COST: '10000000' });
    const s = app.services;
    w.S = (await createSupplier(s, { name: 'Shared Services plc' })).id;
    w.SA = (await createSupplier(s, { name: 'Alpha Payroll Ltd' })).id;
    w.SB = (await createSupplier(s, { name: 'Bravo Records Ltd' })).id;
    w.SX = (await createSupplier(s, { name: 'Unlinked Hosting Ltd' })).id;
    w.SU = (await createSupplier(s, { name: 'Unused Supplier Ltd' })).id;
    w.SL1 = (await createSupplier(s, { name: 'Linked One Ltd' })).id;
    w.SL2 = (await createSupplier(s, { name: 'Linked Two Ltd' })).id;
    w.SN = (await createSupplier(s, { name: 'New Incident Site Ltd' })).id;
    await linkSubprocessor(s, w.SL1, w.SL2);

    w.A = (
      await createClient(s, { name: 'Alpha Borough Council', sector: ClientSector.LOCAL_GOVERNMENT })
    ).id;
    w.B = (await createClient(s, { name: 'Bravo Health Trust', sector: ClientSector.HEALTH })).id;
    w.CU = (await createClient(s, { name: 'Contractless Client' })).id;

    w.cA1 = (
      await createContract(s, w.A, w.S, {
        reference: 'ALPHA-SHARED',
        startsOn: '2020-01-01',
        value: { amount: '100.00', currency: 'GBP' },
      })
    ).id;
    w.cA2 = (await createContract(s, w.A, w.SA, { reference: 'ALPHA-OWN', startsOn: '2020-01-01' })).id;
    w.cB1 = (
      await createContract(s, w.B, w.S, {
        reference: 'BRAVO-SHARED',
        startsOn: '2019-01-01',
        value: { amount: '7777777.77', currency: 'EUR' },
      })
    ).id;
    w.cB2 = (await createContract(s, w.B, w.SB, { reference: 'BRAVO-OWN', startsOn: '2019-01-01' })).id;
    w.dA1 = (
      await createAgreement(s, w.cA1, {
        reference: 'ALPHA-DPA-1',
        dataCategories: [DataCategory.BASIC_IDENTITY, DataCategory.CONTACT],
        dataSubjectCount: 111,
      })
    ).id;
    w.dA2 = (
      await createAgreement(s, w.cA2, {
        reference: 'ALPHA-DPA-2',
        dataCategories: [DataCategory.EMPLOYMENT],
        dataSubjectCount: 222,
      })
    ).id;
    w.dB1 = (
      await createAgreement(s, w.cB1, {
        reference: 'BRAVO-DPA-1',
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 987654,
      })
    ).id;
    w.dB2 = (
      await createAgreement(s, w.cB2, {
        reference: 'BRAVO-DPA-2',
        dataCategories: [DataCategory.GENETIC],
        dataSubjectCount: 13579,
        subprocessorIds: [w.SA],
      })
    ).id;

    // At S, exposing A and B.
    w.iShared = (await recordIncident(s, w.S, { title: 'Shared breach' })).incident.id;
    // At B's own supplier: only B.
    w.iB = (await recordIncident(s, w.SB, { title: 'Bravo-only breach' })).incident.id;
    // At S, but before A's contract began: only B, although A also buys from S.
    w.iOld = (
      await recordIncident(s, w.S, {
        title: 'Old breach before Alpha',
        status: IncidentStatus.CONTAINED,
        startedAt: new Date('2019-06-01T00:00:00Z'),
        detectedAt: new Date('2019-06-10T00:00:00Z'),
        containedAt: new Date('2019-07-01T00:00:00Z'),
      })
    ).incident.id;
    // At a supplier neither client is linked to: nobody.
    w.iX = (await recordIncident(s, w.SX, { title: 'Unlinked breach' })).incident.id;

    const exposures: { id: string; client_id: string; incident_id: string }[] = await app.database.db.query(
      `SELECT id, client_id, incident_id FROM exposure`,
    );
    const find = (clientId: string, incidentId: string) => {
      const found = exposures.find((e) => e.client_id === clientId && e.incident_id === incidentId);
      if (!found) throw new Error('expected exposure not computed');
      return found.id;
    };
    // The world is what the test assumes: exactly these four exposures.
    expect(exposures).toHaveLength(4);
    w.eA = find(w.A, w.iShared);
    w.eBShared = find(w.B, w.iShared);
    w.eBOwn = find(w.B, w.iB);
    w.eBOld = find(w.B, w.iOld);

    tokenA = await app.clientToken(w.A);
    secretsOfB = [
      'Bravo Health Trust',
      'BRAVO-SHARED',
      'BRAVO-OWN',
      'BRAVO-DPA-1',
      'BRAVO-DPA-2',
      'Bravo-only breach',
      'Old breach before Alpha',
      'Unlinked breach',
      // Distinctive figures only: a short string such as 'EUR' could turn up inside an opaque ID by chance.
      '987654',
      '13579',
      '7777777',
      'GENETIC',
      'HEALTH',
      w.B,
      w.cB1,
      w.cB2,
      w.dB1,
      w.dB2,
      w.iB,
      w.iOld,
      w.iX,
      w.eBShared,
      w.eBOwn,
      w.eBOld,
      id('Client', w.B),
      id('Contract', w.cB1),
      id('Contract', w.cB2),
      id('DataProcessingAgreement', w.dB1),
      id('DataProcessingAgreement', w.dB2),
      id('Incident', w.iB),
      id('Incident', w.iOld),
      id('Incident', w.iX),
      id('Exposure', w.eBShared),
      id('Exposure', w.eBOwn),
      id('Exposure', w.eBOld),
    ];
  });
  afterAll(() => app.stop());

  describe('what client A can read', () => {
    it('clients: only A, and the count says 1', async () => {
      const data = await queryAsA(`{ clients(first: 10) { totalCount edges { node { id name sector } } } }`);
      expect(data.clients).toEqual({
        totalCount: 1,
        edges: [
          { node: { id: id('Client', w.A), name: 'Alpha Borough Council', sector: 'LOCAL_GOVERNMENT' } },
        ],
      });
      const searched = await queryAsA(
        `{ clients(filter: { search: "Bravo" }) { totalCount edges { node { id } } } }`,
      );
      expect(searched.clients).toEqual({ totalCount: 0, edges: [] });
      const bySector = await queryAsA(
        `{ clients(filter: { sector: HEALTH }) { totalCount edges { node { id } } } }`,
      );
      expect(bySector.clients).toEqual({ totalCount: 0, edges: [] });
    });

    it("node(id) answers null for every object of B, exactly as for an unknown ID, and finds A's own", async () => {
      const nodeQuery = `query($id: ID!) { node(id: $id) { id __typename } }`;
      const ofB: [NodeTypeName, string][] = [
        ['Client', w.B],
        ['Contract', w.cB1],
        ['Contract', w.cB2],
        ['DataProcessingAgreement', w.dB1],
        ['DataProcessingAgreement', w.dB2],
        ['Exposure', w.eBShared],
        ['Exposure', w.eBOwn],
        ['Exposure', w.eBOld],
        ['Incident', w.iB],
        ['Incident', w.iOld],
        ['Incident', w.iX],
      ];
      const unknown = await app.gql(tokenA, nodeQuery, {
        id: id('Client', '00000000-0000-4000-8000-000000000000'),
      });
      for (const [type, uuid] of ofB) {
        const response = await app.gql(tokenA, nodeQuery, { id: id(type, uuid) });
        expect(asA(response)).toEqual({ node: null });
        expect(response.body).toEqual(unknown.body);
      }
      const ofA: [NodeTypeName, string][] = [
        ['Client', w.A],
        ['Contract', w.cA1],
        ['DataProcessingAgreement', w.dA1],
        ['Exposure', w.eA],
        ['Incident', w.iShared],
        ['Supplier', w.SB],
      ];
      for (const [type, uuid] of ofA) {
        expect(await queryAsA(nodeQuery, { id: id(type, uuid) })).toEqual({
          node: { id: id(type, uuid), __typename: type },
        });
      }
    });

    it("suppliers are public, but their contracts and incidents show only A's (edges and totalCount)", async () => {
      const data = await queryAsA(`{
        suppliers(first: 10) { totalCount edges { node { name
          contracts(first: 10) { totalCount edges { node { reference client { name } dataProcessingAgreements { reference } } } }
          incidents(first: 10) { totalCount edges { node { title } } }
        } } } }`);
      expect(data.suppliers.totalCount).toBe(8);
      const byName = Object.fromEntries(data.suppliers.edges.map((e: any) => [e.node.name, e.node]));
      expect(byName['Shared Services plc'].contracts).toEqual({
        totalCount: 1,
        edges: [
          {
            node: {
              reference: 'ALPHA-SHARED',
              client: { name: 'Alpha Borough Council' },
              dataProcessingAgreements: [{ reference: 'ALPHA-DPA-1' }],
            },
          },
        ],
      });
      expect(byName['Shared Services plc'].incidents).toEqual({
        totalCount: 1,
        edges: [{ node: { title: 'Shared breach' } }],
      });
      expect(byName['Alpha Payroll Ltd'].contracts.totalCount).toBe(1);
      expect(byName['Alpha Payroll Ltd'].incidents).toEqual({ totalCount: 0, edges: [] });
      expect(byName['Bravo Records Ltd'].contracts).toEqual({ totalCount: 0, edges: [] });
      expect(byName['Bravo Records Ltd'].incidents).toEqual({ totalCount: 0, edges: [] });
      expect(byName['Unlinked Hosting Ltd'].incidents).toEqual({ totalCount: 0, edges: [] });
    });

    it("the admin sees B's side of the same paths (so the answers above are filtering, not an empty register)", async () => {
      const data = dataOf(
        await app.gql(
          app.adminToken,
          `{
        suppliers(first: 10) { edges { node { name contracts { totalCount } incidents { totalCount } } } }
        incidents { totalCount }
        exposures { totalCount }
        clients { totalCount } }`,
        ),
      );
      const byName = Object.fromEntries(data.suppliers.edges.map((e: any) => [e.node.name, e.node]));
      expect(byName['Shared Services plc']).toMatchObject({
        contracts: { totalCount: 2 },
        incidents: { totalCount: 2 },
      });
      expect(byName['Bravo Records Ltd']).toMatchObject({
        contracts: { totalCount: 1 },
        incidents: { totalCount: 1 },
      });
      expect(byName['Unlinked Hosting Ltd']).toMatchObject({ incidents: { totalCount: 1 } });
      expect(data.incidents.totalCount).toBe(4);
      expect(data.exposures.totalCount).toBe(4); // A's one and B's three
      expect(data.clients.totalCount).toBe(3);
    });

    it("clients → contracts → agreements: only A's", async () => {
      const data =
        await queryAsA(`{ clients { edges { node { contracts(first: 10) { totalCount edges { node { reference supplier { name }
        dataProcessingAgreements { reference contract { reference } subprocessors { name } } } } } } } } }`);
      expect(data.clients.edges).toHaveLength(1);
      expect(data.clients.edges[0].node.contracts).toEqual({
        totalCount: 2,
        edges: [
          {
            node: {
              reference: 'ALPHA-OWN',
              supplier: { name: 'Alpha Payroll Ltd' },
              dataProcessingAgreements: [
                { reference: 'ALPHA-DPA-2', contract: { reference: 'ALPHA-OWN' }, subprocessors: [] },
              ],
            },
          },
          {
            node: {
              reference: 'ALPHA-SHARED',
              supplier: { name: 'Shared Services plc' },
              dataProcessingAgreements: [
                { reference: 'ALPHA-DPA-1', contract: { reference: 'ALPHA-SHARED' }, subprocessors: [] },
              ],
            },
          },
        ],
      });
    });

    it('incidents: only the one A is exposed to, with only A in its exposures and summary', async () => {
      const data =
        await queryAsA(`{ incidents(first: 10) { totalCount edges { node { id title supplier { name }
        exposures(first: 10) { totalCount edges { node { id client { name } } } }
        exposureSummary { clientsExposed clientsWithSpecialCategoryData peopleAtRisk contractValueInvolved { amount currency } critical high medium low }
      } } } }`);
      expect(data.incidents.totalCount).toBe(1);
      const [incident] = data.incidents.edges.map((e: any) => e.node);
      expect(incident).toMatchObject({
        id: id('Incident', w.iShared),
        title: 'Shared breach',
        supplier: { name: 'Shared Services plc' },
      });
      expect(incident.exposures).toEqual({
        totalCount: 1,
        edges: [{ node: { id: id('Exposure', w.eA), client: { name: 'Alpha Borough Council' } } }],
      });
      const summary = incident.exposureSummary;
      expect(summary).toMatchObject({
        clientsExposed: 1,
        clientsWithSpecialCategoryData: 0,
        peopleAtRisk: 111,
        contractValueInvolved: [{ amount: '100.00', currency: 'GBP' }],
      });
      expect(summary.critical + summary.high + summary.medium + summary.low).toBe(1);

      // The same incident through the admin's eyes: two clients, B's people and money included.
      const admin = dataOf(
        await app.gql(
          app.adminToken,
          `query($id: ID!) { node(id: $id) { ... on Incident { exposures { totalCount } exposureSummary { clientsExposed peopleAtRisk contractValueInvolved { amount currency } } } } }`,
          { id: id('Incident', w.iShared) },
        ),
      );
      expect(admin.node).toEqual({
        exposures: { totalCount: 2 },
        exposureSummary: {
          clientsExposed: 2,
          peopleAtRisk: 111 + 987654,
          contractValueInvolved: [
            { amount: '7777777.77', currency: 'EUR' },
            { amount: '100.00', currency: 'GBP' },
          ],
        },
      });
    });

    it('incidents filtered by supplier: S shows one, B’s own supplier and the unlinked one show none, even as a count', async () => {
      const q = `query($s: ID!) { incidents(filter: { supplierId: $s }) { totalCount edges { node { title } } } }`;
      expect((await queryAsA(q, { s: id('Supplier', w.S) })).incidents).toEqual({
        totalCount: 1,
        edges: [{ node: { title: 'Shared breach' } }],
      });
      expect((await queryAsA(q, { s: id('Supplier', w.SB) })).incidents).toEqual({
        totalCount: 0,
        edges: [],
      });
      expect((await queryAsA(q, { s: id('Supplier', w.SX) })).incidents).toEqual({
        totalCount: 0,
        edges: [],
      });
      expect(
        (await queryAsA(`{ incidents(filter: { status: CONTAINED }) { totalCount } }`)).incidents.totalCount,
      ).toBe(0);
    });

    it("incident.exposures filtered on B's client id is empty", async () => {
      const data = await queryAsA(
        `query($id: ID!, $b: ID!) { node(id: $id) { ... on Incident { exposures(filter: { clientId: $b, includeResolved: true }) { totalCount edges { node { id } } } } } }`,
        {
          id: id('Incident', w.iShared),
          b: id('Client', w.B),
        },
      );
      expect(data.node.exposures).toEqual({ totalCount: 0, edges: [] });
    });

    it("exposures: only A's, and filtering on B's client or B's incidents gives nothing", async () => {
      const all =
        await queryAsA(`{ exposures(first: 10, filter: { includeResolved: true }) { totalCount edges { node { id client { name } incident { title }
        contracts { reference dataProcessingAgreements { reference } } path { name } } } } }`);
      expect(all.exposures).toEqual({
        totalCount: 1,
        edges: [
          {
            node: {
              id: id('Exposure', w.eA),
              client: { name: 'Alpha Borough Council' },
              incident: { title: 'Shared breach' },
              contracts: [
                { reference: 'ALPHA-SHARED', dataProcessingAgreements: [{ reference: 'ALPHA-DPA-1' }] },
              ],
              path: [{ name: 'Shared Services plc' }],
            },
          },
        ],
      });
      const filtered = `query($f: ExposureFilter) { exposures(filter: $f) { totalCount edges { node { id } } } }`;
      expect(
        (await queryAsA(filtered, { f: { clientId: id('Client', w.B), includeResolved: true } })).exposures,
      ).toEqual({ totalCount: 0, edges: [] });
      expect(
        (await queryAsA(filtered, { f: { incidentId: id('Incident', w.iB), includeResolved: true } }))
          .exposures,
      ).toEqual({ totalCount: 0, edges: [] });
      expect(
        (await queryAsA(filtered, { f: { incidentId: id('Incident', w.iOld), includeResolved: true } }))
          .exposures,
      ).toEqual({ totalCount: 0, edges: [] });
      expect(
        (await queryAsA(filtered, { f: { incidentId: id('Incident', w.iShared) } })).exposures.totalCount,
      ).toBe(1);
    });

    it("Client.exposures and Exposure.contracts: only A's", async () => {
      const data = await queryAsA(
        `{ clients { edges { node { exposures(first: 10, filter: { includeResolved: true }) { totalCount edges { node { id contracts { reference client { name } } } } } } } } }`,
      );
      expect(data.clients.edges[0].node.exposures).toEqual({
        totalCount: 1,
        edges: [
          {
            node: {
              id: id('Exposure', w.eA),
              contracts: [{ reference: 'ALPHA-SHARED', client: { name: 'Alpha Borough Council' } }],
            },
          },
        ],
      });
    });
  });

  describe('the audit trail', () => {
    it('is for the admin only: a client (whose trail would show B) and an analyst get FORBIDDEN and no data', async () => {
      const query = `{ auditEvents(first: 10) { totalCount edges { node { recordGlobalId } } } }`;
      for (const token of [tokenA, app.analystToken]) {
        const response = await app.gql(token, query);
        expect(onlyError(response).code).toBe('FORBIDDEN');
        expect(response.body.data ?? null).toBeNull();
      }
      expect(dataOf(await app.gql(app.adminToken, query)).auditEvents.totalCount).toBeGreaterThan(0);
    });
  });

  describe('roles', () => {
    adminMutations = [
      [
        'mutation($input: CreateSupplierInput!) { createSupplier(input: $input) { supplier { id } userErrors { code } } }',
        () => ({ name: 'Sneaky Ltd', country: 'GB', tier: 'STANDARD' }),
      ],
      [
        'mutation($input: UpdateSupplierInput!) { updateSupplier(input: $input) { supplier { id } userErrors { code } } }',
        () => ({ id: id('Supplier', w.S), name: 'Renamed' }),
      ],
      [
        'mutation($input: RemoveSupplierInput!) { removeSupplier(input: $input) { removedId userErrors { code } } }',
        () => ({ id: id('Supplier', w.SU) }),
      ],
      [
        'mutation($input: AddSubprocessorInput!) { addSubprocessor(input: $input) { supplier { id } userErrors { code } } }',
        () => ({ supplierId: id('Supplier', w.SA), subprocessorId: id('Supplier', w.SX) }),
      ],
      [
        'mutation($input: RemoveSubprocessorInput!) { removeSubprocessor(input: $input) { supplier { id } userErrors { code } } }',
        () => ({ supplierId: id('Supplier', w.SL1), subprocessorId: id('Supplier', w.SL2) }),
      ],
      [
        'mutation($input: CreateClientInput!) { createClient(input: $input) { client { id } userErrors { code } } }',
        () => ({ name: 'Sneaky Council', sector: 'OTHER' }),
      ],
      [
        'mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { id } userErrors { code } } }',
        () => ({ id: id('Client', w.A), name: 'Renamed' }),
      ],
      [
        'mutation($input: RemoveClientInput!) { removeClient(input: $input) { removedId userErrors { code } } }',
        () => ({ id: id('Client', w.CU) }),
      ],
      [
        'mutation($input: CreateContractInput!) { createContract(input: $input) { contract { id } userErrors { code } } }',
        () => ({
          clientId: id('Client', w.A),
          supplierId: id('Supplier', w.SN),
          reference: 'NEW',
          title: 'New',
          startsOn: '2024-01-01',
          criticality: 'STANDARD',
        }),
      ],
      [
        'mutation($input: UpdateContractInput!) { updateContract(input: $input) { contract { id } userErrors { code } } }',
        () => ({ id: id('Contract', w.cA1), title: 'Renamed' }),
      ],
      [
        'mutation($input: RemoveContractInput!) { removeContract(input: $input) { removedId userErrors { code } } }',
        () => ({ id: id('Contract', w.cA2) }),
      ],
      [
        'mutation($input: CreateDataProcessingAgreementInput!) { createDataProcessingAgreement(input: $input) { dataProcessingAgreement { id } userErrors { code } } }',
        () => ({
          contractId: id('Contract', w.cA1),
          reference: 'NEW-DPA',
          dataCategories: ['CONTACT'],
          dataSubjectCount: 5,
          processingLocations: ['GB'],
        }),
      ],
      [
        'mutation($input: UpdateDataProcessingAgreementInput!) { updateDataProcessingAgreement(input: $input) { dataProcessingAgreement { id } userErrors { code } } }',
        () => ({ id: id('DataProcessingAgreement', w.dA1), dataSubjectCount: 5 }),
      ],
      [
        'mutation($input: RemoveDataProcessingAgreementInput!) { removeDataProcessingAgreement(input: $input) { removedId userErrors { code } } }',
        () => ({ id: id('DataProcessingAgreement', w.dA1) }),
      ],
    ];

    it.each(['client', 'analyst'])(
      'role %s gets FORBIDDEN from every admin mutation, on its own objects too, and nothing is written',
      async (role) => {
        const token = role === 'client' ? tokenA : app.analystToken;
        for (const [mutation, input] of adminMutations) {
          const response = await expectNothingWritten(app.database.db, () =>
            app.gql(token, mutation, { input: input() }),
          );
          const error = onlyError(response);
          expect({ mutation, code: error.code }).toEqual({ mutation, code: 'FORBIDDEN' });
          expect(error.message).toMatch(/needs the role admin/);
          expect(response.body.data ?? null).toBeNull();
        }
      },
    );

    const recordIncidentMutation = `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id title } exposuresChanged userErrors { code } } }`;
    const updateIncidentMutation = `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { incident { id title status } userErrors { code } } }`;

    it('an analyst records and updates incidents', async () => {
      const recorded = dataOf(
        await app.gql(app.analystToken, recordIncidentMutation, {
          input: {
            supplierId: id('Supplier', w.SN),
            title: 'Analyst-recorded',
            kind: 'SERVICE_OUTAGE',
            status: 'SUSPECTED',
            detectedAt: '2024-02-01T09:00:00Z',
            exfiltration: 'NONE_FOUND',
          },
        }),
      ).recordIncident;
      expect(recorded).toMatchObject({ incident: { title: 'Analyst-recorded' }, userErrors: [] });
      const updated = dataOf(
        await app.gql(app.analystToken, updateIncidentMutation, {
          input: { id: recorded.incident.id, status: 'CONFIRMED' },
        }),
      ).updateIncident;
      expect(updated).toEqual({
        incident: { id: recorded.incident.id, title: 'Analyst-recorded', status: 'CONFIRMED' },
        userErrors: [],
      });
    });

    it('a client cannot record or update incidents, not even one it is exposed to', async () => {
      const record = await expectNothingWritten(app.database.db, () =>
        app.gql(tokenA, recordIncidentMutation, {
          input: {
            supplierId: id('Supplier', w.SA),
            title: 'Client-recorded',
            kind: 'OTHER',
            status: 'SUSPECTED',
            detectedAt: '2024-02-01T09:00:00Z',
            exfiltration: 'NONE_FOUND',
          },
        }),
      );
      expect(onlyError(record).code).toBe('FORBIDDEN');
      const update = await expectNothingWritten(app.database.db, () =>
        app.gql(tokenA, updateIncidentMutation, {
          input: { id: id('Incident', w.iShared), status: 'CLOSED' },
        }),
      );
      expect(onlyError(update).code).toBe('FORBIDDEN');
    });
  });

  describe('authentication', () => {
    const query = `{ suppliers { totalCount } }`;
    async function post(headers: Record<string, string>) {
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
    }
    const expectUnauthenticated = (
      response: { status: number; body: GraphQLResponse['body'] },
      message?: RegExp,
    ) => {
      expect(response.status).toBe(401);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors![0].extensions?.code).toBe('UNAUTHENTICATED');
      if (message) expect(response.body.errors![0].message).toMatch(message);
    };
    const secret = new TextEncoder().encode(TEST_JWT_SECRET);

    it('a valid token is let in (control)', async () => {
      expect((await post({ authorization: `Bearer ${app.analystToken}` })).status).toBe(200);
    });

    it('no token, or a malformed Authorization header', async () => {
      expectUnauthenticated(await post({}), /Send a token/);
      expectUnauthenticated(
        await post({ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }),
        /Bearer/,
      );
      expectUnauthenticated(await post({ authorization: 'Bearer' }), /Bearer/);
      expectUnauthenticated(await post({ authorization: 'Bearer not.a.jwt' }), /not valid/);
      expectUnauthenticated(await post({ authorization: `Bearer ${app.adminToken}x` }), /not valid/);
    });

    it('an expired token, one signed with another secret, an unsigned one, one without exp', async () => {
      const expired = await new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('old')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(secret);
      expectUnauthenticated(await post({ authorization: `Bearer ${expired}` }), /expired/);
      const otherSecret = await mintToken('a-different-secret-that-is-long-enough-42', {
        sub: 'mallory',
        role: 'admin',
      });
      expectUnauthenticated(await post({ authorization: `Bearer ${otherSecret}` }), /not valid/);
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url')}.`;
      expectUnauthenticated(await post({ authorization: `Bearer ${unsigned}` }), /not valid/);
      const noExp = await new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('forever')
        .sign(secret);
      expectUnauthenticated(await post({ authorization: `Bearer ${noExp}` }), /exp/);
    });

    it('a client token without client_id, or with an ID that is not a Client, or an unknown role', async () => {
      expectUnauthenticated(
        await post({ authorization: `Bearer ${await app.token('client')}` }),
        /client_id/,
      );
      expectUnauthenticated(
        await post({
          authorization: `Bearer ${await app.token('client', { client_id: id('Supplier', w.S) })}`,
        }),
        /client_id/,
      );
      expectUnauthenticated(
        await post({ authorization: `Bearer ${await app.token('client', { client_id: 'garbage' })}` }),
        /client_id/,
      );
      const boss = await new SignJWT({ role: 'boss' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('boss')
        .setExpirationTime('1h')
        .sign(secret);
      expectUnauthenticated(await post({ authorization: `Bearer ${boss}` }), /role/);
    });

    it('mutations are refused the same way, before anything runs', async () => {
      const response = await expectNothingWritten(app.database.db, () =>
        fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: 'mutation { createClient(input: { name: "Anon", sector: OTHER }) { client { id } } }',
          }),
        }),
      );
      expect(response.status).toBe(401);
    });
  });

  describe('recordNotificationDecision', () => {
    const mutation = `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) {
      exposure { id notification { status justification reportedAt reference decidedBy } } userErrors { field code message } } }`;
    const notRequired = (exposureId: string) => ({
      input: {
        exposureId,
        status: 'NOT_REQUIRED',
        justification: 'Only business contact details; no risk to individuals.',
      },
    });

    it("client A on B's exposure: NOT_FOUND, word for word the answer for a missing exposure, and nothing written", async () => {
      const onB = await expectNothingWritten(app.database.db, () =>
        app.gql(tokenA, mutation, notRequired(id('Exposure', w.eBShared))),
      );
      const onMissing = await app.gql(
        tokenA,
        mutation,
        notRequired(id('Exposure', '00000000-0000-4000-8000-000000000000')),
      );
      expect(asA(onB).recordNotificationDecision).toEqual({
        exposure: null,
        userErrors: [{ field: ['input', 'exposureId'], code: 'NOT_FOUND', message: expect.any(String) }],
      });
      expect(onB.body).toEqual(onMissing.body);
      expect(await rowCount(app.database.db, 'notification_decision')).toBe(0);
    });

    it('an analyst is FORBIDDEN, even on an exposure it can read', async () => {
      const response = await expectNothingWritten(app.database.db, () =>
        app.gql(app.analystToken, mutation, notRequired(id('Exposure', w.eA))),
      );
      expect(onlyError(response).code).toBe('FORBIDDEN');
    });

    it("client A on its own exposure, and the admin on B's, succeed and are recorded with who decided", async () => {
      const reportedAt = '2023-04-03T10:00:00.000Z';
      const own = asA(
        await app.gql(tokenA, mutation, {
          input: { exposureId: id('Exposure', w.eA), status: 'REPORTED', reportedAt, reference: 'ICO-123' },
        }),
      );
      expect(own.recordNotificationDecision).toEqual({
        exposure: {
          id: id('Exposure', w.eA),
          notification: {
            status: 'REPORTED',
            justification: null,
            reportedAt,
            reference: 'ICO-123',
            decidedBy: expect.stringMatching(/^client-user-/),
          },
        },
        userErrors: [],
      });
      const admin = dataOf(await app.gql(app.adminToken, mutation, notRequired(id('Exposure', w.eBShared))));
      expect(admin.recordNotificationDecision.userErrors).toEqual([]);
      expect(admin.recordNotificationDecision.exposure.notification).toMatchObject({
        status: 'NOT_REQUIRED',
        decidedBy: 'test-admin',
      });
      const decisions: { exposure_id: string; decided_by_role: string }[] = await app.database.db.query(
        `SELECT exposure_id, decided_by_role FROM notification_decision ORDER BY decided_at`,
      );
      expect(decisions).toEqual([
        { exposure_id: w.eA, decided_by_role: 'client' },
        { exposure_id: w.eBShared, decided_by_role: 'admin' },
      ]);
      // B's decision still does not reach A.
      await queryAsA(
        `{ exposures(filter: { notificationStatus: NOT_REQUIRED }) { totalCount } incidents { edges { node { exposureSummary { clientsExposed } } } } }`,
      ).then((data) => {
        expect(data.exposures.totalCount).toBe(0);
        expect(data.incidents.edges[0].node.exposureSummary.clientsExposed).toBe(1);
      });
    });
  });

  // Last, because it changes the register the tests above read.
  describe('the admin', () => {
    it('runs every one of those admin mutations without an error (so FORBIDDEN above was about the role, not the input)', async () => {
      for (const [mutation, input] of adminMutations) {
        const response = await app.gql(app.adminToken, mutation, { input: input() });
        expect({ mutation, body: response.body }).toEqual({
          mutation,
          body: {
            data: {
              [Object.keys(response.body.data ?? {})[0] ?? 'missing']: expect.objectContaining({
                userErrors: [],
              }),
            },
          },
        });
      }
    });
  });
});
