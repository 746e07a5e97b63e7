/**
 * The engine's answers a regulator would check (issue "Exposure engine truth"), each through GraphQL:
 * the score is the rounded sum of the factors as displayed; a dense, cyclic supply chain costs a walk
 * linear in its links; retention belongs to each agreement; nothing is exposed before its contract starts
 * (and a daily job exposes it when that day comes); the depth is that of the data; people at risk is a range.
 */
import fc from 'fast-check';
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { decodeIdOf, encodeGlobalId } from '../../src/common/global-id';
import { startedContractsJob } from '../../src/modules/exposure/exposure.engine';
import { DailyJobRunner } from '../../src/modules/schedule/daily-jobs';
import { createServices } from '../../src/services';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { attachToDatabase } from '../support/database';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { Category, Criticality, chainsTo, scoreOf } from './reference';

const gid = {
  supplier: (id: string) => encodeGlobalId('Supplier', id),
  client: (id: string) => encodeGlobalId('Client', id),
};

const EXPOSURE = `id score level dataSubjectsAtRisk dataSubjectsAtRiskRange { low high } dataCategoriesAtRisk
  factors { name contribution } path { id } contracts { id } client { id }
  history { revision dataSubjectsAtRiskRange { low high } }`;
const RECORD = `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) {
  exposuresChanged userErrors { field code message }
  incident { id shareOfDataAffected exposureSummary { clientsExposed peopleAtRisk peopleAtRiskRange { low high } }
    exposures(first: 100) { totalCount edges { node { ${EXPOSURE} } } } } } }`;
const UPDATE = RECORD.replace(
  'mutation($input: RecordIncidentInput!) { recordIncident(',
  'mutation($input: UpdateIncidentInput!) { updateIncident(',
);

interface Exposure {
  id: string;
  score: number;
  level: string;
  dataSubjectsAtRisk: number;
  dataSubjectsAtRiskRange: { low: number; high: number };
  dataCategoriesAtRisk: string[];
  factors: { name: string; contribution: number }[];
  path: { id: string }[];
  contracts: { id: string }[];
  client: { id: string };
  history: { revision: number; dataSubjectsAtRiskRange: { low: number; high: number } }[];
}

const INCIDENT_2023 = {
  title: 'Cyber attack',
  kind: 'CYBER_ATTACK',
  status: 'CONFIRMED',
  startedAt: '2023-03-22T00:00:00Z',
  detectedAt: '2023-03-31T00:00:00Z',
  exfiltration: 'SUSPECTED',
};

/** Sum of the contributions in whole cents, as a person adding up the displayed factors would. */
const displayedSum = (e: Pick<Exposure, 'factors'>) =>
  e.factors.reduce((cents, f) => cents + Math.round(f.contribution * 100), 0) / 100;

