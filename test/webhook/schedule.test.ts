import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { recordIncident } from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { loadConfig } from '../../src/config';
import { createWebhookMetrics } from '../../src/modules/webhook/webhook.metrics';
import { WebhookWorker, webhookWorkerOptions } from '../../src/modules/webhook/webhook.worker';
import { Receiver, startReceiver } from './receiver';
import { LIST, UPDATE, createEndpoint, registerWithClients } from './support';

/**
 * The retry schedule over its whole day, with the worker's clock made fast (no waiting): the default
 * schedule as the README states it, an endpoint that always answers 500, and the worker run to idle
 * after moving the clock to each next attempt. Jitter is pinned (random() = 0.5, so each wait is 75 % of
 * its nominal value) to compare attempt times with the schedule computed here from the README's rule.
 */
describe('retry schedule and disabling', () => {
  const env = { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '0' };
  let app: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    // WEBHOOK_POLL_MS=0: the server's own worker does not run; this test drives one with a fast clock.
    app = await startTestApp(env);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it('retries with exponential backoff for a day, then disables the endpoint with a reason, a log line and a metric', async () => {
    const { supplier, clients } = await registerWithClients(app, ['Unlucky Council']);
    const endpoint = await createEndpoint(app, app.adminToken, {
      url: `${receiver.url}/down`,
      clientId: encodeGlobalId('Client', clients[0].id),
    });
    receiver.answer = () => ({ status: 500, body: 'down for maintenance' });

    let clock = new Date();
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const registry = new Registry();
    const worker = new WebhookWorker(app.database.db, {
      ...webhookWorkerOptions(loadConfig({ NODE_ENV: 'test', ...env })),
      now: () => clock,
      random: () => 0.5,
      logger,
      metrics: createWebhookMetrics(registry, app.database.db),
    });
    await recordIncident(app.services, supplier.id);

    const dbId = Buffer.from(endpoint.id, 'base64url').toString().split(':')[1];
    for (let round = 0; round < 100; round += 1) {
      await worker.runUntilIdle();
      const [row] = await app.database.db.query(
        `SELECT enabled, next_attempt_at FROM webhook_endpoint WHERE id = $1`,
        [dbId],
      );
      if (!row.enabled) break;
      clock = new Date(row.next_attempt_at);
    }

    // The README's schedule: waits of 10 s × 2^(n−1), at most 4 h, jittered to 50–100 %, until 24 h after
    // the first failure; the last attempt falls at 24 h, and its failure disables the endpoint.
    const window = 24 * 3600_000;
    const expected = [0];
    for (let n = 1; expected.at(-1)! < window; n += 1) {
      const nominal = Math.min(4 * 3600_000, 10_000 * 2 ** (n - 1));
      expected.push(Math.min(expected.at(-1)! + Math.round(nominal * 0.75), window));
    }
    const attempts: { attempted_at: Date; attempt: number; outcome: string }[] = await app.database.db.query(
      `SELECT attempted_at, attempt, outcome FROM webhook_delivery WHERE endpoint_id = $1 ORDER BY id`,
      [dbId],
    );
    const first = attempts[0].attempted_at.getTime();
    expect(attempts.map((a) => a.attempted_at.getTime() - first)).toEqual(expected);
    expect(attempts.map((a) => a.attempt)).toEqual(expected.map((_, i) => i + 1));
    expect(new Set(attempts.map((a) => a.outcome))).toEqual(new Set(['HTTP_ERROR']));
    expect(receiver.at('/down')).toHaveLength(expected.length);
    expect(expected.length).toBe(19);

    // Visible in the API (with the disabled filter), in the log, and in the metrics.
    const disabled = dataOf(
      await app.gql(app.adminToken, LIST, { filter: { disabled: true } }),
    ).webhookEndpoints;
    expect(disabled.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({
        id: endpoint.id,
        enabled: false,
        disabledReason: expect.stringMatching(
          /^Deliveries failed for 24 h \(19 attempts at alert 1 since .*\); the last one: the endpoint answered HTTP 500\./,
        ),
        oldestUndeliveredAlertAt: expect.any(String),
      }),
    ]);
    expect(lines.filter((line) => line.msg === 'webhook endpoint disabled')).toEqual([
      expect.objectContaining({
        level: 40,
        endpointId: dbId,
        alertId: expect.any(String),
        webhookId: '1',
        attempt: 19,
      }),
    ]);
    expect(await registry.getSingleMetricAsString('webhook_endpoints_disabled_total')).toMatch(
      /webhook_endpoints_disabled_total 1$/m,
    );
    expect(await registry.getSingleMetricAsString('webhook_deliveries_total')).toMatch(
      /webhook_deliveries_total\{outcome="HTTP_ERROR"\} 19$/m,
    );
    expect(await registry.getSingleMetricAsString('webhook_endpoints_behind')).toMatch(
      /webhook_endpoints_behind 0$/m,
    );

    // Once the receiver is back, re-enabling sends the alert it stopped on at once.
    receiver.answer = () => ({ status: 204 });
    const enabled = dataOf(
      await app.gql(app.adminToken, UPDATE, { input: { id: endpoint.id, enabled: true } }),
    );
    expect(enabled.updateWebhookEndpoint.endpoint).toMatchObject({ enabled: true, disabledReason: null });
    await worker.runUntilIdle();
    const delivered = receiver.verified('/down', endpoint.secret);
    expect(delivered).toHaveLength(20);
    expect(new Set(delivered.map((d) => d.id))).toEqual(new Set(['1']));
    const [last] = await app.database.db.query(
      `SELECT attempt, outcome, status_code FROM webhook_delivery WHERE endpoint_id = $1 ORDER BY id DESC LIMIT 1`,
      [dbId],
    );
    expect(last).toEqual({ attempt: 1, outcome: 'SUCCESS', status_code: 204 });
    await worker.stop();
  });
});
