/**
 * Real concurrent transactions (the pool has 10 connections): after each race the exposures must be what
 * the reference gives for the final register, as if the writes had run one after the other, with one
 * revision and one alert per change and no error (deadlock, unique violation) on either side.
 * Each scenario is repeated on a fresh register to give races a chance to show.
 */
import pino from 'pino';
import type { QueryRunner } from 'typeorm';
import { ClientSector, IncidentStatus } from '../../src/common/enums';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { encodeGlobalId } from '../../src/common/global-id';
import { IncidentSpec, World, clearRegister, readExposures } from './harness';
import { subscribe } from '../alert/subscriber';
import { XLSX, download, sheetsOf, upload, workbook } from '../register-io/support';
import { FACTORY_ADMIN } from '../support/factories';
import { RegulatoryRegime } from '../../src/modules/obligation/regimes';
import { refNextDueAt } from './reference';
import { ObligationReminderJob } from '../../src/modules/obligation/obligation.reminders';
import { EXPOSURE_LOCK_KEY } from '../../src/modules/exposure/exposure.lock';

const REPEATS = Number(process.env.CONCURRENCY_REPEATS ?? 12);

const incidentAt = (overrides: Partial<IncidentSpec> = {}): IncidentSpec => ({
  startedAt: new Date('2023-03-22T00:00:00Z'),
  detectedAt: new Date('2023-03-31T00:00:00Z'),
  containedAt: null,
  clientsNotifiedAt: null,
  dataCategoriesAffected: null,
  exfiltration: 'SUSPECTED',
  status: IncidentStatus.CONFIRMED,
  ...overrides,
});

/** Like Promise.all, but waits for every write to finish before failing, so no transaction outlives the round. */
async function together<T extends readonly unknown[]>(
  ...work: { [K in keyof T]: Promise<T[K]> }
): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

const OPEN = { startsOn: '2020-01-01', endsOn: null, criticality: 'IMPORTANT' as const };

