import { TestApp, dataOf, startTestApp } from '../support/app';
import { recordIncident } from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { eventually, sleep } from '../ops/support';
import { Receiver, startReceiver } from './receiver';
import { REMOVE, createEndpoint, registerWithClients } from './support';

/**
 * The webhook metrics as Prometheus scrapes them from METRICS_PORT: deliveries by outcome, and the oldest
 * undelivered alert's age per endpoint (with the maximum and the number of endpoints behind beside it).
 */
describe('webhook metrics on /metrics', () => {
  let app: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    // A failed attempt is retried after an hour at the soonest: the counts below hold still.
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '100' }, undefined, {
      webhookWorker: { schedule: { baseMs: 7_200_000, maxDelayMs: 7_200_000, windowMs: 86_400_000 } },
    });
    receiver = await startReceiver();
    receiver.answer = (request) =>
      request.path === '/failing' ? { status: 500, body: 'down' } : { status: 204 };
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  const scrape = async () => {
    expect(app.server.metricsUrl).not.toBeNull();
    return (await fetch(app.server.metricsUrl!)).text();
  };
  const sample = (text: string, series: string): number | null => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? null : Number(line.slice(series.length + 1));
  };

  it('counts deliveries by outcome and gives each endpoint its oldest undelivered alert age', async () => {
    const { supplier, clients } = await registerWithClients(app, ['Metered A', 'Metered B']);
    const ok = await createEndpoint(app, app.adminToken, {
      url: `${receiver.url}/ok`,
      clientId: encodeGlobalId('Client', clients[0].id),
    });
    const failing = await createEndpoint(app, app.adminToken, {
      url: `${receiver.url}/failing`,
      clientId: encodeGlobalId('Client', clients[1].id),
    });
    const before = await scrape();
    expect(sample(before, `webhook_endpoint_oldest_undelivered_alert_age_seconds{endpoint="${ok.id}"}`)).toBe(
      0,
    );
    expect(sample(before, 'webhook_endpoints_behind')).toBe(0);

    await recordIncident(app.services, supplier.id);
    await eventually(
      () => receiver.at('/ok').length === 1 && receiver.at('/failing').length === 1,
      10_000,
      'one attempt at each endpoint',
    );
    await sleep(1100);
    const text = await scrape();
    expect(sample(text, 'webhook_deliveries_total{outcome="SUCCESS"}')).toBe(1);
    expect(sample(text, 'webhook_deliveries_total{outcome="HTTP_ERROR"}')).toBe(1);
    expect(sample(text, `webhook_endpoint_oldest_undelivered_alert_age_seconds{endpoint="${ok.id}"}`)).toBe(
      0,
    );
    const age = sample(
      text,
      `webhook_endpoint_oldest_undelivered_alert_age_seconds{endpoint="${failing.id}"}`,
    );
    // The alert was recorded more than the wait above ago, and within this test.
    expect(age).toBeGreaterThan(1);
    expect(age).toBeLessThan(60);
    expect(sample(text, 'webhook_oldest_undelivered_alert_age_seconds')).toBeCloseTo(age!, 0);
    expect(sample(text, 'webhook_endpoints_behind')).toBe(1);
    expect(text).toMatch(/^# TYPE webhook_endpoint_oldest_undelivered_alert_age_seconds gauge$/m);

    // A removed endpoint's series goes.
    dataOf(await app.gql(app.adminToken, REMOVE, { input: { id: failing.id } }));
    const after = await scrape();
    expect(after).not.toContain(failing.id);
    expect(sample(after, 'webhook_endpoints_behind')).toBe(0);
    expect(sample(after, 'webhook_oldest_undelivered_alert_age_seconds')).toBe(0);
  });
});
