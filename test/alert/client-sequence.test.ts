/**
 * Issue 10, finding 2: a client-role subscriber's alert ids are its own numbers (1, 2, 3, …), so neither
 * live ids, replayed ids nor resumeAfter reveal how many alerts other clients had. Admin and analyst keep
 * the register-wide ids. Everything here goes through the real graphql-ws route.
 */
import { TestApp, TEST_JWT_SECRET, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { mintToken } from '../../src/auth/jwt';
import { ExfiltrationStatus } from '../../src/common/enums';
import { subscribe } from './subscriber';
import { createDataSource } from '../../ormconfig';
import { createTestDatabase } from '../support/database';
import { createServices } from '../../src/services';
import { AlertClientSequence1796158515803 } from '../../migrations/1796158515803-AlertClientSequence';

async function exposedClient(app: TestApp, name: string, ...supplierIds: string[]) {
  const client = await createClient(app.services, { name });
  for (const supplierId of supplierIds)
    await createAgreement(app.services, (await createContract(app.services, client.id, supplierId)).id);
  return client;
}

/** The alerts of one client as stored: register-wide id and the client's own number, in id order. */
async function storedAlerts(app: TestApp, clientId: string): Promise<{ id: string; seq: string }[]> {
  return app.database.db.query(
    `SELECT a.id::text AS id, a.client_seq::text AS seq FROM exposure_alert a WHERE a.client_id = $1 ORDER BY a.id`,
    [clientId],
  );
}

/** An admin changes an incident over HTTP, which re-scores (and alerts) every client exposed to it. */
async function adminSetsExfiltration(
  app: TestApp,
  incidentId: string,
  exfiltration: ExfiltrationStatus,
): Promise<void> {
  const result = await app.gql(
    app.adminToken,
    `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { userErrors { message } } }`,
    {
      input: { id: encodeGlobalId('Incident', incidentId), exfiltration },
    },
  );
  expect(dataOf(result).updateIncident.userErrors).toEqual([]);
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the instance's hub has dispatched every committed alert, so a live-only subscription made
 * next starts after them (the NOTIFY of the last write may otherwise arrive after it subscribed).
 */
async function hubCaughtUp(app: TestApp): Promise<void> {
  const [{ newest }] = await app.database.db.query(
    `SELECT coalesce(max(id), 0)::text AS newest FROM exposure_alert`,
  );
  for (let waited = 0; app.server.alertHub.position < BigInt(newest); waited += 20) {
    if (waited > 5000) throw new Error(`the alert hub did not reach alert ${newest}`);
    await wait(20);
  }
}

describe("a client's alert ids count only its own alerts", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  /**
   * The scenario: the client saw 210, an admin changed an incident the client is not exposed to,
   * and the client then saw 212. Now it sees 1, 2, 3 however many alerts other clients get in between.
   */
  it('sees 1, 2, 3 with no gaps while an admin causes alerts for other clients in between', async () => {
    const shared = await createSupplier(app.services);
    const elsewhere = await createSupplier(app.services);
    const watched = await exposedClient(app, 'Watched Council', shared.id);
    const others = [
      await exposedClient(app, 'Other Council 1', shared.id, elsewhere.id),
      await exposedClient(app, 'Other Council 2', elsewhere.id),
    ];
    const { incident: notOurs } = await recordIncident(app.services, elsewhere.id);
    await hubCaughtUp(app);

    const client = await subscribe(app.url, await app.clientToken(watched.id));
    const adminForClient = await subscribe(app.url, app.adminToken, {
      clientId: encodeGlobalId('Client', watched.id),
    });
    const { incident: ours } = await recordIncident(app.services, shared.id);
    await client.waitFor(1);
    await adminSetsExfiltration(app, notOurs.id, ExfiltrationStatus.CONFIRMED);
    await adminSetsExfiltration(app, ours.id, ExfiltrationStatus.CONFIRMED);
    await client.waitFor(2);
    await adminSetsExfiltration(app, notOurs.id, ExfiltrationStatus.NONE_FOUND);
    await adminSetsExfiltration(app, ours.id, ExfiltrationStatus.NONE_FOUND);
    await client.waitFor(3);
    await adminForClient.waitFor(3);
    await wait(300);

    expect(client.alerts.map((alert) => [alert.id, alert.kind])).toEqual([
      ['1', 'NEW'],
      ['2', 'CHANGED'],
      ['3', 'CHANGED'],
    ]);
    const stored = await storedAlerts(app, watched.id);
    expect(stored.map((alert) => alert.seq)).toEqual(['1', '2', '3']);
    // The register-wide ids of the same alerts have gaps (the other clients' alerts): what a client used to see.
    const registerIds = stored.map((alert) => BigInt(alert.id));
    expect(registerIds[1] - registerIds[0]).toBeGreaterThan(1n);
    expect(registerIds[2] - registerIds[1]).toBeGreaterThan(1n);
    // Admin, even filtered to that client, sees the register-wide ids (unchanged behaviour).
    expect(adminForClient.alerts.map((alert) => alert.id)).toEqual(stored.map((alert) => alert.id));
    // Every other client is numbered from 1 too, in the order of its register-wide ids.
    for (const other of others) {
      const theirs = await storedAlerts(app, other.id);
      expect(theirs.map((alert) => alert.seq)).toEqual(theirs.map((_, i) => String(i + 1)));
    }
    await Promise.all([client.dispose(), adminForClient.dispose()]);
  });

  it('numbers each client 1, 2, 3, … in register-id order when writers run concurrently', async () => {
    const [first, second] = [await createSupplier(app.services), await createSupplier(app.services)];
    const clients = [];
    for (let i = 0; i < 4; i += 1)
      clients.push(
        await exposedClient(app, `Concurrent Council ${i}`, ...(i % 2 ? [first.id, second.id] : [first.id])),
      );
    const contracts: { id: string }[] = await app.database.db.query(
      `SELECT id FROM contract WHERE client_id = ANY($1::uuid[])`,
      [clients.map((c) => c.id)],
    );
    // Incidents and contract changes at once: each transaction numbers on from what the one before committed.
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => recordIncident(app.services, i % 2 ? first.id : second.id)),
      ...contracts.map((contract) =>
        app.gql(
          app.adminToken,
          `mutation($input: UpdateContractInput!) { updateContract(input: $input) { userErrors { message } } }`,
          {
            input: { id: encodeGlobalId('Contract', contract.id), criticality: 'CRITICAL' },
          },
        ),
      ),
    ]);
    const numbering: { client_id: string; seqs: string[]; expected: string[] }[] =
      await app.database.db.query(
        `SELECT client_id, array_agg(client_seq::text ORDER BY id) AS seqs, array_agg((row_number)::text ORDER BY id) AS expected
       FROM (SELECT a.*, row_number() OVER (PARTITION BY client_id ORDER BY id) FROM exposure_alert a WHERE client_id = ANY($1::uuid[])) x
       GROUP BY client_id`,
        [clients.map((c) => c.id)],
      );
    expect(numbering).toHaveLength(4);
    for (const { seqs, expected } of numbering) {
      expect(seqs.length).toBeGreaterThan(3);
      expect(seqs).toEqual(expected);
    }
  });

  it("replays after one of the client's own ids, then goes on live", async () => {
    const shared = await createSupplier(app.services);
    const elsewhere = await createSupplier(app.services);
    const watched = await exposedClient(app, 'Replaying Council', shared.id);
    await exposedClient(app, 'Busy Council', shared.id, elsewhere.id);
    for (let i = 0; i < 3; i += 1) {
      await recordIncident(app.services, shared.id);
      await recordIncident(app.services, elsewhere.id);
    }
    const token = await app.clientToken(watched.id);

    const fromTwo = await subscribe(app.url, token, { after: '1' });
    const fromStart = await subscribe(app.url, token, { after: '0' });
    await fromTwo.waitFor(2);
    await fromStart.waitFor(3);
    await recordIncident(app.services, elsewhere.id);
    await recordIncident(app.services, shared.id);
    await fromTwo.waitFor(3);
    await fromStart.waitFor(4);
    await wait(300);
    expect(fromTwo.alerts.map((alert) => alert.id)).toEqual(['2', '3', '4']);
    expect(fromStart.alerts.map((alert) => alert.id)).toEqual(['1', '2', '3', '4']);
    expect(fromTwo.errors).toEqual([]);
    await Promise.all([fromTwo.dispose(), fromStart.dispose()]);
  });

  it('refuses after: an id not issued yet, for a client and for an admin, instead of waiting silently', async () => {
    const shared = await createSupplier(app.services);
    const watched = await exposedClient(app, 'Impatient Council', shared.id);
    await exposedClient(app, 'Neighbour Council', shared.id);
    await recordIncident(app.services, shared.id);
    await recordIncident(app.services, shared.id);
    const [{ newest }] = await app.database.db.query(`SELECT max(id)::text AS newest FROM exposure_alert`);
    const token = await app.clientToken(watched.id);

    // The client has alerts 1 and 2; 3 is not issued yet, and a register-wide id that exists (another
    // client's) means nothing to it either.
    for (const after of ['3', newest]) {
      const sub = await subscribe(app.url, token, { after });
      await sub.waitUntilEnded();
      expect(sub.alerts).toEqual([]);
      expect(sub.errors).toHaveLength(1);
      expect(sub.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(sub.errors[0].message).toBe(
        `after: "${after}" has not been issued yet: the newest alert id you can resume after is "2"; pass the id of an alert you received (or omit after to receive only new alerts)`,
      );
      await sub.dispose();
    }
    const atNewest = await subscribe(app.url, token, { after: '2' });
    await wait(300);
    expect(atNewest.errors).toEqual([]);
    expect(atNewest.completed).toBe(false);
    await atNewest.dispose();

    const beyond = (BigInt(newest) + 1n).toString();
    const admin = await subscribe(app.url, app.adminToken, { after: beyond });
    await admin.waitUntilEnded();
    expect(admin.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(admin.errors[0]?.message).toMatch(
      new RegExp(
        `^after: "${beyond}" has not been issued yet: the newest alert id you can resume after is "${newest}"`,
      ),
    );
    await admin.dispose();

    const tooLarge = await subscribe(app.url, token, { after: '9999999999999999999' });
    await tooLarge.waitUntilEnded();
    expect(tooLarge.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await tooLarge.dispose();
  });

  it("ends on token expiry with resumeAfter in the client's own numbering, delivered or not", async () => {
    const shared = await createSupplier(app.services);
    const elsewhere = await createSupplier(app.services);
    const watched = await exposedClient(app, 'Expiring Council', shared.id);
    await exposedClient(app, 'Loud Council', shared.id, elsewhere.id);
    await recordIncident(app.services, shared.id);
    await recordIncident(app.services, elsewhere.id);
    await recordIncident(app.services, elsewhere.id);
    const token = await mintToken(
      TEST_JWT_SECRET,
      { sub: 'expiring-client', role: 'client', client_id: encodeGlobalId('Client', watched.id) },
      '3s',
    );

    // One receives alert 2 live, one receives it by replay, and one subscribes after it and receives
    // nothing: all three must be told to resume after 2, the client's own number, not the register's.
    await hubCaughtUp(app);
    const receiving = await subscribe(app.url, token);
    const replaying = await subscribe(app.url, token, { after: '1' });
    await recordIncident(app.services, elsewhere.id);
    await recordIncident(app.services, shared.id);
    await receiving.waitFor(1);
    await replaying.waitFor(1);
    await hubCaughtUp(app);
    const silent = await subscribe(app.url, token, {}, { headerToken: true });
    await Promise.all([
      receiving.waitUntilEnded(6000),
      replaying.waitUntilEnded(6000),
      silent.waitUntilEnded(6000),
    ]);

    const [, second] = await storedAlerts(app, watched.id);
    expect(second.seq).toBe('2');
    expect(second.id).not.toBe('2');
    expect(receiving.alerts.map((alert) => alert.id)).toEqual(['2']);
    expect(replaying.alerts.map((alert) => alert.id)).toEqual(['2']);
    expect(silent.alerts).toEqual([]);
    for (const ended of [receiving, replaying, silent]) {
      expect(ended.errors[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', resumeAfter: '2' });
    }
    await Promise.all([receiving.dispose(), replaying.dispose(), silent.dispose()]);
  }, 20000);
});

describe('a client subscriber that falls behind', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ALERT_QUEUE_MAX: '2' });
  });
  afterAll(() => app.stop());

  it('is ended with resumeAfter in its own numbering and resumes from it, losing nothing', async () => {
    const shared = await createSupplier(app.services);
    const watched = await createClient(app.services, { name: 'Slow Council' });
    const contract = await createContract(app.services, watched.id, shared.id);
    await createAgreement(app.services, contract.id);
    await exposedClient(app, 'Fast Council', shared.id);
    for (let i = 0; i < 4; i += 1) await recordIncident(app.services, shared.id);
    const token = await app.clientToken(watched.id);
    await hubCaughtUp(app);

    const sub = await subscribe(app.url, token);
    // One contract change re-scores the client's four open exposures in one transaction: four alerts at
    // once, more than the queue of two holds, before the subscriber received anything.
    const result = await app.gql(
      app.adminToken,
      `mutation($input: UpdateContractInput!) { updateContract(input: $input) { userErrors { message } } }`,
      {
        input: { id: encodeGlobalId('Contract', contract.id), criticality: 'CRITICAL' },
      },
    );
    expect(dataOf(result).updateContract.userErrors).toEqual([]);
    await sub.waitUntilEnded();
    expect(sub.alerts).toEqual([]);
    expect(sub.errors[0]?.extensions).toMatchObject({ code: 'SUBSCRIBER_TOO_SLOW', resumeAfter: '4' });
    expect(sub.errors[0]?.message).toMatch(/subscribe again with after: "4"/);

    const resumed = await subscribe(app.url, token, { after: '4' });
    await resumed.waitFor(4);
    await wait(300);
    expect(resumed.alerts.map((alert) => [alert.id, alert.kind])).toEqual([
      ['5', 'CHANGED'],
      ['6', 'CHANGED'],
      ['7', 'CHANGED'],
      ['8', 'CHANGED'],
    ]);
    await Promise.all([sub.dispose(), resumed.dispose()]);
  });
});

