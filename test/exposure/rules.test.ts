/**
 * The exposure rules (design/domain.md, rules 1-10; docs/exposure-scoring.md), one case each, through
 * GraphQL: incidents are recorded and updated with recordIncident / updateIncident as an analyst, and
 * exposures read back through incident.exposures, exposures(filter) and client.exposures. The register
 * itself is built with the factories (the same services the register mutations call).
 */
import fc from 'fast-check';
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { decodeIdOf, encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import {
  ALL_CATEGORIES,
  ART9,
  Category,
  Criticality,
  Exfiltration,
  ScoreInput,
  levelOf,
  scoreOf,
} from './reference';

const gid = {
  supplier: (id: string) => encodeGlobalId('Supplier', id),
  client: (id: string) => encodeGlobalId('Client', id),
  contract: (id: string) => encodeGlobalId('Contract', id),
};

const EXPOSURE = `id score level revision computedAt resolvedAt awareAt notificationDeadline
  factors { name detail contribution } contracts { id } dataCategoriesAtRisk specialCategoryData dataSubjectsAtRisk
  path { id } client { id } notification { status decidedAt decidedBy reportedAt reference justification }`;

const INCIDENT = `id status dataCategoriesAffected exfiltration
  exposures(first: 100) { totalCount edges { node { ${EXPOSURE} } } }`;

interface Exposure {
  id: string;
  score: number;
  level: string;
  revision: number;
  computedAt: string;
  resolvedAt: string | null;
  awareAt: string;
  notificationDeadline: string;
  factors: { name: string; detail: string; contribution: number }[];
  contracts: { id: string }[];
  dataCategoriesAtRisk: string[];
  specialCategoryData: boolean;
  dataSubjectsAtRisk: number;
  path: { id: string }[];
  client: { id: string };
  notification: {
    status: string;
    decidedAt: string | null;
    decidedBy: string | null;
    reportedAt: string | null;
    reference: string | null;
    justification: string | null;
  };
}

const HOURS_72 = 72 * 3600 * 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('exposure rules through GraphQL', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const supplier = async (name?: string) => (await createSupplier(app.services, name ? { name } : {})).id;
  const client = async (name?: string) => (await createClient(app.services, name ? { name } : {})).id;
  const contract = async (
    clientId: string,
    supplierId: string,
    overrides: Parameters<typeof createContract>[3] = {},
  ) => (await createContract(app.services, clientId, supplierId, overrides)).id;
  const agreement = async (
    contractId: string,
    categories: DataCategory[],
    people: number,
    overrides: Parameters<typeof createAgreement>[2] = {},
  ) =>
    (
      await createAgreement(app.services, contractId, {
        dataCategories: categories,
        dataSubjectCount: people,
        ...overrides,
      })
    ).id;

  async function recordIncident(
    supplierId: string,
    input: Record<string, unknown> = {},
    token = app.analystToken,
  ) {
    const response = await app.gql(
      token,
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { exposuresChanged userErrors { field code message } incident { ${INCIDENT} } } }`,
      {
        input: {
          supplierId: gid.supplier(supplierId),
          title: 'Cyber attack',
          kind: 'CYBER_ATTACK',
          status: 'CONFIRMED',
          startedAt: '2023-03-22T00:00:00Z',
          detectedAt: '2023-03-31T00:00:00Z',
          exfiltration: 'SUSPECTED',
          ...input,
        },
      },
    );
    const payload = dataOf(response).recordIncident;
    expect(payload.userErrors).toEqual([]);
    return {
      id: payload.incident.id as string,
      exposuresChanged: payload.exposuresChanged as number,
      exposures: nodes(payload.incident.exposures),
    };
  }

  async function updateIncident(id: string, input: Record<string, unknown>) {
    const payload = dataOf(
      await app.gql(
        app.analystToken,
        `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { exposuresChanged userErrors { field code message } incident { ${INCIDENT} } } }`,
        { input: { id, ...input } },
      ),
    ).updateIncident;
    expect(payload.userErrors).toEqual([]);
    return {
      exposuresChanged: payload.exposuresChanged as number,
      exposures: nodes(payload.incident.exposures),
    };
  }

  async function exposuresOf(
    incidentId: string,
    filter: Record<string, unknown> = {},
    token = app.analystToken,
  ): Promise<Exposure[]> {
    const data = dataOf(
      await app.gql(
        token,
        `query($filter: ExposureFilter) { exposures(first: 100, filter: $filter) { totalCount edges { node { ${EXPOSURE} } } } }`,
        { filter: { incidentId, ...filter } },
      ),
    );
    return nodes(data.exposures);
  }

  function nodes(connection: { totalCount: number; edges: { node: Exposure }[] }): Exposure[] {
    expect(connection.totalCount).toBe(connection.edges.length);
    return connection.edges.map((e) => e.node);
  }

  const forClient = (exposures: Exposure[], clientId: string) =>
    exposures.find((e) => e.client.id === gid.client(clientId));
  const pathOf = (e: Exposure | undefined) => e?.path.map((s) => s.id);
  const contribution = (e: Exposure, name: string) => e.factors.find((f) => f.name === name)!.contribution;

  /** The engine's score must be the reference formula applied to what the exposure says. */
  function expectScoredLikeReference(
    e: Exposure,
    exfiltration: Exfiltration,
    criticality: Criticality,
  ): void {
    const reference = scoreOf({
      categories: e.dataCategoriesAtRisk as Category[],
      people: e.dataSubjectsAtRisk,
      exfiltration,
      criticality,
      depth: e.path.length - 1,
    });
    expect({
      score: e.score,
      level: e.level,
      factors: e.factors.map((f) => ({ name: f.name, contribution: f.contribution })),
    }).toEqual(reference);
  }

  describe('rule 3: who is exposed, and the path', () => {
    it("exposes a direct client with every category of its agreement while the incident's are unknown (DWP and Capita)", async () => {
      const capita = await supplier('Capita plc');
      const dwp = await client('Department for Work and Pensions');
      const pip = await contract(dwp, capita, {
        criticality: ServiceCriticality.CRITICAL,
        startsOn: '2019-08-01',
        endsOn: '2025-07-31',
        value: { amount: '550000000.00', currency: 'GBP' },
      });
      await agreement(
        pip,
        [DataCategory.HEALTH, DataCategory.BASIC_IDENTITY, DataCategory.CONTACT, DataCategory.GOVERNMENT_ID],
        1_200_000,
      );
      const bystander = await client();
      await contract(bystander, await supplier(), {});

      const recorded = await recordIncident(capita, {
        exfiltration: 'NONE_FOUND',
        containedAt: '2023-03-31T00:00:00Z',
        clientsNotifiedAt: '2023-04-03T06:00:00Z',
      });
      const { exposures, exposuresChanged } = recorded;
      expect(exposuresChanged).toBe(1);
      expect(exposures).toHaveLength(1);
      const [e] = exposures;
      expect(e.client.id).toBe(gid.client(dwp));
      expect(pathOf(e)).toEqual([gid.supplier(capita)]);
      expect(e.contracts).toEqual([{ id: gid.contract(pip) }]);
      expect(e.dataCategoriesAtRisk).toEqual(['BASIC_IDENTITY', 'CONTACT', 'GOVERNMENT_ID', 'HEALTH']);
      expect(e.specialCategoryData).toBe(true);
      expect(e.dataSubjectsAtRisk).toBe(1_200_000);
      // The worked example of docs/exposure-scoring.md: 30 + 25 + 0 + 15 - 0 = 70, HIGH.
      expect(e.factors).toEqual([
        {
          name: 'specialCategoryData',
          contribution: 30,
          detail: 'Special category data (Art. 9) at risk: HEALTH',
        },
        { name: 'dataSubjectVolume', contribution: 25, detail: 'Data of 1,200,000 people at risk' },
        { name: 'exfiltration', contribution: 0, detail: 'Exfiltration none found' },
        { name: 'serviceCriticality', contribution: 15, detail: 'Most critical service involved: CRITICAL' },
        { name: 'supplyChainDepth', contribution: 0, detail: 'Incident at a direct supplier: no reduction' },
      ]);
      expect(e.score).toBe(70);
      expect(e.level).toBe('HIGH');
      expect(e.awareAt).toBe('2023-04-03T06:00:00.000Z');
      expect(e.notificationDeadline).toBe('2023-04-06T06:00:00.000Z');
      expect(e.notification.status).toBe('ASSESSING');
      expect(e.revision).toBe(1);

      // 20 April: evidence of exfiltration. 30 + 25 + 10 + 15 = 80, CRITICAL.
      const suspected = await updateIncident(recorded.id, { exfiltration: 'SUSPECTED' });
      expect(suspected.exposuresChanged).toBe(1);
      expect(suspected.exposures[0]).toMatchObject({
        id: e.id,
        score: 80,
        level: 'CRITICAL',
        revision: 2,
        awareAt: e.awareAt,
      });
      // The narrowed categories keep all of DWP's: nothing changes, nothing is written.
      const narrowed = await updateIncident(recorded.id, {
        dataCategoriesAffected: [
          'BASIC_IDENTITY',
          'CONTACT',
          'FINANCIAL',
          'GOVERNMENT_ID',
          'EMPLOYMENT',
          'HEALTH',
          'CRIMINAL_OFFENCE',
        ],
      });
      expect(narrowed.exposuresChanged).toBe(0);
      expect(narrowed.exposures[0]).toMatchObject({ score: 80, revision: 2 });
    });

    it('follows supplier-level links three deep, choosing the shortest chain', async () => {
      const [x, y, z, s, long1, long2] = [
        await supplier(),
        await supplier(),
        await supplier(),
        await supplier(),
        await supplier(),
        await supplier(),
      ];
      // x -> y -> z -> s (3 links), and a longer way x -> long1 -> long2 -> z -> s.
      await linkSubprocessor(app.services, x, y);
      await linkSubprocessor(app.services, y, z);
      await linkSubprocessor(app.services, z, s);
      await linkSubprocessor(app.services, x, long1);
      await linkSubprocessor(app.services, long1, long2);
      await linkSubprocessor(app.services, long2, z);
      const k = await client();
      const c = await contract(k, x, { criticality: ServiceCriticality.CRITICAL });
      await agreement(c, [DataCategory.HEALTH], 2_000_000);
      const { exposures } = await recordIncident(s, { exfiltration: 'CONFIRMED' });
      expect(exposures).toHaveLength(1);
      const [e] = exposures;
      expect(pathOf(e)).toEqual([x, y, z, s].map(gid.supplier));
      // base 30 + 25 + 20 + 15 = 90, x 0.8^3 = 46.08: 46, MEDIUM.
      expect(e.score).toBe(46);
      expect(e.level).toBe('MEDIUM');
      expect(contribution(e, 'supplyChainDepth')).toBeCloseTo(-43.92, 2);
      expect(e.factors.find((f) => f.name === 'supplyChainDepth')!.detail).toBe(
        'Incident 3 sub-processor links down the chain: score x 0.512',
      );
      expectScoredLikeReference(e, 'CONFIRMED', 'CRITICAL');
    });

    it("an agreement-level sub-processor covers only that agreement's data", async () => {
      const [x, p, other] = [await supplier(), await supplier(), await supplier()];
      const k = await client();
      const c = await contract(k, x, { criticality: ServiceCriticality.STANDARD });
      await agreement(c, [DataCategory.HEALTH, DataCategory.CONTACT], 1_000, { subprocessorIds: [p] });
      await agreement(c, [DataCategory.FINANCIAL], 50_000, { subprocessorIds: [other] });
      await agreement(c, [DataCategory.CRIMINAL_OFFENCE], 7_000);

      const atP = await recordIncident(p);
      expect(atP.exposures).toHaveLength(1);
      expect(pathOf(atP.exposures[0])).toEqual([gid.supplier(x), gid.supplier(p)]);
      expect(atP.exposures[0].dataCategoriesAtRisk).toEqual(['CONTACT', 'HEALTH']);
      expect(atP.exposures[0].dataSubjectsAtRisk).toBe(1_000);
      expectScoredLikeReference(atP.exposures[0], 'SUSPECTED', 'STANDARD');

      // At the contract's own supplier every agreement is at risk.
      const atX = await recordIncident(x);
      expect(pathOf(atX.exposures[0])).toEqual([gid.supplier(x)]);
      expect(atX.exposures[0].dataCategoriesAtRisk).toEqual([
        'CONTACT',
        'CRIMINAL_OFFENCE',
        'FINANCIAL',
        'HEALTH',
      ]);
      expect(atX.exposures[0].dataSubjectsAtRisk).toBe(58_000);
    });

    it('a supplier-level chain below an agreement-level sub-processor still covers only that agreement', async () => {
      const [x, p, cloud] = [await supplier(), await supplier(), await supplier()];
      await linkSubprocessor(app.services, p, cloud);
      const k = await client();
      const c = await contract(k, x);
      await agreement(c, [DataCategory.CHILDREN], 300, { subprocessorIds: [p] });
      await agreement(c, [DataCategory.HEALTH], 9_000);
      const { exposures } = await recordIncident(cloud, { dataCategoriesAffected: ['CHILDREN', 'HEALTH'] });
      expect(exposures).toHaveLength(1);
      expect(pathOf(exposures[0])).toEqual([x, p, cloud].map(gid.supplier));
      expect(exposures[0].dataCategoriesAtRisk).toEqual(['CHILDREN']);
      expect(exposures[0].dataSubjectsAtRisk).toBe(300);
      expect(contribution(exposures[0], 'specialCategoryData')).toBe(15);
      expectScoredLikeReference(exposures[0], 'SUSPECTED', 'IMPORTANT');
    });

    it('a cycle in the supply chain neither hangs nor duplicates', async () => {
      const [a, b, c, s] = [await supplier(), await supplier(), await supplier(), await supplier()];
      await linkSubprocessor(app.services, a, b);
      await linkSubprocessor(app.services, b, c);
      await linkSubprocessor(app.services, c, a);
      await linkSubprocessor(app.services, c, s);
      const clients = [await client(), await client(), await client()];
      const contractsOf = [
        await contract(clients[0], a),
        await contract(clients[1], b),
        await contract(clients[2], c),
      ];
      await contract(clients[0], b); // a second, shorter route for the first client, with no agreement: service only
      for (const id of contractsOf) await agreement(id, [DataCategory.CONTACT], 100);

      const atS = await recordIncident(s);
      expect(atS.exposures).toHaveLength(3);
      // Rule 6: the depth (and the path shown) is that of the shortest route carrying data at risk, through a.
      expect(pathOf(forClient(atS.exposures, clients[0]))).toEqual([a, b, c, s].map(gid.supplier));
      expect(pathOf(forClient(atS.exposures, clients[1]))).toEqual([b, c, s].map(gid.supplier));
      expect(pathOf(forClient(atS.exposures, clients[2]))).toEqual([c, s].map(gid.supplier));
      expect(forClient(atS.exposures, clients[0])!.contracts).toHaveLength(2);

      // Inside the cycle: every member reaches a.
      const atA = await recordIncident(a);
      expect(atA.exposures).toHaveLength(3);
      expect(pathOf(forClient(atA.exposures, clients[0]))).toEqual([gid.supplier(a)]);
      expect(pathOf(forClient(atA.exposures, clients[1]))).toEqual([b, c, a].map(gid.supplier));
      expect(pathOf(forClient(atA.exposures, clients[2]))).toEqual([c, a].map(gid.supplier));
      const rows = await app.database.db.query(
        `SELECT count(*)::int AS n, count(DISTINCT client_id)::int AS clients FROM exposure WHERE incident_id = $1`,
        [decodeIdOf('Incident', atA.id)],
      );
      expect(rows[0]).toEqual({ n: 3, clients: 3 });
    });

    it('a contract without an agreement exposes the client with no data: LOW', async () => {
      const s = await supplier();
      const k = await client();
      const c = await contract(k, s, { criticality: ServiceCriticality.CRITICAL });
      const { exposures } = await recordIncident(s, { exfiltration: 'CONFIRMED' });
      expect(exposures).toHaveLength(1);
      const [e] = exposures;
      expect(e.contracts).toEqual([{ id: gid.contract(c) }]);
      expect(e.dataCategoriesAtRisk).toEqual([]);
      expect(e.dataSubjectsAtRisk).toBe(0);
      expect(e.specialCategoryData).toBe(false);
      expect(e.score).toBe(15);
      expect(e.level).toBe('LOW');
      expect(e.factors.map((f) => [f.name, f.contribution, f.detail])).toEqual([
        ['specialCategoryData', 0, 'No personal data at risk (service impact only)'],
        ['dataSubjectVolume', 0, "No people's data at risk"],
        ['exfiltration', 0, 'No data at risk to exfiltrate'],
        ['serviceCriticality', 15, 'Most critical service involved: CRITICAL'],
        ['supplyChainDepth', 0, 'Incident at a direct supplier: no reduction'],
      ]);
    });
  });

  describe('rules 1 and 2: windows, in whole UTC days', () => {
    it('exposes contracts whose data-holding window overlaps the incident window, and only those', async () => {
      const s = await supplier();
      const mk = async (
        label: string,
        overrides: Parameters<typeof createContract>[3],
        retention?: string,
      ) => {
        const k = await client(label);
        const c = await contract(k, s, overrides);
        await agreement(c, [DataCategory.CONTACT], 10, { dataRetainedUntil: retention ?? null });
        return k;
      };
      // Incident from 2023-03-22 10:00Z to 2023-03-31 18:00Z.
      const endedDayBefore = await mk('ended the day before', {
        startsOn: '2020-01-01',
        endsOn: '2023-03-21',
      });
      const endedSameDay = await mk('ended the same day', { startsOn: '2020-01-01', endsOn: '2023-03-22' });
      const retained = await mk(
        'retention extends it',
        { startsOn: '2020-01-01', endsOn: '2023-03-01' },
        '2023-03-22',
      );
      const retainedTooShort = await mk(
        'retention ends before',
        { startsOn: '2020-01-01', endsOn: '2023-03-01' },
        '2023-03-21',
      );
      const retentionBeforeEnd = await mk(
        'retention before the end is no extension',
        { startsOn: '2020-01-01', endsOn: '2023-03-21' },
        '2023-03-10',
      );
      const startsDayAfter = await mk('starts the day after containment', {
        startsOn: '2023-04-01',
        endsOn: null,
      });
      const startsSameDay = await mk('starts the day of containment', {
        startsOn: '2023-03-31',
        endsOn: null,
      });
      const openEnded = await mk('open-ended', { startsOn: '2001-01-01', endsOn: null });

      const { exposures } = await recordIncident(s, {
        startedAt: '2023-03-22T10:00:00Z',
        detectedAt: '2023-03-30T00:00:00Z',
        containedAt: '2023-03-31T18:00:00Z',
      });
      const exposed = exposures.map((e) => e.client.id).sort();
      expect(exposed).toEqual([endedSameDay, retained, startsSameDay, openEnded].map(gid.client).sort());
      for (const k of [endedDayBefore, retainedTooShort, retentionBeforeEnd, startsDayAfter])
        expect(forClient(exposures, k)).toBeUndefined();
    });

    it('uses detectedAt when startedAt is unknown, and the UTC day of an instant given with an offset', async () => {
      const s = await supplier();
      const ended20 = await client();
      await contract(ended20, s, { startsOn: '2020-01-01', endsOn: '2023-03-20' });
      const ended21 = await client();
      await contract(ended21, s, { startsOn: '2020-01-01', endsOn: '2023-03-21' });
      // 00:30 at +01:00 is 23:30 UTC on the 21st: the window starts on 21 March.
      const first = await recordIncident(s, { startedAt: null, detectedAt: '2023-03-22T00:30:00+01:00' });
      expect(first.exposures.map((e) => e.client.id)).toEqual([gid.client(ended21)]);
      const second = await recordIncident(s, { startedAt: null, detectedAt: '2023-03-22T00:30:00Z' });
      expect(second.exposures).toEqual([]);
    });
  });

  describe('rules 4, 7, 8 and 10: an incident evolving', () => {
    it('narrowing unknown categories changes the exposure, writes an alert and a revision, and asOf returns the earlier belief', async () => {
      const s = await supplier();
      const k = await client();
      const c = await contract(k, s, { criticality: ServiceCriticality.IMPORTANT });
      await agreement(c, [DataCategory.HEALTH, DataCategory.CONTACT], 150_000);
      const other = await client();
      const c2 = await contract(other, s, { criticality: ServiceCriticality.STANDARD });
      await agreement(c2, [DataCategory.CONTACT], 500);

      const recorded = await recordIncident(s, { dataCategoriesAffected: null, exfiltration: 'CONFIRMED' });
      expect(recorded.exposuresChanged).toBe(2);
      const before = forClient(recorded.exposures, k)!;
      expect(before.dataCategoriesAtRisk).toEqual(['CONTACT', 'HEALTH']);
      expect(before.score).toBe(78); // 30 + 20 + 20 + 8
      expect(before.level).toBe('CRITICAL');
      await sleep(20);

      const updated = await updateIncident(recorded.id, { dataCategoriesAffected: ['CONTACT'] });
      // Only k's exposure changes: the other client's CONTACT data was at risk all along.
      expect(updated.exposuresChanged).toBe(1);
      const after = forClient(updated.exposures, k)!;
      expect(after.id).toBe(before.id);
      expect(after.dataCategoriesAtRisk).toEqual(['CONTACT']);
      expect(after.specialCategoryData).toBe(false);
      expect(after.dataSubjectsAtRisk).toBe(150_000);
      expect(after.score).toBe(53); // 5 + 20 + 20 + 8
      expect(after.level).toBe('HIGH');
      expect(after.revision).toBe(2);
      expect(after.awareAt).toBe(before.awareAt);
      expect(forClient(updated.exposures, other)!.revision).toBe(1);

      const alerts = await app.database.db.query(
        `SELECT a.kind, a.revision FROM exposure_alert a JOIN exposure e ON e.id = a.exposure_id WHERE e.client_id = $1 ORDER BY a.id`,
        [k],
      );
      expect(alerts).toEqual([
        { kind: 'NEW', revision: 1 },
        { kind: 'CHANGED', revision: 2 },
      ]);

      const history = dataOf(
        await app.gql(
          app.analystToken,
          `query($id: ID!) { node(id: $id) { ... on Exposure { history { revision recordedAt score level dataCategoriesAtRisk specialCategoryData resolvedAt } } } }`,
          { id: after.id },
        ),
      ).node.history;
      expect(history.map((h: any) => [h.revision, h.score, h.dataCategoriesAtRisk])).toEqual([
        [1, 78, ['CONTACT', 'HEALTH']],
        [2, 53, ['CONTACT']],
      ]);

      const justAfterFirst = new Date(Date.parse(history[0].recordedAt) + 1).toISOString();
      const justBeforeFirst = new Date(Date.parse(history[0].recordedAt) - 1000).toISOString();
      const asOf = dataOf(
        await app.gql(
          app.analystToken,
          `query($id: ID!, $a: DateTime!, $b: DateTime!, $now: DateTime!) { node(id: $id) { ... on Exposure {
        earlier: asOf(at: $a) { revision score level dataCategoriesAtRisk specialCategoryData notification { status } }
        before: asOf(at: $b) { revision }
        now: asOf(at: $now) { revision score }
      } } }`,
          {
            id: after.id,
            a: justAfterFirst,
            b: justBeforeFirst,
            now: new Date(Date.now() + 1000).toISOString(),
          },
        ),
      ).node;
      expect(asOf.earlier).toEqual({
        revision: 1,
        score: 78,
        level: 'CRITICAL',
        dataCategoriesAtRisk: ['CONTACT', 'HEALTH'],
        specialCategoryData: true,
        notification: { status: 'ASSESSING' },
      });
      expect(asOf.before).toBeNull();
      expect(asOf.now).toEqual({ revision: 2, score: 53 });

      // An update that changes nothing the exposure depends on writes nothing.
      const same = await updateIncident(recorded.id, { title: 'Cyber attack (renamed)' });
      expect(same.exposuresChanged).toBe(0);
      expect(forClient(same.exposures, k)!.revision).toBe(2);
    });

    it('an exposure that stops applying is resolved, hidden by default, visible with includeResolved, never deleted', async () => {
      const s = await supplier();
      const [stays, goes] = [await client(), await client()];
      await agreement(await contract(stays, s), [DataCategory.CONTACT], 10);
      const leaving = await contract(goes, s, { startsOn: '2020-01-01', endsOn: null });
      await agreement(leaving, [DataCategory.FINANCIAL], 20);
      const recorded = await recordIncident(s, { startedAt: '2023-03-22T00:00:00Z' });
      expect(recorded.exposures).toHaveLength(2);
      const gone = forClient(recorded.exposures, goes)!;

      // Removing the contract: the engine resolves the exposure in the same transaction.
      const removed = dataOf(
        await app.gql(
          app.adminToken,
          `mutation($input: RemoveContractInput!) { removeContract(input: $input) { userErrors { code } } }`,
          { input: { id: gid.contract(leaving) } },
        ),
      );
      expect(removed.removeContract.userErrors).toEqual([]);

      const visible = await exposuresOf(recorded.id);
      expect(visible.map((e) => e.client.id)).toEqual([gid.client(stays)]);
      const all = await exposuresOf(recorded.id, { includeResolved: true });
      expect(all).toHaveLength(2);
      const resolved = all.find((e) => e.id === gone.id)!;
      expect(resolved.resolvedAt).not.toBeNull();
      expect(resolved.revision).toBe(2);
      // The resolved exposure keeps what it last said, the removed (archived) contract included.
      expect(resolved.dataCategoriesAtRisk).toEqual(['FINANCIAL']);
      expect(resolved.contracts).toEqual([{ id: gid.contract(leaving) }]);

      const byClient = dataOf(
        await app.gql(
          app.analystToken,
          `query($id: ID!) { node(id: $id) { ... on Client {
        hidden: exposures { totalCount } shown: exposures(filter: { includeResolved: true }) { totalCount edges { node { resolvedAt } } } } } }`,
          { id: gid.client(goes) },
        ),
      ).node;
      expect(byClient.hidden.totalCount).toBe(0);
      expect(byClient.shown.totalCount).toBe(1);
      const summary = dataOf(
        await app.gql(
          app.analystToken,
          `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { clientsExposed } } } }`,
          { id: recorded.id },
        ),
      ).node;
      expect(summary.exposureSummary.clientsExposed).toBe(1);
      // Still there, by id too.
      const byId = dataOf(
        await app.gql(
          app.analystToken,
          `query($id: ID!) { node(id: $id) { ... on Exposure { id resolvedAt } } }`,
          { id: gone.id },
        ),
      ).node;
      expect(byId).toEqual({ id: gone.id, resolvedAt: resolved.resolvedAt });
      const alerts = await app.database.db.query(
        `SELECT a.kind FROM exposure_alert a JOIN exposure e ON e.id = a.exposure_id WHERE e.client_id = $1 ORDER BY a.id`,
        [goes],
      );
      expect(alerts.map((a: { kind: string }) => a.kind)).toEqual(['NEW', 'RESOLVED']);

      // Containment moved before the contract started would resolve too; a new contract brings it back as NEW.
      const back = await contract(goes, s);
      await agreement(back, [DataCategory.HEALTH], 30);
      const again = (await exposuresOf(recorded.id)).find((e) => e.client.id === gid.client(goes))!;
      expect(again.id).toBe(gone.id);
      expect(again.resolvedAt).toBeNull();
      expect(again.dataCategoriesAtRisk).toEqual(['HEALTH']);
      const kinds = await app.database.db.query(
        `SELECT a.kind FROM exposure_alert a WHERE a.exposure_id = $1 ORDER BY a.id`,
        [(await app.database.db.query(`SELECT id FROM exposure WHERE client_id = $1`, [goes]))[0].id],
      );
      expect(kinds.map((a: { kind: string }) => a.kind)).toEqual(['NEW', 'RESOLVED', 'NEW', 'CHANGED']);
    });

    it('narrowing the window with containedAt resolves exposures whose contracts started later', async () => {
      const s = await supplier();
      const late = await client();
      await contract(late, s, { startsOn: '2023-03-28', endsOn: null });
      const recorded = await recordIncident(s, { containedAt: null });
      expect(recorded.exposures).toHaveLength(1);
      const updated = await updateIncident(recorded.id, { containedAt: '2023-03-27T23:59:59Z' });
      expect(updated.exposuresChanged).toBe(1);
      expect(updated.exposures).toEqual([]);
      expect(await exposuresOf(recorded.id, { includeResolved: true })).toHaveLength(1);
    });

    it('a CLOSED incident is not recomputed when the register changes', async () => {
      const s = await supplier();
      const k = await client();
      const recorded = await recordIncident(s, { status: 'CLOSED' });
      expect(recorded.exposures).toEqual([]);
      await contract(k, s);
      expect(await exposuresOf(recorded.id)).toEqual([]);
      // Reopening it recomputes it.
      const updated = await updateIncident(recorded.id, { status: 'CONFIRMED' });
      expect(updated.exposures).toHaveLength(1);
    });
  });

  describe('rule 5: awareAt and the 72-hour deadline', () => {
    it('takes clientsNotifiedAt when it is earlier than the first computation, else the first computation', async () => {
      const s = await supplier();
      const k = await client();
      await contract(k, s);
      const notified = await recordIncident(s, { clientsNotifiedAt: '2023-04-03T06:00:00Z' });
      expect(notified.exposures[0].awareAt).toBe('2023-04-03T06:00:00.000Z');
      expect(notified.exposures[0].notificationDeadline).toBe('2023-04-06T06:00:00.000Z');

      const before = Date.now();
      const unknown = await recordIncident(s, { clientsNotifiedAt: null });
      const after = Date.now();
      const e = unknown.exposures[0];
      expect(Date.parse(e.awareAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(e.awareAt)).toBeLessThanOrEqual(after + 1000);
      expect(e.awareAt).toBe(e.computedAt);
      expect(Date.parse(e.notificationDeadline) - Date.parse(e.awareAt)).toBe(HOURS_72);

      // Told later than the register computed: awareAt stays; told earlier: it moves back, with a new revision.
      const later = await updateIncident(unknown.id, {
        clientsNotifiedAt: new Date(after + 3600_000).toISOString(),
      });
      expect(later.exposuresChanged).toBe(0);
      expect(later.exposures[0].awareAt).toBe(e.awareAt);
      const earlier = await updateIncident(unknown.id, { clientsNotifiedAt: '2023-04-01T12:00:00Z' });
      expect(earlier.exposuresChanged).toBe(1);
      expect(earlier.exposures[0].awareAt).toBe('2023-04-01T12:00:00.000Z');
      expect(earlier.exposures[0].notificationDeadline).toBe('2023-04-04T12:00:00.000Z');
      expect(earlier.exposures[0].revision).toBe(2);
    });
  });

  describe('rule 9: notification decisions', () => {
    it('REPORTED needs reportedAt, NOT_REQUIRED a justification; decisions are kept with who and when', async () => {
      const s = await supplier();
      const [k, other] = [await client(), await client()];
      await agreement(await contract(k, s), [DataCategory.HEALTH], 100);
      await contract(other, s);
      const { id: incidentId, exposures } = await recordIncident(s);
      const exposureId = forClient(exposures, k)!.id;
      const decide = (token: string, input: Record<string, unknown>) =>
        app.gql(
          token,
          `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { field code message } exposure { id notification { status decidedAt decidedBy reportedAt reference justification } } } }`,
          { input: { exposureId, ...input } },
        );
      const clientToken = await app.clientToken(k);

      const noDate = dataOf(
        await decide(clientToken, { status: 'REPORTED', reference: 'ICO-1' }),
      ).recordNotificationDecision;
      expect(noDate.exposure).toBeNull();
      expect(noDate.userErrors).toEqual([
        expect.objectContaining({ field: ['input', 'reportedAt'], code: 'INVALID' }),
      ]);
      const noReason = dataOf(
        await decide(clientToken, { status: 'NOT_REQUIRED', justification: '   ' }),
      ).recordNotificationDecision;
      expect(noReason.userErrors).toEqual([
        expect.objectContaining({ field: ['input', 'justification'], code: 'INVALID' }),
      ]);

      const analyst = await decide(app.analystToken, { status: 'NOT_REQUIRED', justification: 'No risk' });
      expect(analyst.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const stranger = dataOf(
        await decide(await app.clientToken(other), { status: 'NOT_REQUIRED', justification: 'Not ours' }),
      ).recordNotificationDecision;
      expect(stranger.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);

      const reported = dataOf(
        await decide(clientToken, {
          status: 'REPORTED',
          reportedAt: '2023-04-04T10:00:00Z',
          reference: 'ICO/2023/0001',
        }),
      ).recordNotificationDecision;
      expect(reported.userErrors).toEqual([]);
      expect(reported.exposure.notification).toMatchObject({
        status: 'REPORTED',
        reportedAt: '2023-04-04T10:00:00.000Z',
        reference: 'ICO/2023/0001',
        decidedBy: `client-user-${k.slice(0, 8)}`,
        justification: null,
      });
      expect(reported.exposure.notification.decidedAt).not.toBeNull();
      await sleep(10);
      const revised = dataOf(
        await decide(app.adminToken, {
          status: 'NOT_REQUIRED',
          justification: 'Only contact details of staff; no risk to them',
        }),
      ).recordNotificationDecision;
      expect(revised.exposure.notification).toMatchObject({
        status: 'NOT_REQUIRED',
        reportedAt: null,
        justification: 'Only contact details of staff; no risk to them',
        decidedBy: 'test-admin',
      });

      const decisions = await app.database.db.query(
        `SELECT status, reported_at, reference, justification, decided_by_subject, decided_by_role, decided_at FROM notification_decision WHERE exposure_id = (SELECT id FROM exposure WHERE client_id = $1) ORDER BY id`,
        [k],
      );
      expect(decisions.map((d: any) => [d.status, d.decided_by_subject, d.decided_by_role])).toEqual([
        ['REPORTED', `client-user-${k.slice(0, 8)}`, 'client'],
        ['NOT_REQUIRED', 'test-admin', 'admin'],
      ]);
      expect(decisions.every((d: any) => d.decided_at instanceof Date)).toBe(true);

      // The decision is visible on the exposure, to the client itself, and asOf(at) tells the earlier one.
      const seen = await exposuresOf(incidentId, {}, clientToken);
      expect(seen).toHaveLength(1);
      expect(seen[0].notification.status).toBe('NOT_REQUIRED');
      const firstDecidedAt = new Date(decisions[0].decided_at.getTime() + 1).toISOString();
      const asOf = dataOf(
        await app.gql(
          clientToken,
          `query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Exposure { asOf(at: $at) { notification { status reference } } } } }`,
          { id: exposureId, at: firstDecidedAt },
        ),
      ).node;
      expect(asOf.asOf.notification).toEqual({ status: 'REPORTED', reference: 'ICO/2023/0001' });
      // Filter by decision.
      expect(await exposuresOf(incidentId, { notificationStatus: 'NOT_REQUIRED' })).toHaveLength(1);
      expect(await exposuresOf(incidentId, { notificationStatus: 'ASSESSING' })).toHaveLength(1);
    });
  });

  describe('incident exposureSummary', () => {
    it('sums what the exposed clients have at risk', async () => {
      const s = await supplier();
      const [a, b, c] = [await client(), await client(), await client()];
      await agreement(
        await contract(a, s, {
          criticality: ServiceCriticality.CRITICAL,
          value: { amount: '550000000.00', currency: 'GBP' },
        }),
        [DataCategory.HEALTH],
        1_200_000,
      );
      await agreement(
        await contract(b, s, {
          criticality: ServiceCriticality.STANDARD,
          value: { amount: '107000000.50', currency: 'GBP' },
        }),
        [DataCategory.CONTACT],
        40,
      );
      await contract(c, s, {
        criticality: ServiceCriticality.IMPORTANT,
        value: { amount: '1000.00', currency: 'EUR' },
      });
      const { id, exposures } = await recordIncident(s, {
        exfiltration: 'CONFIRMED',
        clientsNotifiedAt: '2023-04-03T06:00:00Z',
      });
      expect(exposures.map((e) => [e.score, e.level])).toEqual([
        [90, 'CRITICAL'],
        [33, 'MEDIUM'],
        [8, 'LOW'],
      ]);
      const summary = dataOf(
        await app.gql(
          app.analystToken,
          `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary {
        clientsExposed clientsWithSpecialCategoryData peopleAtRisk contractValueInvolved { amount currency } nearestDeadline critical high medium low } } } }`,
          { id },
        ),
      ).node.exposureSummary;
      expect(summary).toEqual({
        clientsExposed: 3,
        clientsWithSpecialCategoryData: 1,
        peopleAtRisk: 1_200_040,
        contractValueInvolved: [
          { amount: '1000.00', currency: 'EUR' },
          { amount: '657000000.50', currency: 'GBP' },
        ],
        nearestDeadline: '2023-04-06T06:00:00.000Z',
        critical: 1,
        high: 0,
        medium: 1,
        low: 1,
      });
      // A client sees only its own part.
      const own = dataOf(
        await app.gql(
          await app.clientToken(b),
          `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { clientsExposed peopleAtRisk critical medium } } } }`,
          { id },
        ),
      ).node.exposureSummary;
      expect(own).toEqual({ clientsExposed: 1, peopleAtRisk: 40, critical: 0, medium: 1 });
    });
  });

  describe('rule 6: the score', () => {
    // Plain properties of the reference formula (the one docs/exposure-scoring.md documents).
    const input = fc.record({
      categories: fc.subarray([...ALL_CATEGORIES]),
      people: fc.integer({ min: 0, max: 5_000_000 }),
      exfiltration: fc.constantFrom<Exfiltration>('NONE_FOUND', 'SUSPECTED', 'CONFIRMED'),
      criticality: fc.constantFrom<Criticality>('STANDARD', 'IMPORTANT', 'CRITICAL'),
      depth: fc.integer({ min: 0, max: 6 }),
    });
    const score = (i: ScoreInput) => scoreOf(i).score;

    it('stays within 0..100, the factors sum to it before rounding, and the level is its band', () => {
      fc.assert(
        fc.property(input, (i) => {
          const { score: s, level, factors } = scoreOf(i);
          expect(s).toBeGreaterThanOrEqual(0);
          expect(s).toBeLessThanOrEqual(100);
          expect(Math.abs(factors.reduce((sum, f) => sum + f.contribution, 0) - s)).toBeLessThanOrEqual(0.51);
          expect(level).toBe(levelOf(s));
        }),
        { numRuns: 2000 },
      );
    });

    it('rises with special category data, people, exfiltration and criticality; falls with depth', () => {
      fc.assert(
        fc.property(
          input,
          fc.constantFrom(...ART9),
          fc.integer({ min: 0, max: 5_000_000 }),
          (i, special, morePeople) => {
            expect(score({ ...i, categories: [...i.categories, special] })).toBeGreaterThanOrEqual(score(i));
            expect(score({ ...i, people: i.people + morePeople })).toBeGreaterThanOrEqual(score(i));
            const byExfiltration = (['NONE_FOUND', 'SUSPECTED', 'CONFIRMED'] as const).map((exfiltration) =>
              score({ ...i, exfiltration }),
            );
            expect([...byExfiltration].sort((a, b) => a - b)).toEqual(byExfiltration);
            const byCriticality = (['STANDARD', 'IMPORTANT', 'CRITICAL'] as const).map((criticality) =>
              score({ ...i, criticality }),
            );
            expect([...byCriticality].sort((a, b) => a - b)).toEqual(byCriticality);
            expect(score(i)).toBeGreaterThanOrEqual(score({ ...i, depth: i.depth + 1 }));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('is strictly higher with data at risk: exfiltration and special category each add points', () => {
      const base: ScoreInput = {
        categories: ['CONTACT'],
        people: 5_000,
        exfiltration: 'NONE_FOUND',
        criticality: 'IMPORTANT',
        depth: 0,
      };
      expect(score({ ...base, exfiltration: 'SUSPECTED' })).toBeGreaterThan(score(base));
      expect(score({ ...base, exfiltration: 'CONFIRMED' })).toBeGreaterThan(
        score({ ...base, exfiltration: 'SUSPECTED' }),
      );
      expect(score({ ...base, categories: ['CONTACT', 'HEALTH'] })).toBeGreaterThan(score(base));
      expect(score({ ...base, people: 500_000 })).toBeGreaterThan(score(base));
      expect(score({ ...base, criticality: 'CRITICAL' })).toBeGreaterThan(score(base));
      expect(score(base)).toBeGreaterThan(score({ ...base, depth: 1 }));
    });

    it('is LOW whenever no data is at risk', () => {
      fc.assert(
        fc.property(input, (i) => {
          expect(scoreOf({ ...i, categories: [], people: 0 }).level).toBe('LOW');
        }),
      );
    });

    it('orders crafted exposures the same way through the engine', async () => {
      const s = await supplier();
      const up = await supplier();
      await linkSubprocessor(app.services, up, s);
      const craft = async (
        supplierId: string,
        criticality: ServiceCriticality,
        categories: DataCategory[] | null,
        people = 5_000,
      ) => {
        const k = await client();
        const c = await contract(k, supplierId, { criticality });
        if (categories) await agreement(c, categories, people);
        return k;
      };
      const plain = await craft(s, ServiceCriticality.IMPORTANT, [DataCategory.CONTACT]);
      const special = await craft(s, ServiceCriticality.IMPORTANT, [
        DataCategory.CONTACT,
        DataCategory.HEALTH,
      ]);
      const many = await craft(s, ServiceCriticality.IMPORTANT, [DataCategory.CONTACT], 500_000);
      const critical = await craft(s, ServiceCriticality.CRITICAL, [DataCategory.CONTACT]);
      const standard = await craft(s, ServiceCriticality.STANDARD, [DataCategory.CONTACT]);
      const deeper = await craft(up, ServiceCriticality.IMPORTANT, [DataCategory.CONTACT]);
      const noData = await craft(s, ServiceCriticality.CRITICAL, null);
      const unaffected = await craft(s, ServiceCriticality.CRITICAL, [DataCategory.GENETIC], 3_000_000);

      const criticalityOf = new Map([
        [plain, 'IMPORTANT'],
        [special, 'IMPORTANT'],
        [many, 'IMPORTANT'],
        [critical, 'CRITICAL'],
        [standard, 'STANDARD'],
        [deeper, 'IMPORTANT'],
        [noData, 'CRITICAL'],
        [unaffected, 'CRITICAL'],
      ] as const);
      const scoresBy: Record<string, Map<string, Exposure>> = {};
      const recorded = await recordIncident(s, {
        exfiltration: 'NONE_FOUND',
        dataCategoriesAffected: ['CONTACT', 'HEALTH', 'FINANCIAL'],
      });
      for (const exfiltration of ['NONE_FOUND', 'SUSPECTED', 'CONFIRMED'] as const) {
        const { exposures } =
          exfiltration === 'NONE_FOUND' ? recorded : await updateIncident(recorded.id, { exfiltration });
        expect(exposures).toHaveLength(8);
        scoresBy[exfiltration] = new Map([...criticalityOf.keys()].map((k) => [k, forClient(exposures, k)!]));
        for (const [k, criticality] of criticalityOf)
          expectScoredLikeReference(scoresBy[exfiltration].get(k)!, exfiltration, criticality);
      }
      for (const exfiltration of ['NONE_FOUND', 'SUSPECTED', 'CONFIRMED'] as const) {
        const at = (k: string) => scoresBy[exfiltration].get(k)!.score;
        expect(at(special)).toBeGreaterThan(at(plain));
        expect(at(many)).toBeGreaterThan(at(plain));
        expect(at(critical)).toBeGreaterThan(at(plain));
        expect(at(plain)).toBeGreaterThan(at(standard));
        expect(at(plain)).toBeGreaterThanOrEqual(at(deeper));
        expect(scoresBy[exfiltration].get(noData)!.level).toBe('LOW');
        expect(scoresBy[exfiltration].get(unaffected)!.level).toBe('LOW');
        expect(scoresBy[exfiltration].get(unaffected)!.dataSubjectsAtRisk).toBe(0);
      }
      expect(scoresBy.NONE_FOUND.get(plain)!.score).toBeLessThan(scoresBy.SUSPECTED.get(plain)!.score);
      expect(scoresBy.SUSPECTED.get(plain)!.score).toBeLessThan(scoresBy.CONFIRMED.get(plain)!.score);
      // No data at risk: exfiltration adds nothing.
      expect(scoresBy.CONFIRMED.get(noData)!.score).toBe(scoresBy.NONE_FOUND.get(noData)!.score);
    });
  });
});