describe('exposure engine truth', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const supplier = async () => (await createSupplier(app.services)).id;
  const client = async () => (await createClient(app.services)).id;

  async function record(supplierId: string, input: Record<string, unknown> = {}) {
    const response = await app.gql(app.analystToken, RECORD, {
      input: { supplierId: gid.supplier(supplierId), ...INCIDENT_2023, ...input },
    });
    const payload = dataOf(response).recordIncident;
    return {
      ...payload,
      sqlStatements: response.sqlStatements,
      exposures: (payload.incident?.exposures.edges ?? []).map(
        (e: { node: Exposure }) => e.node,
      ) as Exposure[],
    } as {
      incident: any;
      userErrors: unknown[];
      exposuresChanged: number;
      exposures: Exposure[];
      sqlStatements?: number;
    };
  }

  async function update(incidentId: string, input: Record<string, unknown>) {
    const payload = dataOf(
      await app.gql(app.analystToken, UPDATE, { input: { id: incidentId, ...input } }),
    ).updateIncident;
    return {
      ...payload,
      exposures: (payload.incident?.exposures.edges ?? []).map(
        (e: { node: Exposure }) => e.node,
      ) as Exposure[],
    } as {
      incident: any;
      userErrors: unknown[];
      exposuresChanged: number;
      exposures: Exposure[];
      sqlStatements?: number;
    };
  }

  /** A chain S_depth → … → S_1 → S_0 of supplier-level links; returns [S_0, …, S_depth]. */
  async function chain(depth: number): Promise<string[]> {
    const suppliers = [await supplier()];
    for (let i = 1; i <= depth; i += 1) {
      suppliers.push(await supplier());
      await linkSubprocessor(app.services, suppliers[i], suppliers[i - 1]);
    }
    return suppliers;
  }

  describe('rule 6: the score is the rounded sum of the factors as displayed', () => {
    it('rounds 42.5 up to 43 for the chain X→Y1→Y2→S (IMPORTANT, HEALTH for 1,000,000 people, CONFIRMED)', async () => {
      const [s, , , x] = await chain(3);
      const k = await client();
      const contract = await createContract(app.services, k, x, {
        criticality: ServiceCriticality.IMPORTANT,
      });
      await createAgreement(app.services, contract.id, {
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 1_000_000,
      });
      const { exposures } = await record(s, { exfiltration: 'CONFIRMED' });
      expect(exposures).toHaveLength(1);
      const [e] = exposures;
      expect(e.factors.map((f) => f.contribution)).toEqual([30, 25, 20, 8, -40.5]);
      expect(displayedSum(e)).toBe(42.5);
      expect(e.score).toBe(43);
      expect(e.level).toBe('MEDIUM');
    });

    it('holds for any depth and mix of facts: score = round(sum of the displayed contributions)', async () => {
      const suppliers = await chain(14);
      const incidentSupplier = suppliers[0];
      const spec = fc.record({
        depth: fc.integer({ min: 0, max: 14 }),
        categories: fc.subarray(
          [DataCategory.CONTACT, DataCategory.HEALTH, DataCategory.CHILDREN, DataCategory.FINANCIAL],
          { minLength: 1 },
        ),
        people: fc.constantFrom(0, 5, 150, 20_000, 250_000, 2_000_000),
        criticality: fc.constantFrom(
          ServiceCriticality.CRITICAL,
          ServiceCriticality.IMPORTANT,
          ServiceCriticality.STANDARD,
        ),
      });
      const samples = fc.sample(fc.array(spec, { minLength: 12, maxLength: 12 }), {
        numRuns: 1,
        seed: 20261201,
      })[0];
      const criticalityOf = new Map<string, Criticality>();
      for (const sample of samples) {
        const k = await client();
        criticalityOf.set(gid.client(k), sample.criticality as Criticality);
        const contract = await createContract(app.services, k, suppliers[sample.depth], {
          criticality: sample.criticality,
        });
        await createAgreement(app.services, contract.id, {
          dataCategories: sample.categories,
          dataSubjectCount: sample.people,
        });
      }
      for (const exfiltration of ['NONE_FOUND', 'SUSPECTED', 'CONFIRMED'] as const) {
        const { exposures } = await record(incidentSupplier, { exfiltration });
        const ours = exposures.filter((e) => criticalityOf.has(e.client.id));
        expect(ours).toHaveLength(samples.length);
        for (const e of ours) {
          expect(e.score).toBe(Math.round(displayedSum(e)));
          // …and it is the reference formula applied to what the exposure says.
          const reference = scoreOf({
            categories: e.dataCategoriesAtRisk as Category[],
            people: e.dataSubjectsAtRisk,
            exfiltration,
            criticality: criticalityOf.get(e.client.id)!,
            depth: e.path.length - 1,
          });
          expect({ score: e.score, factors: e.factors }).toEqual({
            score: reference.score,
            factors: reference.factors,
          });
        }
      }
    });
  });

  describe('rule 3: a dense, cyclic supply chain costs a walk linear in its links', () => {
    it('records an incident on a ring of 760 suppliers with two extra links each, with the shortest chains and no more statements', async () => {
      // The case that used to hit the statement timeout. Built in SQL: 760 suppliers, 2,280 links.
      const N = 760;
      const ids: string[] = (
        await app.database.db.query(
          `INSERT INTO supplier (name, country, tier) SELECT 'Ring ' || g, 'GB', 'STANDARD' FROM generate_series(0, $1 - 1) g RETURNING id`,
          [N],
        )
      ).map((row: { id: string }) => row.id);
      const links: { supplierId: string; subprocessorId: string }[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < N; i += 1) {
        for (const j of [(i + 1) % N, (i * 7 + 13) % N, (i * 31 + 101) % N]) {
          if (j === i || seen.has(`${i}>${j}`)) continue;
          seen.add(`${i}>${j}`);
          links.push({ supplierId: ids[i], subprocessorId: ids[j] });
        }
      }
      await app.database.db.query(
        `INSERT INTO supplier_subprocessor (supplier_id, subprocessor_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
        [links.map((l) => l.supplierId), links.map((l) => l.subprocessorId)],
      );
      const clients: string[] = [];
      for (const i of [1, 100, 379, 500, 759]) {
        const k = await client();
        clients.push(k);
        const contract = await createContract(app.services, k, ids[i]);
        await createAgreement(app.services, contract.id, {
          dataCategories: [DataCategory.CONTACT],
          dataSubjectCount: 100,
        });
      }

      // The same mutation on a small register with as many exposures: the statement count must not differ.
      const [smallTarget, smallParent] = await chain(1);
      for (const _ of clients) {
        const contract = await createContract(app.services, await client(), smallParent);
        await createAgreement(app.services, contract.id, {
          dataCategories: [DataCategory.CONTACT],
          dataSubjectCount: 100,
        });
      }
      const small = await record(smallTarget);
      expect(small.exposures).toHaveLength(clients.length);
      const dense = await record(ids[0]);
      expect(dense.userErrors).toEqual([]);
      expect(dense.exposures).toHaveLength(clients.length);
      const shortest = chainsTo(links, ids[0]);
      for (const [n, i] of [1, 100, 379, 500, 759].entries()) {
        const e = dense.exposures.find((x) => x.client.id === gid.client(clients[n]))!;
        expect(e.path.map((p) => p.id)).toEqual(shortest(ids[i])!.map(gid.supplier));
      }
      // The walk is part of the engine's one statement: the same count as for a two-supplier register.
      expect(dense.sqlStatements).toBe(small.sqlStatements);
    });
  });

  describe('rule 2: windows', () => {
    it('takes retention per agreement: contact data kept to 2025 does not bring in health data that ended in 2022', async () => {
      const s = await supplier();
      const k = await client();
      const contract = await createContract(app.services, k, s, {
        startsOn: '2018-01-01',
        endsOn: '2022-12-31',
        criticality: ServiceCriticality.STANDARD,
      });
      await createAgreement(app.services, contract.id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 10,
        dataRetainedUntil: '2025-12-31',
      });
      await createAgreement(app.services, contract.id, {
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 900_000,
        dataRetainedUntil: null,
      });
      const { exposures } = await record(s, {
        startedAt: '2024-03-01T00:00:00Z',
        detectedAt: '2024-03-02T00:00:00Z',
        exfiltration: 'NONE_FOUND',
      });
      expect(exposures).toHaveLength(1);
      expect(exposures[0]).toMatchObject({
        dataCategoriesAtRisk: ['CONTACT'],
        dataSubjectsAtRisk: 10,
        score: 13,
        level: 'LOW',
      });
    });

    it('exposes a contract that has not started yet only from its first day, by the daily job, once across instances', async () => {
      const s = await supplier();
      const future = await client();
      const started = await client();
      const later = await createContract(app.services, future, s, { startsOn: '2030-01-02' });
      await createAgreement(app.services, later.id, {
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 5_000,
      });
      const today = new Date().toISOString().slice(0, 10);
      const now = await createContract(app.services, started, s, { startsOn: today });
      await createAgreement(app.services, now.id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 50,
      });

      const incident = await record(s, { startedAt: '2023-03-22T00:00:00Z' });
      // A contract that starts today is exposed today; one that starts in 2030 is not, and has no 72-hour clock running.
      expect(incident.exposures.map((e) => e.client.id)).toEqual([gid.client(started)]);

      // Two instances tick on 2 January 2030: exactly one recomputes, and the exposure appears with a NEW alert.
      const second = await attachToDatabase(app.database);
      try {
        const clock = () => new Date('2030-01-02T00:05:00Z');
        const runners = [app.database.db, second.db].map(
          (db) =>
            new DailyJobRunner(db, [startedContractsJob(createServices(db).engine)], {
              intervalMs: 0,
              clock,
            }),
        );
        const outcomes = (await Promise.all(runners.map((runner) => runner.runDue()))).flat();
        expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
        expect(outcomes.find((o) => o.ran)!.changed).toBe(1);
        const alerts = await app.database.db.query(
          `SELECT a.kind FROM exposure_alert a JOIN exposure e ON e.id = a.exposure_id WHERE e.client_id = $1`,
          [future],
        );
        expect(alerts).toEqual([{ kind: 'NEW' }]);
        // Its revision says why it was written (rule 11).
        const reasons = await app.database.db.query(
          `SELECT r.reason FROM exposure_revision r JOIN exposure e ON e.id = r.exposure_id WHERE e.client_id = $1`,
          [future],
        );
        expect(reasons).toEqual([{ reason: 'CONTRACT_STARTED' }]);
        // The same day again: nothing to do.
        expect((await runners[0].runDue())[0].ran).toBe(false);
      } finally {
        await second.drop();
      }
    });
  });

  describe('rule 6: the depth is the depth of the data', () => {
    it('a service-only direct contract does not lend depth 0 to health data held two links down', async () => {
      const [s, y, x] = await chain(2);
      const k = await client();
      const service = await createContract(app.services, k, s, { criticality: ServiceCriticality.CRITICAL });
      const data = await createContract(app.services, k, x, { criticality: ServiceCriticality.IMPORTANT });
      await createAgreement(app.services, data.id, {
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 100_000,
      });
      const { exposures } = await record(s, { exfiltration: 'CONFIRMED' });
      expect(exposures).toHaveLength(1);
      const [e] = exposures;
      expect(e.path.map((p) => p.id)).toEqual([x, y, s].map(gid.supplier));
      expect(e.contracts.map((c) => decodeIdOf('Contract', c.id)).sort()).toEqual(
        [service.id, data.id].sort(),
      );
      // 30 + 20 + 20 + 15 (the critical service still counts) = 85, two links down: x 0.64 = 54.4, HIGH (not 85 CRITICAL).
      expect(e.score).toBe(
        scoreOf({
          categories: ['HEALTH'],
          people: 100_000,
          exfiltration: 'CONFIRMED',
          criticality: 'CRITICAL',
          depth: 2,
        }).score,
      );
      expect(e.score).toBe(54);
      expect(e.level).toBe('HIGH');
    });
  });

  describe('rule 4: people at risk is an estimate, given as a range', () => {
    it("gives the largest agreement and the sum, scaled by the incident's share of data affected; the score keeps the sum", async () => {
      const s = await supplier();
      const [k1, k2] = [await client(), await client()];
      const c1 = await createContract(app.services, k1, s);
      await createAgreement(app.services, c1.id, {
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 900,
      });
      await createAgreement(app.services, c1.id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 300,
      });
      const c2 = await createContract(app.services, k2, s);
      await createAgreement(app.services, c2.id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 1_000,
      });

      const whole = await record(s);
      const e1 = whole.exposures.find((e) => e.client.id === gid.client(k1))!;
      expect(e1.dataSubjectsAtRisk).toBe(1_200);
      expect(e1.dataSubjectsAtRiskRange).toEqual({ low: 900, high: 1_200 });
      expect(whole.incident.exposureSummary.peopleAtRiskRange).toEqual({ low: 1_000, high: 2_200 });

      const share = await record(s, { shareOfDataAffected: 0.04 });
      expect(share.incident.shareOfDataAffected).toBe(0.04);
      const s1 = share.exposures.find((e) => e.client.id === gid.client(k1))!;
      expect(s1.dataSubjectsAtRiskRange).toEqual({ low: 36, high: 48 }); // floor(900 x 0.04), ceil(1,200 x 0.04)
      expect(s1.dataSubjectsAtRisk).toBe(1_200);
      expect(s1.score).toBe(e1.score);
      expect(share.incident.exposureSummary).toMatchObject({
        peopleAtRisk: 2_200,
        peopleAtRiskRange: { low: 40, high: 88 },
      });

      // A new estimate of the share is a change: a revision with the new range.
      const updated = await update(share.incident.id, { shareOfDataAffected: 0.5 });
      expect(updated.exposuresChanged).toBe(2);
      const u1 = updated.exposures.find((e) => e.client.id === gid.client(k1))!;
      expect(u1.history.map((h) => h.dataSubjectsAtRiskRange)).toEqual([
        { low: 36, high: 48 },
        { low: 450, high: 600 },
      ]);
      // Unknown again: all of it.
      const cleared = await update(share.incident.id, { shareOfDataAffected: null });
      expect(cleared.incident.shareOfDataAffected).toBeNull();
      expect(cleared.exposures.find((e) => e.client.id === gid.client(k1))!.dataSubjectsAtRiskRange).toEqual({
        low: 900,
        high: 1_200,
      });
    });

    it('refuses a share that is not more than 0 and at most 1 with 4 decimal places, writing nothing', async () => {
      const s = await supplier();
      for (const [value, message] of [
        [0, /more than 0/],
        [1.5, /at most 1/],
        [0.12345, /4 decimal places/],
        [-0.1, /more than 0/],
      ] as const) {
        const payload = await record(s, { shareOfDataAffected: value });
        expect(payload.incident).toBeNull();
        expect(payload.userErrors).toEqual([
          expect.objectContaining({
            field: ['input', 'shareOfDataAffected'],
            code: 'INVALID',
            message: expect.stringMatching(message),
          }),
        ]);
      }
      const [{ n }] = await app.database.db.query(
        `SELECT count(*)::int AS n FROM incident WHERE supplier_id = $1`,
        [s],
      );
      expect(n).toBe(0);
    });
  });
});