describe('the migration that adds client_seq', () => {
  it('numbers existing alerts exactly as the engine numbers new ones', async () => {
    const database = await createTestDatabase();
    try {
      const services = createServices(database.db);
      const [first, second] = [await createSupplier(services), await createSupplier(services)];
      for (let i = 0; i < 3; i += 1) {
        const client = await createClient(services);
        for (const supplier of i ? [first, second] : [first])
          await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);
      }
      for (const supplier of [first, second, first, second, first])
        await recordIncident(services, supplier.id);
      const numbered = `SELECT a.id::text AS id, a.client_id, a.client_seq::text AS seq FROM exposure_alert a ORDER BY a.id`;
      const byEngine: { seq: string }[] = await database.db.query(numbered);
      expect(new Set(byEngine.map((alert) => alert.seq)).size).toBeGreaterThan(3);

      // Back to the table without the column (append-only triggers still on), then forward again, as the
      // owner that runs migrations (the API's role may not alter tables).
      const owner = createDataSource(database.ownerUrl, { poolMax: 1 });
      await owner.initialize();
      try {
        const runner = owner.createQueryRunner();
        try {
          const migration = new AlertClientSequence1796158515803();
          await runner.startTransaction();
          await migration.down(runner);
          await migration.up(runner);
          await runner.commitTransaction();
        } finally {
          await runner.release();
        }
        expect(await database.db.query(numbered)).toEqual(byEngine);
        // The append-only guard is back on after the backfill (the owner meets the trigger; the API's role has no UPDATE at all).
        await expect(owner.query(`UPDATE exposure_alert SET client_seq = client_seq + 1`)).rejects.toThrow(
          /append-only/,
        );
      } finally {
        await owner.destroy();
      }
    } finally {
      await database.drop();
    }
  });
});
