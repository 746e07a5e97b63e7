/**
 * Structural performance of the webhook API: the endpoint list with each endpoint's client, backlog and
 * deliveries costs the same number of SQL statements for 2 endpoints as for 12 (loaders batch each nested
 * field into one statement), and each mutation costs a fixed number.
 */
import { TestApp, startTestApp } from '../support/app';
import { encodeGlobalId } from '../../src/common/global-id';
import { CREATE, LIST, REPLAY, ROTATE, UPDATE, createEndpoint, registerWithClients } from './support';
import { recordIncident } from '../support/factories';
import { scopedDataSource } from '../../src/common/request-scope';
import { loadConfig } from '../../src/config';
import { WebhookWorker, webhookWorkerOptions } from '../../src/modules/webhook/webhook.worker';
import { Receiver, startReceiver } from './receiver';

describe('SQL statements of the webhook API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '0' });
  });
  afterAll(() => app.stop());

  async function addEndpoints(count: number, clientId: string) {
    for (let i = 0; i < count; i += 1) {
      const { id } = await createEndpoint(app, app.adminToken, {
        url: `http://127.0.0.1:9/hook-${i}`,
        clientId: encodeGlobalId('Client', clientId),
      });
      const dbId = Buffer.from(id, 'base64url').toString().split(':')[1];
      await app.database.db.query(
        `INSERT INTO webhook_delivery (endpoint_id, alert_id, webhook_id, attempt, attempted_at, duration_ms, status_code, outcome, worker)
         SELECT $1, n, n::text, 1, now(), 5, 200, 'SUCCESS', 'test' FROM generate_series(1, 3) n`,
        [dbId],
      );
    }
  }

  it('lists endpoints with client, backlog and deliveries in a fixed number of statements', async () => {
    const { clients } = await registerWithClients(app, ['Counted A', 'Counted B']);
    await addEndpoints(2, clients[0].id);
    const small = await app.gql(app.adminToken, LIST);
    expect(small.body.data.webhookEndpoints.edges).toHaveLength(2);
    await addEndpoints(10, clients[1].id);
    const large = await app.gql(app.adminToken, LIST);
    expect(large.body.data.webhookEndpoints.edges).toHaveLength(12);
    // Page, totalCount, clients, backlogs, delivery pages, delivery counts.
    expect([small.sqlStatements, large.sqlStatements]).toEqual([6, 6]);
    const asClient = await app.gql(await app.clientToken(clients[1].id), LIST);
    expect(asClient.body.data.webhookEndpoints.edges).toHaveLength(10);
    expect(asClient.sqlStatements).toBe(6);
  });

  it('pins the statements of each mutation', async () => {
    const { clients } = await registerWithClients(app, ['Counted C']);
    const created = await app.gql(app.adminToken, CREATE, {
      input: { url: 'http://127.0.0.1:9/pinned', clientId: encodeGlobalId('Client', clients[0].id) },
    });
    const id = created.body.data.createWebhookEndpoint.endpoint.id;
    const counts = {
      create: created.sqlStatements,
      update: (await app.gql(app.adminToken, UPDATE, { input: { id, description: 'pinned' } })).sqlStatements,
      rotate: (await app.gql(app.adminToken, ROTATE, { input: { id } })).sqlStatements,
      replay: (await app.gql(app.adminToken, REPLAY, { input: { endpointId: id, after: '0' } }))
        .sqlStatements,
    };
    // create: a transaction (BEGIN, the audit actor, INSERT, COMMIT), then reading the row back; the others: a
    // transaction locking the endpoint, then TypeORM's save.
    expect(counts).toEqual({ create: 6, update: 6, rotate: 6, replay: 7 });
  });

  it("delivers a claim's batch in a fixed number of statements plus one per attempt", async () => {
    const receiver: Receiver = await startReceiver();
    try {
      // One incident alerting n clients, each with an endpoint: the worker's statements for all of them.
      const deliver = async (n: number) => {
        const names = Array.from({ length: n }, (_, i) => `Batch ${n}-${i}`);
        const { supplier, clients } = await registerWithClients(app, names);
        for (const client of clients)
          await createEndpoint(app, app.adminToken, {
            url: `${receiver.url}/batch-${client.id}`,
            clientId: encodeGlobalId('Client', client.id),
          });
        await recordIncident(app.services, supplier.id);
        const scope = { sqlStatements: 0 };
        const worker = new WebhookWorker(
          scopedDataSource(app.database.db, scope),
          webhookWorkerOptions(
            loadConfig({
              NODE_ENV: 'test',
              WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
              WEBHOOK_CONCURRENCY: '16',
            }),
          ),
          app.services.obligation,
        );
        await worker.runUntilIdle();
        expect(clients.every((c) => receiver.at(`/batch-${c.id}`).length === 1)).toBe(true);
        return scope.sqlStatements;
      };
      const small = await deliver(2);
      const large = await deliver(12);
      // The claim, the alerts of every claimed endpoint, the loaders behind the payload (exposures, clients,
      // triggers, decisions, revisions), then one statement per attempt (recorded, moving the cursor and
      // releasing the lease), and the claim that finds nothing more to do.
      expect([small - 2, large - 12]).toEqual([8, 8]);
    } finally {
      await receiver.close();
    }
  });
});
