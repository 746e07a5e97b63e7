import { TestApp, dataOf, startTestApp } from '../support/app';
import { encodeGlobalId } from '../../src/common/global-id';
import { loadConfig } from '../../src/config';
import { DailyJobRunner } from '../../src/modules/schedule/daily-jobs';
import { webhookDeliveryPruningJob } from '../../src/modules/webhook/webhook.pruning';
import { LIST, createEndpoint, registerWithClients } from './support';

/**
 * Delivery history past WEBHOOK_DELIVERY_RETENTION is pruned by a daily job: once a day, by one instance
 * even when several tick at the same moment, as the API's restricted database role.
 */
describe('webhook delivery history retention', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '0' });
  });
  afterAll(() => app.stop());

  it('reads WEBHOOK_DELIVERY_RETENTION as a duration of at least a day (30 days by default)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).webhookDeliveryRetentionSeconds).toBe(30 * 86400);
    expect(
      loadConfig({ NODE_ENV: 'test', WEBHOOK_DELIVERY_RETENTION: '7d' }).webhookDeliveryRetentionSeconds,
    ).toBe(7 * 86400);
    expect(() => loadConfig({ NODE_ENV: 'test', WEBHOOK_DELIVERY_RETENTION: '2h' })).toThrow(
      /WEBHOOK_DELIVERY_RETENTION must be a duration from 86400 s/,
    );
  });

  it('deletes attempts older than the retention once a day, with several instances ticking at once', async () => {
    const { clients } = await registerWithClients(app, ['Retained Council']);
    const { id } = await createEndpoint(app, app.adminToken, {
      url: 'http://127.0.0.1:9/retained',
      clientId: encodeGlobalId('Client', clients[0].id),
    });
    const dbId = Buffer.from(id, 'base64url').toString().split(':')[1];
    // Attempts 1 to 40 days old, one a day.
    await app.database.asOwner((db) =>
      db.query(
        `INSERT INTO webhook_delivery (endpoint_id, alert_id, webhook_id, attempt, attempted_at, duration_ms, status_code, outcome, worker)
         SELECT $1, n, n::text, 1, now() - n * interval '1 day' + interval '1 minute', 5, 200, 'SUCCESS', 'test'
         FROM generate_series(1, 40) n`,
        [dbId],
      ),
    );
    const deliveries = async () =>
      dataOf(await app.gql(app.adminToken, LIST)).webhookEndpoints.edges.find((e: any) => e.node.id === id)
        .node.deliveries;
    expect((await deliveries()).totalCount).toBe(40);

    // Three instances tick at the same moment: one prunes, the others skip (the job's row is locked or done).
    const day = new Date();
    const runners = [0, 1, 2].map(
      () =>
        new DailyJobRunner(app.database.db, [webhookDeliveryPruningJob(30 * 86400)], {
          intervalMs: 0,
          clock: () => day,
        }),
    );
    const outcomes = (await Promise.all(runners.map((r) => r.runDue()))).flat();
    expect(outcomes.filter((o) => o.ran)).toEqual([
      expect.objectContaining({ name: 'webhook-delivery-pruning', changed: 10 }),
    ]);
    const left = await deliveries();
    expect(left.totalCount).toBe(30);
    expect(
      left.edges.map((e: any) => Number(e.node.webhookId)).sort((x: number, y: number) => x - y),
    ).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The same day again: nothing runs.
    expect((await runners[0].runDue()).some((o) => o.ran)).toBe(false);

    // The next day, with a shorter retention, it prunes again.
    const nextDay = new Date(day.getTime() + 86400_000);
    const tomorrow = new DailyJobRunner(app.database.db, [webhookDeliveryPruningJob(7 * 86400)], {
      intervalMs: 0,
      clock: () => nextDay,
    });
    expect(await tomorrow.runDue()).toEqual([expect.objectContaining({ ran: true, changed: 23 })]);
    expect((await deliveries()).totalCount).toBe(7);
  });
});