describe('exposures under concurrent writes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  async function expectAsIfSerial(world: World, since: Date): Promise<void> {
    const problems = await world.verify(app.database.db, { since, lenient: true });
    if (problems.length) throw new Error(`${problems.join('\n')}\n--- register ---\n${world.describe()}`);
  }

  it('(a) two incidents recorded at once at suppliers serving overlapping clients', async () => {
    for (let round = 0; round < REPEATS; round += 1) {
      await clearRegister(app.database);
      const world = new World(app.services);
      const [a, b, cloud] = [await world.supplier(), await world.supplier(), await world.supplier()];
      await world.link(a, cloud);
      await world.link(b, cloud);
      const clients = await Promise.all([1, 2, 3, 4, 5].map(() => world.client()));
      for (const [i, client] of clients.entries()) {
        if (i !== 4) {
          const c = await world.contract(client, a, OPEN);
          await world.agreement(c, {
            categories: ['HEALTH'],
            dataSubjectCount: 1000 * (i + 1),
            dataRetainedUntil: null,
            subprocessorIds: [],
          });
        }
        if (i !== 0) {
          const c = await world.contract(client, b, { ...OPEN, criticality: 'CRITICAL' });
          await world.agreement(c, {
            categories: ['CONTACT'],
            dataSubjectCount: 50_000,
            dataRetainedUntil: null,
            subprocessorIds: [],
          });
        }
      }
      const since = new Date();
      // Each recordIncident recomputes only its own incident: the model's predictions hold in any order.
      const results = await together(
        world.recordIncident(a, incidentAt({ exfiltration: 'CONFIRMED' })),
        world.recordIncident(b, incidentAt({ dataCategoriesAffected: ['CONTACT'] })),
        world.recordIncident(cloud, incidentAt({ dataCategoriesAffected: ['HEALTH'] })),
      );
      for (const result of results) expect(result.exposuresChanged).toBe(result.expectedChanged);
      expect(results.map((r) => r.exposuresChanged)).toEqual([4, 4, 5]);
      const problems = await world.verify(app.database.db, { since });
      if (problems.length) throw new Error(`round ${round}:\n${problems.join('\n')}\n${world.describe()}`);
    }
  });

  it('(b) an incident recorded while a contract that exposes a new client is being added', async () => {
    for (let round = 0; round < REPEATS; round += 1) {
      await clearRegister(app.database);
      const world = new World(app.services);
      const [capita, cloud] = [await world.supplier(), await world.supplier()];
      await world.link(capita, cloud);
      const [old, newcomer, viaAgreement] = [
        await world.client(),
        await world.client(),
        await world.client(),
      ];
      const existing = await world.contract(old, capita, OPEN);
      await world.agreement(existing, {
        categories: ['HEALTH'],
        dataSubjectCount: 2_000_000,
        dataRetainedUntil: null,
        subprocessorIds: [],
      });
      const other = await world.supplier();
      const since = new Date();
      // Through GraphQL for the incident, through the service for the contracts: three transactions at once.
      let incidentId = '';
      await world.untracked(async () => {
        const [recorded] = await together(
          world.recordIncident(cloud, incidentAt({ exfiltration: 'CONFIRMED' })),
          world.contract(newcomer, capita, { ...OPEN, criticality: 'CRITICAL' }),
          (async () => {
            const c = await world.contract(viaAgreement, other, OPEN);
            await world.agreement(c, {
              categories: ['CONTACT', 'CHILDREN'],
              dataSubjectCount: 300,
              dataRetainedUntil: null,
              subprocessorIds: [cloud],
            });
          })(),
        );
        incidentId = recorded.id;
      });
      await expectAsIfSerial(world, since);
      const rows = (await readExposures(app.database.db)).filter((r) => r.incidentId === incidentId);
      expect(rows.map((r) => r.clientId).sort()).toEqual([old, newcomer, viaAgreement].sort());
      // Whichever ran first, the newcomer's exposure was created exactly once, with one NEW alert.
      const newcomerRow = rows.find((r) => r.clientId === newcomer)!;
      expect(newcomerRow.revision).toBe(1);
      expect(newcomerRow.alertKinds).toEqual(['NEW']);
      expect(newcomerRow.path).toEqual([capita, cloud]);
      const agreementRow = rows.find((r) => r.clientId === viaAgreement)!;
      expect(agreementRow.path).toEqual([other, cloud]);
      expect(agreementRow.categories).toEqual(['CHILDREN', 'CONTACT']);
    }
  });

  it('(c) an incident update while an agreement is changed', async () => {
    for (let round = 0; round < REPEATS; round += 1) {
      await clearRegister(app.database);
      const world = new World(app.services);
      const [capita, cloud, printer] = [
        await world.supplier(),
        await world.supplier(),
        await world.supplier(),
      ];
      const [dwp, council] = [await world.client(), await world.client()];
      const dwpContract = await world.contract(dwp, capita, { ...OPEN, criticality: 'CRITICAL' });
      const dwpAgreement = await world.agreement(dwpContract, {
        categories: ['HEALTH', 'CONTACT'],
        dataSubjectCount: 2_000_000,
        dataRetainedUntil: null,
        subprocessorIds: [],
      });
      const councilContract = await world.contract(council, printer, OPEN);
      const councilAgreement = await world.agreement(councilContract, {
        categories: ['FINANCIAL', 'CONTACT'],
        dataSubjectCount: 40_000,
        dataRetainedUntil: null,
        subprocessorIds: [],
      });
      await world.link(capita, cloud);
      const { id: incident } = await world.recordIncident(cloud, incidentAt());
      const since = new Date();
      // The update narrows the categories; the agreement changes make the council newly exposed (an
      // agreement-level link to the incident's supplier) and change DWP's data: both touch this incident.
      try {
        await world.untracked(() =>
          together(
            world.updateIncident(incident, {
              dataCategoriesAffected: ['CONTACT', 'FINANCIAL'],
              exfiltration: 'CONFIRMED',
            }),
            world.updateAgreement(councilAgreement, { subprocessorIds: [cloud] }),
            world.updateAgreement(dwpAgreement, { dataSubjectCount: 2_500_000 }),
          ),
        );
      } catch (error) {
        // updateIncident locks the incident row FOR UPDATE before the exposure lock; a register write
        // holding the exposure lock then inserts a new exposure of that incident, whose foreign key check
        // needs FOR KEY SHARE on the same row: a lock cycle. FOR NO KEY UPDATE does not conflict with it.
        if (/deadlock/.test(String(error)))
          throw new Error(`round ${round}: ${String(error)} (see the comment above this line)`, {
            cause: error,
          });
        throw error;
      }
      await expectAsIfSerial(world, since);
      const rows = (await readExposures(app.database.db)).filter((r) => r.incidentId === incident);
      expect(rows.map((r) => [r.clientId, r.categories, r.people])).toEqual(
        expect.arrayContaining([
          [dwp, ['CONTACT'], 2_500_000],
          [council, ['CONTACT', 'FINANCIAL'], 40_000],
        ]),
      );
    }
  });

  it('(c, forced) the incident update holds its row lock while an agreement change computes', async () => {
    // Deterministic version of the race above: a third connection holds the engine's lock (the advisory
    // lock key of exposure.engine.ts) so that the agreement change queues for it first, then the incident
    // update queues behind it holding its incident row lock. Releasing the lock lets them run in that order.
    const ENGINE_LOCK_KEY = 7_331_001;
    await clearRegister(app.database);
    const world = new World(app.services);
    const [capita, cloud] = [await world.supplier(), await world.supplier()];
    const council = await world.client();
    const councilAgreement = await world.agreement(await world.contract(council, capita, OPEN), {
      categories: ['FINANCIAL'],
      dataSubjectCount: 40_000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const { id: incident } = await world.recordIncident(cloud, incidentAt());
    const waiting = async (n: number) => {
      for (let i = 0; i < 500; i += 1) {
        const [{ count }] = await app.database.db.query(
          `SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        );
        if (count >= n) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`never saw ${n} transactions waiting for the engine lock`);
    };
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    const since = new Date();
    let outcome: PromiseSettledResult<unknown>[];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      await world.untracked(async () => {
        const agreementChange = world.updateAgreement(councilAgreement, { subprocessorIds: [cloud] });
        await waiting(1);
        const incidentUpdate = world.updateIncident(incident, { exfiltration: 'CONFIRMED' });
        await waiting(2);
        await holder.commitTransaction();
        outcome = await Promise.allSettled([agreementChange, incidentUpdate]);
      });
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    const failures = outcome!
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => String(o.reason));
    // A deadlock here: updateIncident locks the incident FOR UPDATE before the engine's lock, and the
    // agreement change's new exposure of that incident needs FOR KEY SHARE on the row (its foreign key).
    expect(failures).toEqual([]);
    await expectAsIfSerial(world, since);
  });

  it('(d) the same races through GraphQL: recordIncident and createContract at once', async () => {
    for (let round = 0; round < Math.ceil(REPEATS / 2); round += 1) {
      await clearRegister(app.database);
      const world = new World(app.services);
      const supplier = await world.supplier();
      const [first, second] = [await world.client(), await world.client()];
      await world.contract(first, supplier, OPEN);
      const [recorded, created] = await together(
        app.gql(
          app.analystToken,
          `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id } exposuresChanged userErrors { code } } }`,
          {
            input: {
              supplierId: encodeGlobalId('Supplier', supplier),
              title: 'Race',
              kind: 'CYBER_ATTACK',
              status: 'CONFIRMED',
              detectedAt: '2023-03-31T00:00:00Z',
              exfiltration: 'SUSPECTED',
            },
          },
        ),
        app.gql(
          app.adminToken,
          `mutation($input: CreateContractInput!) { createContract(input: $input) { contract { id } userErrors { code } } }`,
          {
            input: {
              clientId: encodeGlobalId('Client', second),
              supplierId: encodeGlobalId('Supplier', supplier),
              reference: `R-${round}`,
              title: 'Race',
              startsOn: '2020-01-01',
              criticality: 'STANDARD',
            },
          },
        ),
      );
      expect(dataOf(recorded).recordIncident.userErrors).toEqual([]);
      expect(dataOf(created).createContract.userErrors).toEqual([]);
      const rows = await readExposures(app.database.db);
      expect(rows.map((r) => r.clientId).sort()).toEqual([first, second].sort());
      expect(
        rows.every((r) => r.revision === 1 && r.alertKinds.join() === 'NEW' && r.resolvedAt === null),
      ).toBe(true);
      // Serial equivalent: recordIncident counted 2 if it ran second, 1 if it ran first.
      expect([1, 2]).toContain(dataOf(recorded).recordIncident.exposuresChanged);
    }
  });
  /**
   * Gate: a trigger on exposure makes every insert of an exposure to an incident at `supplierId` take a
   * shared advisory lock that this test holds, so recordIncident stops inside its engine statement (after the statement's snapshot, before it
   * has written anything) for as long as the test wants: the race of a register write committing in the
   * middle of a large incident's computation, made deterministic, with no timing involved.
   */
  const GATE_KEY = 7_331_999;
  const ENGINE_LOCK_KEY = 7_331_001;
  async function withGate(
    supplierId: string,
    work: (release: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    await app.database.asOwner(async (owner) => {
      await owner.query(`
        CREATE OR REPLACE FUNCTION test_exposure_gate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM incident WHERE id = NEW.incident_id AND supplier_id = '${supplierId}') THEN
            PERFORM pg_advisory_xact_lock_shared(${GATE_KEY});
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_exposure_gate BEFORE INSERT ON exposure FOR EACH ROW EXECUTE FUNCTION test_exposure_gate();`);
      await owner.query(`SELECT pg_advisory_lock($1)`, [GATE_KEY]);
      let held = true;
      const release = async () => {
        if (held) await owner.query(`SELECT pg_advisory_unlock($1)`, [GATE_KEY]);
        held = false;
      };
      try {
        await work(release);
      } finally {
        await release();
        await owner.query(`DROP TRIGGER test_exposure_gate ON exposure; DROP FUNCTION test_exposure_gate();`);
      }
    });
  }
  /** Advisory locks on `key` in this test's database (pg_locks shows the whole server's). */
  const locks = async (key: number, granted: boolean): Promise<number> => {
    const [{ count }] = await app.database.db.query(
      `SELECT count(*)::int AS count FROM pg_locks
       WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND granted = $2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [key, granted],
    );
    return count;
  };
  const stoppedAtGate = async () => {
    for (let i = 0; i < 1000 && (await locks(GATE_KEY, false)) === 0; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await locks(GATE_KEY, false)).toBeGreaterThan(0);
  };

  it('(e) a contract update for a client the incident does not reach commits while the incident is computing', async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const [target, unrelated] = [await world.supplier(), await world.supplier()];
    const [exposed, other] = [await world.client(), await world.client()];
    await world.agreement(await world.contract(exposed, target, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const otherContract = await world.contract(other, unrelated, OPEN);
    const since = new Date();
    await withGate(target, async (release) => {
      let incidentDone = false;
      const incident = world.recordIncident(target, incidentAt()).finally(() => {
        incidentDone = true;
      });
      await stoppedAtGate();
      // While the incident's statement computes, nobody holds the engine's lock: not the incident.
      expect(await locks(ENGINE_LOCK_KEY, true)).toBe(0);
      await world.updateContract(otherContract, { criticality: 'CRITICAL' });
      // The update committed, and the incident transaction is still open, stopped inside its statement.
      expect(incidentDone).toBe(false);
      expect(await locks(GATE_KEY, false)).toBeGreaterThan(0);
      await release();
      const recorded = await incident;
      expect(recorded.exposuresChanged).toBe(1);
    });
    await expectAsIfSerial(world, since);
  });

  it("(g) a client's regimes change while the incident is computing: the new exposure's obligation clock follows them", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const target = await world.supplier();
    // The first profile: a UK council, under UK GDPR by default (72 hours).
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, target, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const since = new Date();
    let incidentId = '';
    await withGate(target, async (release) => {
      const incident = world.recordIncident(target, incidentAt());
      await stoppedAtGate();
      // Commits while the incident is stopped after computing its rows (and their clocks) from the
      // regimes before: DORA's initial notification is due within 24 hours of awareness.
      await app.services.client.update(FACTORY_ADMIN, {
        id: encodeGlobalId('Client', exposed),
        regimes: [RegulatoryRegime.DORA],
      });
      world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, regimes: ['DORA'] });
      await release();
      incidentId = (await incident).id;
    });
    await expectAsIfSerial(world, since);
    const [row]: { aware_at: Date; data_aware_at: Date | null; next_due_at: Date | null }[] =
      await app.database.db.query(
        `SELECT aware_at, data_aware_at, next_due_at FROM exposure WHERE incident_id = $1 AND client_id = $2`,
        [incidentId, exposed],
      );
    const dueUnder = (regimes: ('DORA' | 'UK_GDPR')[]) =>
      refNextDueAt({
        regimes,
        awareAt: row.aware_at,
        dataAwareAt: row.data_aware_at,
        highRiskSince: null,
        triggers: {},
        decisions: {},
      });
    expect(row.next_due_at).toEqual(dueUnder(['DORA']));
    expect(dueUnder(['DORA'])).not.toEqual(dueUnder(['UK_GDPR']));
  });

  it('(f) register writes that commit during the incident computation are not lost, and replay stays gap-free', async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const [target, parent] = [await world.supplier(), await world.supplier()];
    await world.link(parent, target);
    const [exposed, newcomer, leaving] = [await world.client(), await world.client(), await world.client()];
    const exposedAgreement = await world.agreement(await world.contract(exposed, target, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const leavingContract = await world.contract(leaving, parent, OPEN);
    const first = await world.recordIncident(parent, incidentAt());
    const [{ id: before }] = await app.database.db.query(
      `SELECT coalesce(max(id), 0)::text AS id FROM exposure_alert`,
    );
    const sub = await subscribe(app.url, app.adminToken, { after: before });
    const since = new Date();
    let incidentId = '';
    await world.untracked(() =>
      withGate(target, async (release) => {
        const incident = world.recordIncident(target, incidentAt({ exfiltration: 'CONFIRMED' }));
        await stoppedAtGate();
        // Each commits while the incident's statement is stopped with a snapshot taken before it: a new
        // client reached, an exposed client's data changed, a client's only route removed (this one also
        // recomputes the open incident at `parent`, whose alerts get ids before the stopped incident's).
        const contract = await world.contract(newcomer, parent, { ...OPEN, criticality: 'CRITICAL' });
        await world.agreement(contract, {
          categories: ['CONTACT'],
          dataSubjectCount: 300,
          dataRetainedUntil: null,
          subprocessorIds: [],
        });
        await world.updateAgreement(exposedAgreement, { dataSubjectCount: 250_000 });
        await world.removeContract(leavingContract);
        await release();
        incidentId = (await incident).id;
      }),
    );
    await expectAsIfSerial(world, since);
    const rows = (await readExposures(app.database.db)).filter((r) => r.incidentId === incidentId);
    expect(rows.map((r) => r.clientId).sort()).toEqual([exposed, newcomer, leaving].sort());
    const byClient = new Map(rows.map((r) => [r.clientId, r]));
    // The serial order that matches: the incident first (from the snapshot it had), then the writes.
    expect(byClient.get(exposed)).toMatchObject({
      people: 250_000,
      revision: 2,
      alertKinds: ['NEW', 'CHANGED'],
    });
    expect(byClient.get(exposed)!.revisionReasons).toEqual(['INCIDENT_RECORDED', 'REGISTER_CHANGED']);
    expect(byClient.get(newcomer)).toMatchObject({ revision: 1, alertKinds: ['NEW'] });
    expect(byClient.get(leaving)).toMatchObject({ revision: 2, alertKinds: ['NEW', 'RESOLVED'] });
    expect(byClient.get(leaving)!.resolvedAt).not.toBeNull();
    // Every client's numbers are 1, 2, 3, … in register-id order, and a replaying subscriber got every
    // alert committed after its cursor, in id order, once.
    const seqs: { client_id: string; seqs: string[] }[] = await app.database.db.query(
      `SELECT client_id, array_agg(client_seq::text ORDER BY id) AS seqs FROM exposure_alert GROUP BY client_id`,
    );
    for (const { seqs: numbers } of seqs) expect(numbers).toEqual(numbers.map((_, i) => String(i + 1)));
    const expected: string[] = (
      await app.database.db.query(`SELECT id::text AS id FROM exposure_alert WHERE id > $1 ORDER BY id`, [
        before,
      ])
    ).map((r: { id: string }) => r.id);
    await sub.waitFor(expected.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sub.alerts.map((a) => a.id)).toEqual(expected);
    await sub.dispose();
    expect(first.exposuresChanged).toBe(1);
  });

  /**
   * A client exposed to an open incident at Capita through a contract and agreement (HEALTH, 1,000 people),
   * and an open incident at a cloud supplier that the agreement does not yet rely on.
   */
  async function councilBesideCloudIncident(world: World) {
    const [capita, cloud] = [await world.supplier(), await world.supplier()];
    const exposed = await world.client();
    const agreement = await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    await world.recordIncident(capita, incidentAt());
    const { id: atCloud } = await world.recordIncident(cloud, incidentAt());
    return { cloud, exposed, agreement, atCloud };
  }

  /**
   * A client's regimes change (updateClient through GraphQL) while a recomputation that adds a new exposure
   * for that client is under way, made deterministic: a test connection holds the engine's lock, `writer`
   * queues for it first, the client update second, then the lock is let go. The writer's new exposure has
   * a clock computed from the regimes before (the update has not committed), and the update's refresh
   * must still reach it: the stored clock of every exposure of the client follows the regimes after.
   */
  async function regimesChangeBehind(
    world: World,
    exposed: string,
    writer: () => Promise<unknown>,
    // What moves the client's regimes: set directly, or as the defaults of a new sector and country.
    change: { sector?: ClientSector; country?: string; regimes?: 'DORA'[] } = { regimes: ['DORA'] },
  ): Promise<{ failures: string[]; userErrors: unknown[] }> {
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    let outcome: PromiseSettledResult<unknown>[] = [];
    let userErrors: unknown[] = [];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      await world.untracked(async () => {
        const first = writer();
        await queuedForEngineLock(1);
        const update = app
          .gql(
            app.adminToken,
            `mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { id } userErrors { code message } } }`,
            { input: { id: encodeGlobalId('Client', exposed), ...change } },
          )
          .then((response) => {
            userErrors = dataOf(response).updateClient.userErrors;
          });
        await queuedForEngineLock(2);
        await holder.commitTransaction();
        outcome = await Promise.allSettled([first, update]);
      });
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, ...change });
    return {
      failures: outcome
        .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        .map((o) => String(o.reason)),
      userErrors,
    };
  }
  const queuedForEngineLock = async (n: number) => {
    for (let i = 0; i < 1000 && (await locks(ENGINE_LOCK_KEY, false)) < n; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await locks(ENGINE_LOCK_KEY, false)).toBe(n);
  };
  /** The stored clock of the client's exposure of `incidentId`, and what DORA and UK GDPR alone would give. */
  async function clockOf(incidentId: string, clientId: string) {
    const [row]: { aware_at: Date; data_aware_at: Date | null; next_due_at: Date | null }[] =
      await app.database.db.query(
        `SELECT aware_at, data_aware_at, next_due_at FROM exposure WHERE incident_id = $1 AND client_id = $2`,
        [incidentId, clientId],
      );
    expect(row).toBeDefined();
    const dueUnder = (regimes: ('DORA' | 'UK_GDPR')[]) =>
      refNextDueAt({
        regimes,
        awareAt: row.aware_at,
        dataAwareAt: row.data_aware_at,
        highRiskSince: null,
        triggers: {},
        decisions: {},
      });
    return { stored: row.next_due_at, dora: dueUnder(['DORA']), ukGdpr: dueUnder(['UK_GDPR']) };
  }

  it("(h) a client's regimes change while an agreement change adds its exposure to an open incident", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    // A UK council (UK GDPR by default), already exposed to an incident at Capita, so its update has
    // clocks to refresh; the agreement change makes it newly exposed to the open incident at the cloud.
    const { cloud, exposed, agreement, atCloud } = await councilBesideCloudIncident(world);
    const since = new Date();
    const { failures, userErrors } = await regimesChangeBehind(world, exposed, () =>
      world.updateAgreement(agreement, { subprocessorIds: [cloud] }),
    );
    // Before the fix: a deadlock (the client row held FOR UPDATE while the update waited for the engine's
    // lock, and the agreement change, holding that lock, needed FOR KEY SHARE on it for the new exposure).
    expect(failures).toEqual([]);
    expect(userErrors).toEqual([]);
    await expectAsIfSerial(world, since);
    const clock = await clockOf(atCloud, exposed);
    expect(clock.stored).toEqual(clock.dora);
    expect(clock.dora).not.toEqual(clock.ukGdpr);
  });

  it("(i) a client's sector and country change while an incident update reaches that client", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const [capita, cloud] = [await world.supplier(), await world.supplier()];
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    // The contract at the cloud starts after the incident was contained: not exposed, until the update
    // moves containment later.
    await world.agreement(await world.contract(exposed, cloud, { ...OPEN, startsOn: '2023-05-01' }), {
      categories: ['CONTACT'],
      dataSubjectCount: 500,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    await world.recordIncident(capita, incidentAt());
    const { id: atCloud } = await world.recordIncident(
      cloud,
      incidentAt({ containedAt: new Date('2023-04-10T00:00:00Z'), status: IncidentStatus.CONTAINED }),
    );
    expect(
      await readExposures(app.database.db).then((rows) => rows.filter((r) => r.incidentId === atCloud)),
    ).toEqual([]);
    const since = new Date();
    // The council becomes an Irish bank: EU GDPR and DORA by default, from its sector and country.
    const { failures, userErrors } = await regimesChangeBehind(
      world,
      exposed,
      () => world.updateIncident(atCloud, { containedAt: new Date('2023-06-01T00:00:00Z') }),
      { sector: ClientSector.FINANCIAL_SERVICES, country: 'IE' },
    );
    expect(failures).toEqual([]);
    expect(userErrors).toEqual([]);
    await expectAsIfSerial(world, since);
    const clock = await clockOf(atCloud, exposed);
    expect(clock.stored).toEqual(clock.dora);
  });

  it("(j) a client's regimes change while a new incident reaching it ends under the engine's lock", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const [capita, cloud] = [await world.supplier(), await world.supplier()];
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    await world.contract(exposed, cloud, OPEN);
    await world.recordIncident(capita, incidentAt());
    const since = new Date();
    let atCloud = '';
    // recordIncident writes its rows without the lock and queues for it at the end of that statement.
    const { failures, userErrors } = await regimesChangeBehind(world, exposed, async () => {
      atCloud = (await world.recordIncident(cloud, incidentAt())).id;
    });
    expect(failures).toEqual([]);
    expect(userErrors).toEqual([]);
    await expectAsIfSerial(world, since);
    const clock = await clockOf(atCloud, exposed);
    expect(clock.stored).toEqual(clock.dora);
  });

  it("(l) a client's reference and regimes change while a contract for it is created", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const exposed = await world.client();
    await world.contract(exposed, capita, OPEN);
    await world.recordIncident(capita, incidentAt());
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    const since = new Date();
    let outcome: PromiseSettledResult<unknown>[] = [];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      await world.untracked(async () => {
        const update = app
          .gql(
            app.adminToken,
            `mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { reference } userErrors { code } } }`,
            { input: { id: encodeGlobalId('Client', exposed), reference: 'NEW-REF', regimes: ['DORA'] } },
          )
          .then((response) =>
            expect(dataOf(response).updateClient).toEqual({
              client: { reference: 'NEW-REF' },
              userErrors: [],
            }),
          );
        await queuedForEngineLock(1);
        // The contract's foreign key takes FOR KEY SHARE on the client; a new reference takes FOR UPDATE
        // on it. Taken before the engine's lock, the contract waits for the update; taken after, with the
        // contract then queued for the engine's lock behind the update, the two deadlocked.
        const created = world.contract(exposed, capita, { ...OPEN, criticality: 'CRITICAL' });
        for (let i = 0; i < 1000 && (await waitingOnLocks()) < 2; i += 1)
          await new Promise((resolve) => setTimeout(resolve, 10));
        expect(await waitingOnLocks()).toBe(2);
        await holder.commitTransaction();
        outcome = await Promise.allSettled([update, created]);
      });
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, regimes: ['DORA'] });
    expect(
      outcome.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
    ).toEqual([]);
    await expectAsIfSerial(world, since);
  });
  /**
   * The one deadlock the lock order leaves (docs/exposure-scoring.md, "Concurrency"): a client update that
   * changes the reference (FOR UPDATE on the client before the engine's lock) and the regimes (so it then
   * queues for the engine's lock) behind a recomputation that adds an exposure of that client (its foreign
   * key waits for the FOR UPDATE while it holds the engine's lock). Made deterministic: a test connection
   * holds the engine's lock, the agreement change queues for it first, the client update second, then the
   * lock is let go. The update waited first, so its deadlock check (deadlock_timeout) finds the cycle and
   * PostgreSQL aborts it. Answers the update's GraphQL answer and the writer's failure, if any.
   *
   * With `lateWriter`, the agreement change goes through GraphQL too and the lock is let go only after twice
   * deadlock_timeout: the update's deadlock check has then run and found no cycle (the writer was not
   * waiting for it yet), so the writer's own check, a deadlock_timeout after its foreign key starts to wait,
   * finds it, and PostgreSQL aborts the writer instead (a recomputation that reaches the foreign key more
   * than deadlock_timeout after the update queued).
   */
  async function referenceAndRegimesBehind(
    target: TestApp,
    lateWriter = false,
  ): Promise<{
    world: World;
    exposed: string;
    atCloud: string;
    since: Date;
    answer: unknown;
    writer: string[];
    writerAnswer: unknown;
  }> {
    await clearRegister(app.database);
    const world = new World(app.services);
    const { cloud, exposed, agreement, atCloud } = await councilBesideCloudIncident(world);
    const since = new Date();
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    let answer: unknown;
    let writerAnswer: unknown;
    let outcome: PromiseSettledResult<unknown>[] = [];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      await world.untracked(async () => {
        const first = lateWriter
          ? target
              .gql(
                target.adminToken,
                `mutation($input: UpdateDataProcessingAgreementInput!) {
                   updateDataProcessingAgreement(input: $input) { userErrors { code } } }`,
                {
                  input: {
                    id: encodeGlobalId('DataProcessingAgreement', agreement),
                    subprocessorIds: [encodeGlobalId('Supplier', cloud)],
                  },
                },
              )
              .then((response) => {
                writerAnswer = response.body;
              })
          : world.updateAgreement(agreement, { subprocessorIds: [cloud] });
        await queuedForEngineLock(1);
        const update = target
          .gql(
            target.adminToken,
            `mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { reference } userErrors { code } } }`,
            { input: { id: encodeGlobalId('Client', exposed), reference: 'NEW-REF', regimes: ['DORA'] } },
          )
          .then((response) => {
            answer = response.body;
          });
        await queuedForEngineLock(2);
        if (lateWriter) {
          const [{ ms }]: { ms: number }[] = await app.database.db.query(
            `SELECT EXTRACT(EPOCH FROM current_setting('deadlock_timeout')::interval) * 1000 AS ms`,
          );
          await new Promise((resolve) => setTimeout(resolve, 2 * Number(ms)));
        }
        await holder.commitTransaction();
        outcome = await Promise.allSettled([first, update]);
      });
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    return {
      world,
      exposed,
      atCloud,
      since,
      answer,
      writerAnswer,
      writer: outcome
        .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        .map((o) => String(o.reason)),
    };
  }

  /** A second instance on this database (its own pool), with DB_CONFLICT_ATTEMPTS and its warn log lines. */
  async function instanceWith(attempts: string): Promise<{ instance: TestApp; warnings: () => unknown[] }> {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const instance = await startTestApp(
      { DB_CONFLICT_ATTEMPTS: attempts },
      { database: app.database },
      { logger },
    );
    return { instance, warnings: () => lines.map((line) => JSON.parse(line)) };
  }

  it("(x) a client's reference and regimes change while an agreement change adds its exposure: the aborted update runs again", async () => {
    const { instance, warnings } = await instanceWith('3');
    try {
      const { world, exposed, atCloud, since, answer, writer } = await referenceAndRegimesBehind(instance);
      // Before the retry: `{ data: null, errors: [{ message: 'deadlock detected', extensions: { code:
      // 'INTERNAL_SERVER_ERROR' } }] }` ('Internal server error' in production), and nothing written.
      expect(writer).toEqual([]);
      expect(answer).toEqual({
        data: { updateClient: { client: { reference: 'NEW-REF' }, userErrors: [] } },
      });
      // PostgreSQL aborted the update (it waited first, so its deadlock check found the cycle); it ran again
      // once the agreement change had committed: the serial order "agreement change, then the update".
      expect(
        warnings()
          .filter((w) => (w as { msg: string }).msg.startsWith('transaction aborted by concurrent work'))
          .map((w) => {
            const { level, sqlState, attempt, attempts } = w as Record<string, unknown>;
            return { level, sqlState, attempt, attempts };
          }),
      ).toEqual([{ level: 40, sqlState: '40P01', attempt: 1, attempts: 3 }]);
      world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, regimes: ['DORA'] });
      await expectAsIfSerial(world, since);
      const clock = await clockOf(atCloud, exposed);
      expect(clock.stored).toEqual(clock.dora);
      expect(clock.dora).not.toEqual(clock.ukGdpr);
    } finally {
      await instance.stop();
    }
  });

  /** The whole answer of a mutation aborted by concurrent work and not run again (its request id as given). */
  function conflictAnswer(answer: unknown, field: string, location: { line: number; column: number }) {
    const { errors } = answer as { errors: { extensions: { requestId: string } }[] };
    return {
      data: null,
      errors: [
        {
          message:
            'The request conflicted with concurrent work and was not applied; nothing was written. Send it again as it is',
          locations: [location],
          path: [field],
          extensions: { code: 'CONFLICT', requestId: errors[0].extensions.requestId },
        },
      ],
    };
  }

  it('(x, writer aborted) the same deadlock found by the recomputation: the agreement change answers CONFLICT, the update succeeds', async () => {
    const { world, exposed, atCloud, since, answer, writer, writerAnswer } = await referenceAndRegimesBehind(
      app,
      true,
    );
    expect(writer).toEqual([]);
    expect(answer).toEqual({ data: { updateClient: { client: { reference: 'NEW-REF' }, userErrors: [] } } });
    // Not retried (only updateClient opts in): the caller is told to send it again, nothing was written.
    expect(writerAnswer).toEqual(
      conflictAnswer(writerAnswer, 'updateDataProcessingAgreement', { line: 2, column: 20 }),
    );
    world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, regimes: ['DORA'] });
    await expectAsIfSerial(world, since);
    expect(
      await readExposures(app.database.db).then((rows) => rows.filter((r) => r.incidentId === atCloud)),
    ).toEqual([]);
  });

  it('(x, no retry) the same deadlock with DB_CONFLICT_ATTEMPTS=1 answers CONFLICT: nothing written, send it again', async () => {
    const { instance } = await instanceWith('1');
    try {
      const { world, exposed, atCloud, since, answer, writer } = await referenceAndRegimesBehind(instance);
      expect(writer).toEqual([]);
      expect(answer).toEqual(conflictAnswer(answer, 'updateClient', { line: 1, column: 40 }));
      const [client]: { reference: string; regimes: string[] | null }[] = await app.database.db.query(
        `SELECT reference, regimes FROM client WHERE id = $1`,
        [exposed],
      );
      expect(client.reference).not.toBe('NEW-REF');
      await expectAsIfSerial(world, since);
      const clock = await clockOf(atCloud, exposed);
      expect(clock.stored).toEqual(clock.ukGdpr);
      // Sent again as it is, it succeeds.
      const again = await instance.gql(
        instance.adminToken,
        `mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { reference } userErrors { code } } }`,
        { input: { id: encodeGlobalId('Client', exposed), reference: 'NEW-REF', regimes: ['DORA'] } },
      );
      expect(dataOf(again).updateClient).toEqual({ client: { reference: 'NEW-REF' }, userErrors: [] });
      world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, regimes: ['DORA'] });
      await expectAsIfSerial(world, since);
      expect((await clockOf(atCloud, exposed)).stored).toEqual(clock.dora);
    } finally {
      await instance.stop();
    }
  });
  /** Backends of this test's database waiting for a lock (advisory, row or transaction). */
  const waitingOnLocks = async (): Promise<number> => {
    const [{ count }] = await app.database.db.query(
      `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return count;
  };

  it("(m) a file import moves a client's regimes while an incident update reaches that client", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const [capita, cloud] = [await world.supplier(), await world.supplier()];
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    await world.agreement(await world.contract(exposed, cloud, { ...OPEN, startsOn: '2023-05-01' }), {
      categories: ['CONTACT'],
      dataSubjectCount: 500,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    await world.recordIncident(capita, incidentAt());
    const { id: atCloud } = await world.recordIncident(
      cloud,
      incidentAt({ containedAt: new Date('2023-04-10T00:00:00Z'), status: IncidentStatus.CONTAINED }),
    );
    const [client]: { reference: string; name: string; sector: string; country: string }[] =
      await app.database.db.query(`SELECT reference, name, sector, country FROM client WHERE id = $1`, [
        exposed,
      ]);
    // The import locks the register's tables, not the incident's: the incident update queues for the
    // engine's lock first, the import writes the client and queues behind it for its recomputation.
    const file = await workbook({
      clients: [
        ['reference', 'name', 'sector', 'country', 'regimes'],
        [client.reference, client.name, client.sector, client.country, 'DORA'],
      ],
    });
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    const since = new Date();
    let outcome: PromiseSettledResult<unknown>[] = [];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      await world.untracked(async () => {
        const first = world.updateIncident(atCloud, { containedAt: new Date('2023-06-01T00:00:00Z') });
        await queuedForEngineLock(1);
        const imported = upload(app, file, XLSX, '', app.adminToken, 'regimes.xlsx').then((answer) => {
          expect(answer.status).toBe(200);
          expect(answer.body.counts.clients.updated).toBe(1);
        });
        await queuedForEngineLock(2);
        await holder.commitTransaction();
        outcome = await Promise.allSettled([first, imported]);
      });
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    world.clientProfiles.set(exposed, { ...world.clientProfiles.get(exposed)!, regimes: ['DORA'] });
    expect(
      outcome.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
    ).toEqual([]);
    await expectAsIfSerial(world, since);
    const clock = await clockOf(atCloud, exposed);
    expect(clock.stored).toEqual(clock.dora);
  });

  it("(k) a client update that does not move its regimes does not wait for the engine's lock", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    await world.recordIncident(capita, incidentAt());
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      // A new name, and the regimes its sector and country give anyway (UK GDPR for a UK council): the
      // clocks cannot move, so it commits while another transaction holds the lock.
      const response = await app.gql(
        app.adminToken,
        `mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { name } userErrors { code } } }`,
        { input: { id: encodeGlobalId('Client', exposed), name: 'Renamed council', regimes: ['UK_GDPR'] } },
      );
      expect(dataOf(response).updateClient).toEqual({ client: { name: 'Renamed council' }, userErrors: [] });
      expect(await locks(ENGINE_LOCK_KEY, false)).toBe(0);
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
  });

  /**
   * Starts `steps` one after the other behind the engine's lock, held by a test connection: each once the
   * steps before it all wait for a lock (the engine's, a row's or a table's), then lets the lock go. The
   * order in which they wait is the order in which they come out. Answers the failures (a deadlock aborts
   * one side).
   */
  async function inLockOrder(world: World, steps: (() => Promise<unknown>)[]): Promise<string[]> {
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    let outcome: PromiseSettledResult<unknown>[] = [];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT pg_advisory_xact_lock($1)`, [ENGINE_LOCK_KEY]);
      await world.untracked(async () => {
        outcome = await queueThenRelease(holder, steps);
      });
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    return outcome
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => String(o.reason));
  }
  const DECIDE = `mutation($input: RecordNotificationDecisionInput!) {
    recordNotificationDecision(input: $input) { exposure { id } userErrors { code message } } }`;
  /** Through GraphQL; rejects on a GraphQL error (a deadlock) or a user error. */
  const decide = async (input: Record<string, unknown>) =>
    expect(
      dataOf(await app.gql(app.adminToken, DECIDE, { input })).recordNotificationDecision.userErrors,
    ).toEqual([]);
  /** What the API answers for an exposure: its stored clock, and the clock its obligations give now. */
  async function exposureAnswered(exposureId: string) {
    const { node } = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Exposure { revision nextDueAt notification { status }
           obligations { regime milestone dueAt status } } } }`,
        { id: exposureId },
      ),
    );
    const open = (node.obligations as { dueAt: string | null; status: string }[])
      .filter((o) => o.dueAt !== null && ['OPEN', 'DUE_SOON', 'OVERDUE'].includes(o.status))
      .map((o) => o.dueAt!)
      .sort();
    return { ...node, fromObligations: open[0] ?? null };
  }
  const exposureIdOf = async (incidentId: string, clientId: string): Promise<string> => {
    const [{ id }] = await app.database.db.query(
      `SELECT id FROM exposure WHERE incident_id = $1 AND client_id = $2`,
      [incidentId, clientId],
    );
    return encodeGlobalId('Exposure', id);
  };

  it("(n) a DPO's decision on an exposure while an incident update recomputes it", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const { id: incident } = await world.recordIncident(capita, incidentAt());
    const exposure = await exposureIdOf(incident, exposed);
    const before = await exposureAnswered(exposure);
    expect(before.nextDueAt).not.toBeNull();
    const since = new Date();
    // The update queues for the engine's lock first; the decision second. Before the fix the decision
    // locked the exposure FOR UPDATE and then queued, and the update, holding the lock, waited for that
    // row to write its new revision: a deadlock, and the decision was refused.
    const failures = await inLockOrder(world, [
      () => world.updateIncident(incident, { exfiltration: 'CONFIRMED' }),
      () =>
        decide({
          exposureId: exposure,
          status: 'NOT_REQUIRED',
          justification: 'Encrypted at rest; the key was not taken',
        }),
    ]);
    expect(failures).toEqual([]);
    // The decision changes the clock, which the model leaves out: checked against the obligations below.
    world.clientProfiles.delete(exposed);
    await expectAsIfSerial(world, since);
    // As if serial in the order they queued: the recomputation's revision, then the decision on it (a
    // decision first would have been flagged for review by the widening, and set back to ASSESSING).
    const after = await exposureAnswered(exposure);
    expect(after).toMatchObject({ revision: 2, notification: { status: 'NOT_REQUIRED' } });
    expect(after.nextDueAt).toEqual(after.fromObligations);
    expect(after.nextDueAt).not.toEqual(before.nextDueAt);
    const [{ review_needed_at }] = await app.database.db.query(
      `SELECT review_needed_at FROM exposure WHERE client_id = $1`,
      [exposed],
    );
    expect(review_needed_at).toBeNull();
  });

  it("(q) a DPO's decision on an exposure while the reminders job writes its reminder", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const exposed = await world.client();
    await world.agreement(await world.contract(exposed, capita, OPEN), {
      categories: ['HEALTH'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const { id: incident } = await world.recordIncident(capita, incidentAt());
    const exposure = await exposureIdOf(incident, exposed);
    const job = new ObligationReminderJob(app.database.db, { intervalMs: 0 });
    // The job queues for the engine's lock first, ticking 49 hours ahead (UK GDPR's 72 hours: DUE_SOON
    // 24 hours before); the decision second. Before the fix the decision held the exposure FOR UPDATE
    // while it queued, and the job's reminder alert (its foreign key: FOR KEY SHARE) waited for that row.
    const failures = await inLockOrder(world, [
      () => job.tick(new Date(Date.now() + 49 * 3600_000)),
      () =>
        decide({
          exposureId: exposure,
          status: 'REPORTED',
          reportedAt: new Date().toISOString(),
          reference: 'ICO-1',
        }),
    ]);
    expect(failures).toEqual([]);
    // The register did not change (the model, which knows no reminders, has nothing to add): the
    // exposure's alerts are its NEW one and the job's reminder, then the decision closed the obligation.
    const alerts = await app.database.db.query(
      `SELECT kind, milestone FROM exposure_alert WHERE client_id = $1 ORDER BY id`,
      [exposed],
    );
    expect(alerts).toEqual([
      { kind: 'NEW', milestone: null },
      { kind: 'DUE_SOON', milestone: 'NOTIFICATION' },
    ]);
    const after = await exposureAnswered(exposure);
    expect(after.notification).toEqual({ status: 'REPORTED' });
    expect(after.nextDueAt).toEqual(after.fromObligations);
  });

  it("(o) a trigger recorded on an exposure while a decision on it waits for the engine's lock", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    await world.client();
    // An Irish bank: EU GDPR and DORA by default.
    const bank = await world.client();
    await world.agreement(await world.contract(bank, capita, OPEN), {
      categories: ['FINANCIAL'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const { id: incident } = await world.recordIncident(capita, incidentAt());
    const exposure = await exposureIdOf(incident, bank);
    const since = new Date();
    // The decision queues for the engine's lock first; the trigger, whose row's foreign key takes FOR KEY
    // SHARE on the exposure, second. The decision then locks the exposure FOR NO KEY UPDATE, which does not
    // conflict with that: FOR UPDATE there would wait for the trigger, and the trigger for the lock.
    const failures = await inLockOrder(world, [
      () =>
        decide({
          exposureId: exposure,
          regime: 'EU_GDPR',
          status: 'NOT_REQUIRED',
          justification: 'Pseudonymised account data only',
        }),
      async () => {
        const response = await app.gql(
          app.adminToken,
          `mutation($input: RecordObligationTriggerInput!) { recordObligationTrigger(input: $input) { userErrors { code message } } }`,
          {
            input: {
              exposureId: exposure,
              regime: 'DORA',
              triggeredAt: new Date().toISOString(),
              reason: 'Classified as major',
            },
          },
        );
        expect(dataOf(response).recordObligationTrigger.userErrors).toEqual([]);
      },
    ]);
    expect(failures).toEqual([]);
    world.clientProfiles.delete(bank);
    await expectAsIfSerial(world, since);
    const after = await exposureAnswered(exposure);
    expect(after.nextDueAt).toEqual(after.fromObligations);
    expect(after.obligations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ regime: 'EU_GDPR', milestone: 'NOTIFICATION', status: 'NOT_REQUIRED' }),
        expect.objectContaining({
          regime: 'DORA',
          milestone: 'INITIAL_NOTIFICATION',
          status: expect.stringMatching(/^(OPEN|DUE_SOON)$/),
        }),
      ]),
    );
  });

  it("(p) a client's regimes change while a file import for another client starts", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const [moving, imported] = [await world.client(), await world.client()];
    for (const client of [moving, imported])
      await world.agreement(await world.contract(client, capita, OPEN), {
        categories: ['CONTACT'],
        dataSubjectCount: 1000,
        dataRetainedUntil: null,
        subprocessorIds: [],
      });
    const { id: incident } = await world.recordIncident(capita, incidentAt());
    const [row]: { reference: string; name: string; sector: string; country: string }[] =
      await app.database.db.query(`SELECT reference, name, sector, country FROM client WHERE id = $1`, [
        imported,
      ]);
    const file = await workbook({
      clients: [
        ['reference', 'name', 'sector', 'country', 'regimes'],
        [row.reference, row.name, row.sector, row.country, 'DORA'],
      ],
    });
    const since = new Date();
    // The client update queues for the engine's lock first, the import second. The import locks the
    // register's tables (SHARE ROW EXCLUSIVE) before its recomputation takes the engine's lock; had the
    // update written its client row only after the engine's lock, that write (ROW EXCLUSIVE on the client
    // table) would wait for the import, and the import for the lock: a deadlock.
    const failures = await inLockOrder(world, [
      async () => {
        const response = await app.gql(
          app.adminToken,
          `mutation($input: UpdateClientInput!) { updateClient(input: $input) { userErrors { code message } } }`,
          { input: { id: encodeGlobalId('Client', moving), regimes: ['DORA'] } },
        );
        expect(dataOf(response).updateClient.userErrors).toEqual([]);
      },
      () =>
        upload(app, file, XLSX, '', app.adminToken, 'regimes.xlsx').then((answer) => {
          if (answer.status !== 200)
            throw new Error(`the import answered ${answer.status}: ${JSON.stringify(answer.body)}`);
          expect(answer.body.counts.clients.updated).toBe(1);
        }),
    ]);
    for (const client of [moving, imported])
      world.clientProfiles.set(client, { ...world.clientProfiles.get(client)!, regimes: ['DORA'] });
    expect(failures).toEqual([]);
    await expectAsIfSerial(world, since);
    for (const client of [moving, imported]) {
      const clock = await clockOf(incident, client);
      expect(clock.stored).toEqual(clock.dora);
    }
  });
  /** A contract's row as the import's contracts sheet names it, and the file that changes its title. */
  /** The register exported as a workbook, without one supplier's row: imported with mode=replace, it archives it. */
  async function registerWithout(supplierId: string) {
    const [{ name }] = await app.database.db.query(`SELECT name FROM supplier WHERE id = $1`, [supplierId]);
    const current = await sheetsOf((await download(app, app.adminToken, 'xlsx')).body);
    return workbook({ ...current, suppliers: current.suppliers.filter((row) => row[0] !== name) });
  }

  /**
   * Starts each step in turn and waits until it is waiting on a lock (the test connection `holder` holds what
   * the first needs), so they queue in this order; then lets the holder's transaction go and collects them all.
   */
  async function queueThenRelease(
    holder: QueryRunner,
    steps: (() => Promise<unknown>)[],
  ): Promise<PromiseSettledResult<unknown>[]> {
    const started: Promise<unknown>[] = [];
    for (const step of steps) {
      const running = step();
      running.catch(() => undefined); // collected below, after the holder lets go
      started.push(running);
      for (let i = 0; i < 1000 && (await waitingOnLocks()) < started.length; i += 1)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await waitingOnLocks()).toBe(started.length);
    }
    await holder.commitTransaction();
    return Promise.allSettled(started);
  }

  async function contractImport(contractId: string, title: string) {
    const [row]: {
      client: string;
      reference: string;
      supplier: string;
      country: string;
      startsOn: string;
      criticality: string;
    }[] = await app.database.db.query(
      `SELECT cl.reference AS client, c.reference, s.name AS supplier, s.country, c.starts_on::text AS "startsOn", c.criticality
           FROM contract c JOIN client cl ON cl.id = c.client_id JOIN supplier s ON s.id = c.supplier_id WHERE c.id = $1`,
      [contractId],
    );
    return workbook({
      contracts: [
        [
          'clientReference',
          'reference',
          'supplierName',
          'supplierCountry',
          'title',
          'startsOn',
          'criticality',
        ],
        [row.client, row.reference, row.supplier, row.country, title, row.startsOn, row.criticality],
      ],
    });
  }
  const UPDATE_CONTRACT = `mutation($input: UpdateContractInput!) { updateContract(input: $input) { contract { title } userErrors { code message } } }`;
  const importing = (file: Buffer, title: string) => () =>
    upload(app, file, XLSX, '', app.adminToken, 'titles.xlsx').then((answer) => {
      if (answer.status !== 200)
        throw new Error(`the import answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      expect(answer.body.counts.contracts.updated).toBe(1);
      return title;
    });

  it('(r) a file import starts while a contract update holds the row it will write and waits to write it', async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const contract = await world.contract(await world.client(), await world.supplier(), OPEN);
    const file = await contractImport(contract, 'Title from the file');
    // A test connection holds the contract's row, so the update stops where the race is: it has locked
    // the table for its write (after the fix) and queues for the row. The import starts second. Before the
    // fix the update held only the row lock's ROW SHARE on the table, the import's SHARE ROW EXCLUSIVE
    // lock did not wait for it, and once the row was let go the update (its write: ROW EXCLUSIVE) waited
    // for the import's table lock and the import (its write of that row) for the update's row lock: a
    // deadlock, one side refused.
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    let outcome: PromiseSettledResult<unknown>[];
    try {
      await holder.startTransaction();
      await holder.query(`SELECT id FROM contract WHERE id = $1 FOR UPDATE`, [contract]);
      outcome = await queueThenRelease(holder, [
        async () => {
          const response = await app.gql(app.adminToken, UPDATE_CONTRACT, {
            input: { id: encodeGlobalId('Contract', contract), title: 'Title from the API' },
          });
          expect(dataOf(response).updateContract.userErrors).toEqual([]);
        },
        importing(file, 'Title from the file'),
      ]);
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    expect(
      outcome.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
    ).toEqual([]);
    // As if serial in the order they came: the update, then the file.
    const [{ title }] = await app.database.db.query(`SELECT title FROM contract WHERE id = $1`, [contract]);
    expect(title).toBe('Title from the file');
  });

  it('(s) contract updates that come while a file import holds the register wait for it, then succeed', async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const exposed = await world.client();
    const [imported, other] = [
      await world.contract(exposed, capita, OPEN),
      await world.contract(exposed, capita, OPEN),
    ];
    for (const contract of [imported, other])
      await world.agreement(contract, {
        categories: ['CONTACT'],
        dataSubjectCount: 1000,
        dataRetainedUntil: null,
        subprocessorIds: [],
      });
    await world.recordIncident(capita, incidentAt());
    const file = await contractImport(imported, 'Title from the file');
    // The import writes the contract and queues for the engine's lock (its recomputation: an open
    // incident reaches the client); then an update of that contract and one of another come, and wait
    // for the import's table lock, not for the engine's lock while holding rows.
    const update = (contract: string, title: string) => async () => {
      const response = await app.gql(app.adminToken, UPDATE_CONTRACT, {
        input: { id: encodeGlobalId('Contract', contract), title },
      });
      expect(dataOf(response).updateContract).toEqual({ contract: { title }, userErrors: [] });
    };
    const since = new Date();
    const failures = await inLockOrder(world, [
      importing(file, 'Title from the file'),
      update(imported, 'Title from the API'),
      update(other, 'Other title from the API'),
    ]);
    expect(failures).toEqual([]);
    await expectAsIfSerial(world, since);
    const titles = await app.database.db.query(`SELECT id, title FROM contract ORDER BY title`);
    expect(titles).toEqual([
      { id: other, title: 'Other title from the API' },
      { id: imported, title: 'Title from the API' },
    ]);
  });
  it("(t) a file import queues for the engine's lock while an incident update that adds an exposure holds it", async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const capita = await world.supplier();
    const exposed = await world.client();
    const contract = await world.contract(exposed, capita, { ...OPEN, startsOn: '2023-05-01' });
    await world.agreement(contract, {
      categories: ['CONTACT'],
      dataSubjectCount: 1000,
      dataRetainedUntil: null,
      subprocessorIds: [],
    });
    const { id: incident } = await world.recordIncident(
      capita,
      incidentAt({ containedAt: new Date('2023-04-10T00:00:00Z'), status: IncidentStatus.CONTAINED }),
    );
    const [{ count: before }] = await app.database.db.query(`SELECT count(*)::int AS count FROM exposure`);
    expect(before).toBe(0);
    const file = await contractImport(contract, 'Title from the file');
    const since = new Date();
    // The incident update queues for the engine's lock first, the import (its tables locked, the contract
    // written) second. Under the lock the update adds the client's exposure, whose foreign key takes FOR
    // KEY SHARE on the client (ROW SHARE on its table): the import's lock on the client table must not
    // conflict with that (EXCLUSIVE would, and the two would deadlock), so the client table stays SHARE
    // ROW EXCLUSIVE and the mutations take the table's write lock before a row's instead (test (r)).
    const failures = await inLockOrder(world, [
      () => world.updateIncident(incident, { containedAt: new Date('2023-06-01T00:00:00Z') }),
      importing(file, 'Title from the file'),
    ]);
    expect(failures).toEqual([]);
    await expectAsIfSerial(world, since);
    const [{ count: after }] = await app.database.db.query(`SELECT count(*)::int AS count FROM exposure`);
    expect(after).toBe(1);
  });

  /**
   * createContract, addSubprocessor and recordIncident, each naming `leaving`; what must never remain
   * afterwards; and the import's refusal that is the serial order "the mutation first" (null: that order
   * lets the file remove what the mutation wrote, with the supplier, and the import is applied).
   */
  const usesOfLeaving: [
    string,
    string,
    (client: string, kept: string, leaving: string) => Record<string, unknown>,
    string,
    RegExp | null,
  ][] = [
    [
      'a contract created for the supplier',
      `mutation($input: CreateContractInput!) { answer: createContract(input: $input) { userErrors { code } } }`,
      (client, _kept, leaving) => ({
        clientId: encodeGlobalId('Client', client),
        supplierId: encodeGlobalId('Supplier', leaving),
        reference: 'RACE-1',
        title: 'Raced',
        startsOn: '2020-01-01',
        criticality: 'IMPORTANT',
      }),
      `SELECT c.reference FROM contract c JOIN supplier s ON s.id = c.supplier_id
        WHERE c.removed_at IS NULL AND s.removed_at IS NOT NULL`,
      null,
    ],
    [
      'a supplier made to rely on it as a sub-processor',
      `mutation($input: AddSubprocessorInput!) { answer: addSubprocessor(input: $input) { userErrors { code } } }`,
      (_client, kept, leaving) => ({
        supplierId: encodeGlobalId('Supplier', kept),
        subprocessorId: encodeGlobalId('Supplier', leaving),
      }),
      `SELECT l.supplier_id FROM supplier_subprocessor l JOIN supplier s ON s.id = l.subprocessor_id
        WHERE s.removed_at IS NOT NULL`,
      null,
    ],
    [
      'an incident recorded at the supplier',
      `mutation($input: RecordIncidentInput!) { answer: recordIncident(input: $input) { userErrors { code } } }`,
      (_client, _kept, leaving) => ({
        supplierId: encodeGlobalId('Supplier', leaving),
        title: 'Raced incident',
        kind: 'CYBER_ATTACK',
        status: 'CONFIRMED',
        detectedAt: '2023-03-31T00:00:00Z',
        exfiltration: 'SUSPECTED',
      }),
      `SELECT i.title FROM incident i JOIN supplier s ON s.id = i.supplier_id
        WHERE i.status <> 'CLOSED' AND s.removed_at IS NOT NULL`,
      // The file cannot remove an incident: with the incident first, the import refuses to remove its supplier.
      /would remove the supplier .* but it has an incident that is not CLOSED/,
    ],
  ];

  it.each(usesOfLeaving)(
    '(u) %s while a file import (mode=replace) archives that supplier',
    async (_name, mutation, inputOf, leftBehind, refusedByImport) => {
      await clearRegister(app.database);
      const world = new World(app.services);
      const [kept, leaving] = [await world.supplier(), await world.supplier()];
      const client = await world.client();
      await world.contract(client, kept, OPEN);
      // The register as it is, without the supplier that nothing uses yet: mode=replace archives it.
      const file = await registerWithout(leaving);
      // A test connection holds the supplier's row FOR UPDATE, so the mutation stops in its check that the
      // supplier is in the register (FOR KEY SHARE), and the import, which starts second, in its archiving
      // of that row. Once the row is let go, both go on: before the fix the import held the register's
      // tables and archived the supplier (a plain UPDATE, which FOR KEY SHARE does not hold off) while the
      // mutation had checked it live; the mutation's insert then waited for the import and, after its
      // commit, wrote a live contract (or link) naming an archived supplier. An incident: the import read
      // which suppliers have an incident that is not CLOSED before the incident committed (the incident
      // table is not among those the import locks), and archived its supplier.
      const holder = app.database.db.createQueryRunner();
      await holder.connect();
      let outcome: PromiseSettledResult<unknown>[];
      const answers: { userErrors: { code: string }[] }[] = [];
      let importRefused = false;
      try {
        await holder.startTransaction();
        await holder.query(`SELECT id FROM supplier WHERE id = $1 FOR UPDATE`, [leaving]);
        outcome = await queueThenRelease(holder, [
          async () => {
            const response = await app.gql(app.adminToken, mutation, {
              input: inputOf(client, kept, leaving),
            });
            answers.push(dataOf(response).answer);
          },
          () =>
            upload(app, file, XLSX, '?mode=replace', app.adminToken, 'replace.xlsx').then((answer) => {
              const problems: { message: string }[] = answer.body?.problems ?? [];
              importRefused =
                answer.status === 422 &&
                refusedByImport !== null &&
                problems.length === 1 &&
                refusedByImport.test(problems[0].message);
              if (answer.status !== 200 && !importRefused)
                throw new Error(`the import answered ${answer.status}: ${JSON.stringify(answer.body)}`);
            }),
        ]);
      } finally {
        if (holder.isTransactionActive) await holder.rollbackTransaction();
        await holder.release();
      }
      expect(
        outcome
          .filter((o) => o.status === 'rejected')
          .map((o) => String((o as PromiseRejectedResult).reason)),
      ).toEqual([]);
      expect(answers).toHaveLength(1);
      // As if serial: the mutation first (then the file removes what it wrote with the supplier, or, for an
      // incident, the import refuses to remove the supplier), or the file first (then the supplier is no
      // longer in the register: NOT_FOUND). Never a live row naming an archived supplier.
      if (importRefused) expect(answers[0].userErrors).toEqual([]);
      expect(await app.database.db.query(leftBehind)).toEqual([]);
    },
  );

  /** The two ways a supplier leaves the register: removeSupplier, and a file import in mode=replace without it. */
  const removalsOf: [string, (leaving: string) => Promise<() => Promise<'removed' | 'refused'>>][] = [
    [
      'removeSupplier',
      async (leaving) => async () => {
        const response = await app.gql(
          app.adminToken,
          `mutation($input: RemoveSupplierInput!) { removeSupplier(input: $input) { removedId userErrors { field code message } } }`,
          { input: { id: encodeGlobalId('Supplier', leaving) } },
        );
        const { removedId, userErrors } = dataOf(response).removeSupplier;
        if (removedId) return 'removed';
        expect(userErrors).toEqual([
          { field: ['input', 'id'], code: 'CONFLICT', message: expect.stringMatching(/not CLOSED/) },
        ]);
        return 'refused';
      },
    ],
    [
      'a file import (mode=replace) without it',
      async (leaving) => {
        const [{ name }] = await app.database.db.query(`SELECT name FROM supplier WHERE id = $1`, [leaving]);
        const current = await sheetsOf((await download(app, app.adminToken, 'xlsx')).body);
        const file = await workbook({
          ...current,
          suppliers: current.suppliers.filter((row) => row[0] !== name),
        });
        return async () => {
          const answer = await upload(app, file, XLSX, '?mode=replace', app.adminToken, 'replace.xlsx');
          if (answer.status === 200) return 'removed';
          expect({
            status: answer.status,
            problems: answer.body.problems.map((p: { message: string }) => p.message),
          }).toEqual({
            status: 422,
            problems: [
              expect.stringMatching(/would remove the supplier .* but it has an incident that is not CLOSED/),
            ],
          });
          return 'refused';
        };
      },
    ],
  ];

  describe.each(removalsOf)(
    '(v) a CLOSED incident reopened while its supplier is removed by %s',
    (_name, removalOf) => {
      /**
       * `kept` with a client's contract, `leaving` with nothing but a CLOSED incident, so that the removal is
       * allowed while the incident stays CLOSED. Returns the removal, ready to start, and the incident.
       */
      async function setUp(): Promise<{
        remove: () => Promise<'removed' | 'refused'>;
        incident: string;
        leaving: string;
      }> {
        await clearRegister(app.database);
        const world = new World(app.services);
        const [kept, leaving] = [await world.supplier(), await world.supplier()];
        await world.contract(await world.client(), kept, OPEN);
        const { id: incident } = await world.recordIncident(leaving, incidentAt());
        expect((await world.updateIncident(incident, { status: IncidentStatus.CLOSED })).refused).toBe(false);
        return { remove: await removalOf(leaving), incident, leaving };
      }
      const reopen = async (incident: string) =>
        dataOf(
          await app.gql(
            app.analystToken,
            `mutation($input: UpdateIncidentInput!) { answer: updateIncident(input: $input) { incident { status } userErrors { field code message } } }`,
            { input: { id: encodeGlobalId('Incident', incident), status: 'CONFIRMED' } },
          ),
        ).answer as {
          incident: { status: string } | null;
          userErrors: { field: string[]; code: string; message: string }[];
        };
      const openAtArchived = `SELECT i.title FROM incident i JOIN supplier s ON s.id = i.supplier_id
      WHERE i.status <> 'CLOSED' AND s.removed_at IS NOT NULL`;

      /**
       * Starts the reopening while a test connection holds `lock`, waits until it waits for it, then starts
       * the removal and waits until it waits on a lock too or has ended; lets go and returns both answers.
       */
      async function race(
        lock: (holder: import('typeorm').QueryRunner) => Promise<unknown>,
        incident: string,
        remove: () => Promise<'removed' | 'refused'>,
      ) {
        const holder = app.database.db.createQueryRunner();
        await holder.connect();
        try {
          await holder.startTransaction();
          await lock(holder);
          const reopening = reopen(incident);
          reopening.catch(() => undefined); // collected below, after the lock is let go
          for (let i = 0; i < 1000 && (await waitingOnLocks()) < 1; i += 1)
            await new Promise((resolve) => setTimeout(resolve, 10));
          expect(await waitingOnLocks()).toBe(1);
          let ended = false;
          const removal = remove().finally(() => {
            ended = true;
          });
          removal.catch(() => undefined);
          for (let i = 0; i < 1000 && !ended && (await waitingOnLocks()) < 2; i += 1)
            await new Promise((resolve) => setTimeout(resolve, 10));
          await holder.commitTransaction();
          const [reopened, removed] = await Promise.allSettled([reopening, removal]);
          if (reopened.status === 'rejected') throw reopened.reason;
          if (removed.status === 'rejected') throw removed.reason;
          return { reopened: reopened.value, removed: removed.value };
        } finally {
          if (holder.isTransactionActive) await holder.rollbackTransaction();
          await holder.release();
        }
      }

      it('the removal first: the reopening then finds the supplier gone and is refused, saying what to do', async () => {
        const { remove, incident } = await setUp();
        // The incident's row held FOR UPDATE: the reopening waits for it before anything; the removal, which
        // reads the incident CLOSED, does not, and commits. Before the fix the reopening then went on (it never
        // checked the supplier) and left an open incident at an archived supplier.
        const { reopened, removed } = await race(
          (holder) => holder.query(`SELECT id FROM incident WHERE id = $1 FOR UPDATE`, [incident]),
          incident,
          remove,
        );
        expect(removed).toBe('removed');
        expect(reopened).toEqual({
          incident: null,
          userErrors: [
            {
              field: ['input', 'status'],
              code: 'CONFLICT',
              message: expect.stringMatching(
                /supplier was removed from the register, so the incident cannot be reopened: it stays CLOSED/,
              ),
            },
          ],
        });
        expect(await app.database.db.query(openAtArchived)).toEqual([]);
        const [{ status }] = await app.database.db.query(`SELECT status FROM incident WHERE id = $1`, [
          incident,
        ]);
        expect(status).toBe('CLOSED');
      });

      it('the reopening first: the removal waits for it, then finds the incident open and is refused', async () => {
        const { remove, incident } = await setUp();
        // The engine's lock held: the reopening checks its supplier, then waits for the lock to recompute. The
        // removal must wait for the reopening (the supplier row for removeSupplier, the supplier table for the
        // import) and then see the incident open. Before the fix it did not wait: it read the incident CLOSED
        // and archived the supplier, and the reopening then committed an open incident at it.
        const { reopened, removed } = await race(
          (holder) => holder.query(`SELECT pg_advisory_xact_lock($1)`, [EXPOSURE_LOCK_KEY]),
          incident,
          remove,
        );
        expect(reopened).toEqual({ incident: { status: 'CONFIRMED' }, userErrors: [] });
        expect(removed).toBe('refused');
        expect(await app.database.db.query(openAtArchived)).toEqual([]);
      });
    },
  );

  it('(w) a reopening, an incident and a contract at a supplier the file import (mode=replace) keeps wait for the import, then succeed', async () => {
    await clearRegister(app.database);
    const world = new World(app.services);
    const [kept, leaving] = [await world.supplier(), await world.supplier()];
    const client = await world.client();
    await world.contract(client, kept, OPEN);
    const { id: closed } = await world.recordIncident(kept, incidentAt());
    expect((await world.updateIncident(closed, { status: IncidentStatus.CLOSED })).refused).toBe(false);
    const file = await registerWithout(leaving);
    // A test connection holds the leaving supplier's row: the import, which has locked the register's
    // tables, stops at archiving it; the three writes at the kept supplier queue for the supplier table
    // (the reopening holding its incident's row) and must go on once the import commits, refusing nothing.
    const holder = app.database.db.createQueryRunner();
    await holder.connect();
    const writes = [
      [
        `mutation($input: UpdateIncidentInput!) { answer: updateIncident(input: $input) { incident { status } userErrors { code message } } }`,
        { id: encodeGlobalId('Incident', closed), status: 'CONFIRMED' },
      ],
      [
        `mutation($input: RecordIncidentInput!) { answer: recordIncident(input: $input) { incident { status } userErrors { code message } } }`,
        {
          supplierId: encodeGlobalId('Supplier', kept),
          title: 'Second incident',
          kind: 'CYBER_ATTACK',
          status: 'CONFIRMED',
          detectedAt: '2023-03-31T00:00:00Z',
          exfiltration: 'SUSPECTED',
        },
      ],
      [
        `mutation($input: CreateContractInput!) { answer: createContract(input: $input) { userErrors { code message } } }`,
        {
          clientId: encodeGlobalId('Client', client),
          supplierId: encodeGlobalId('Supplier', kept),
          reference: 'W-SECOND',
          title: 'Second contract',
          startsOn: '2020-01-01',
          criticality: 'IMPORTANT',
        },
      ],
    ] as const;
    let outcome: PromiseSettledResult<unknown>[];
    const answers: { userErrors: { code: string }[] }[] = [];
    let imported = 0;
    try {
      await holder.startTransaction();
      await holder.query(`SELECT id FROM supplier WHERE id = $1 FOR UPDATE`, [leaving]);
      const steps = [
        () =>
          upload(app, file, XLSX, '?mode=replace', app.adminToken, 'replace.xlsx').then((answer) => {
            imported = answer.status;
          }),
        ...writes.map(([mutation, input]) => async () => {
          answers.push(dataOf(await app.gql(app.adminToken, mutation, { input })).answer);
        }),
      ];
      outcome = await queueThenRelease(holder, steps);
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    expect(
      outcome.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
    ).toEqual([]);
    expect(imported).toBe(200);
    expect(answers.map((a) => a.userErrors)).toEqual([[], [], []]);
    const [{ open }] = await app.database.db.query(
      `SELECT count(*)::int AS open FROM incident WHERE supplier_id = $1 AND status <> 'CLOSED'`,
      [kept],
    );
    expect(open).toBe(2);
  });
});
