import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { loadConfig } from '../../src/config';
import { RegulatoryRegime } from '../../src/modules/obligation/regimes';
import { WebhookWorker, webhookWorkerOptions } from '../../src/modules/webhook/webhook.worker';
import { Receiver, startReceiver } from './receiver';
import { createEndpoint } from './support';

const EXPOSURE = `query($id: ID!) {
  node(id: $id) { ... on Exposure {
    nextDueAt
    obligations { regime milestone description startsAt dueAt status source reviewNeeded }
  } }
}`;

/**
 * The payload carries the exposure's clocks as the API computes them: its obligations and nextDueAt equal
 * what GraphQL answers for the same exposure to the endpoint's viewer (the client's token for a client's
 * endpoint, an admin's for an all-clients one), including a trigger recorded after the alert.
 */
describe('webhook payload', () => {
  let app: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '0' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it("carries the exposure's obligations and next due date as GraphQL answers them", async () => {
    const supplier = await createSupplier(app.services, { name: 'Clocked Supplier' });
    const clients = [
      await createClient(app.services, {
        name: 'Clocked A',
        country: 'GB',
        regimes: [RegulatoryRegime.UK_GDPR, RegulatoryRegime.UK_NIS],
      }),
      await createClient(app.services, { name: 'Clocked B', country: 'IE' }),
    ];
    for (const client of clients)
      await createAgreement(app.services, (await createContract(app.services, client.id, supplier.id)).id);
    const [a, b] = clients;
    const tokenA = await app.clientToken(a.id);
    const atA = await createEndpoint(app, tokenA, { url: `${receiver.url}/clocks-a` });
    const all = await createEndpoint(app, app.adminToken, { url: `${receiver.url}/clocks-all` });

    const detectedAt = new Date(Date.now() - 3600_000);
    const { incident } = await recordIncident(app.services, supplier.id, {
      title: 'Clocks running',
      detectedAt,
      clientsNotifiedAt: detectedAt,
    });
    const [exposureA, exposureB] = await Promise.all(
      [a, b].map(async (client) => {
        const [row] = await app.database.db.query(
          `SELECT id FROM exposure WHERE incident_id = $1 AND client_id = $2`,
          [incident.id, client.id],
        );
        return row.id as string;
      }),
    );
    // Recorded after the alert and before the delivery: the payload's clocks are those at sending.
    await app.services.obligation.recordObligationTrigger(FACTORY_ADMIN, {
      exposureId: encodeGlobalId('Exposure', exposureA),
      regime: RegulatoryRegime.UK_NIS,
      triggeredAt: new Date(Date.now() - 600_000),
      reason: 'Judged significant by the incident team',
    });

    const worker = new WebhookWorker(
      app.database.db,
      webhookWorkerOptions(loadConfig({ NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' })),
      app.services.obligation,
    );
    await worker.runUntilIdle();

    const [delivered] = receiver.verified('/clocks-a', atA.secret);
    const sentA = delivered.payload.data.exposure;
    const answeredA = dataOf(
      await app.gql(tokenA, EXPOSURE, { id: encodeGlobalId('Exposure', exposureA) }),
    ).node;
    expect(sentA.id).toBe(encodeGlobalId('Exposure', exposureA));
    expect(sentA.obligations).toEqual(answeredA.obligations);
    expect(sentA.nextDueAt).toBe(answeredA.nextDueAt);
    // Not a vacuous match: the recorded trigger started UK NIS's clock, and UK GDPR's runs.
    expect(sentA.obligations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ regime: 'UK_NIS', milestone: 'NOTIFICATION', status: 'OPEN' }),
        expect.objectContaining({ regime: 'UK_GDPR', milestone: 'NOTIFICATION', dueAt: expect.any(String) }),
      ]),
    );
    expect(sentA.nextDueAt).toEqual(expect.any(String));

    // The all-clients endpoint: each client's exposure with its own regimes, as an admin reads them.
    const sentAll = receiver.verified('/clocks-all', all.secret).map((d) => d.payload.data);
    expect(sentAll.map((d) => d.client.name).sort()).toEqual(['Clocked A', 'Clocked B']);
    for (const [exposureId, client] of [
      [exposureA, a],
      [exposureB, b],
    ] as const) {
      const sent = sentAll.find((d) => d.client.id === encodeGlobalId('Client', client.id)).exposure;
      const answered = dataOf(
        await app.gql(app.adminToken, EXPOSURE, { id: encodeGlobalId('Exposure', exposureId) }),
      ).node;
      expect(sent.obligations).toEqual(answered.obligations);
      expect(sent.nextDueAt).toBe(answered.nextDueAt);
    }
    expect(
      sentAll.find((d) => d.client.name === 'Clocked B').exposure.obligations.map((o: any) => o.regime),
    ).toContain('EU_GDPR');
  });
});
