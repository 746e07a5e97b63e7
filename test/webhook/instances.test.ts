import { TestApp, startTestApp } from '../support/app';
import { recordIncident } from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { eventually } from '../ops/support';
import { Receiver, startReceiver } from './receiver';
import { alertsInOrder, createEndpoint, registerWithClients } from './support';

/**
 * Two API instances (two servers, each with its own DataSource and delivery worker) on one database share
 * the deliveries: each endpoint is claimed by one of them at a time (FOR UPDATE SKIP LOCKED plus a lease),
 * so no attempt is sent twice and each endpoint still gets its alerts in order.
 */
describe('two instances sharing the deliveries', () => {
  // Four endpoints at a time per instance, for fourteen endpoints: neither can take all the work.
  const env = { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '50', WEBHOOK_CONCURRENCY: '4' };
  let first: TestApp;
  let second: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    first = await startTestApp(env);
    second = await startTestApp(env, { database: first.database });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await second.stop();
    await first.stop();
    await receiver.close();
  });

  it('delivers every alert to every endpoint exactly once, in order, with both instances sending', async () => {
    receiver.answer = () => ({ status: 200, body: 'ok', delayMs: 15 });
    const { supplier, clients } = await registerWithClients(
      first,
      Array.from({ length: 12 }, (_, i) => `Shared Council ${i}`),
    );
    const endpoints = [];
    for (const [i, client] of clients.entries())
      endpoints.push({
        path: `/client-${i}`,
        client: client.id,
        ...(await createEndpoint(first, first.adminToken, {
          url: `${receiver.url}/client-${i}`,
          clientId: encodeGlobalId('Client', client.id),
        })),
      });
    for (const path of ['/all-1', '/all-2'])
      endpoints.push({
        path,
        client: null,
        ...(await createEndpoint(second, second.adminToken, { url: `${receiver.url}${path}` })),
      });

    for (let i = 0; i < 4; i += 1)
      await recordIncident(first.services, supplier.id, { title: `Shared ${i}` });
    const alerts = await alertsInOrder(first);
    expect(alerts).toHaveLength(48);
    const expectedTotal = 12 * 4 + 2 * 48;
    await eventually(() => receiver.received.length >= expectedTotal, 30_000, 'every delivery');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(expectedTotal);

    for (const endpoint of endpoints) {
      const ids = receiver.verified(endpoint.path, endpoint.secret).map((d) => d.id);
      const wanted =
        endpoint.client === null
          ? alerts.map((a) => a.id)
          : alerts.filter((a) => a.client === endpoint.client).map((a) => a.seq);
      expect({ path: endpoint.path, ids }).toEqual({ path: endpoint.path, ids: wanted });
    }
    const attempts: { worker: string; attempts: number; duplicates: number }[] =
      await first.database.db.query(
        `SELECT worker, count(*)::int AS attempts,
              (SELECT count(*)::int FROM (SELECT 1 FROM webhook_delivery GROUP BY endpoint_id, alert_id HAVING count(*) > 1) d) AS duplicates
       FROM webhook_delivery GROUP BY worker ORDER BY worker`,
      );
    expect(attempts).toHaveLength(2);
    expect(attempts.reduce((sum, row) => sum + row.attempts, 0)).toBe(expectedTotal);
    for (const row of attempts) {
      expect(row.duplicates).toBe(0);
      expect(row.attempts).toBeGreaterThan(0);
    }
  });
});
