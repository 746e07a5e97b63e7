import { Webhook } from 'standardwebhooks';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { recordIncident } from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { signature } from '../../src/modules/webhook/webhook.delivery';
import { eventually, sleep } from '../ops/support';
import { Receiver, startReceiver } from './receiver';
import {
  CREATE,
  LIST,
  REMOVE,
  REPLAY,
  ROTATE,
  UPDATE,
  alertsInOrder,
  createEndpoint,
  registerWithClients,
} from './support';

/**
 * Webhooks as a portal uses them: endpoints registered through the API, a real receiver on 127.0.0.1
 * (allowed by WEBHOOK_ALLOW_PRIVATE_TARGETS in this test's configuration), every delivery verified with the
 * Standard Webhooks reference package, alerts recorded through the services (the same path as the API).
 */
describe('webhooks', () => {
  let app: TestApp;
  let receiver: Receiver;
  let supplierId: string;
  let a: { id: string; name: string };
  let b: { id: string; name: string };
  let tokenA: string;
  let tokenB: string;
  const endpoints: Record<string, { id: string; secret: string }> = {};

  beforeAll(async () => {
    // The timeout is long enough that an answering receiver never times out on a loaded CI machine (400 ms
    // did: a retried delivery arrived late and counted a second TIMEOUT); only the receiver's 'hang' does.
    app = await startTestApp(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '100', WEBHOOK_TIMEOUT_MS: '2000' },
      undefined,
      { webhookWorker: { schedule: { baseMs: 50, maxDelayMs: 200, windowMs: 3_600_000 } } },
    );
    receiver = await startReceiver();
    const register = await registerWithClients(app, ['Council A', 'Council B']);
    supplierId = register.supplier.id;
    [a, b] = register.clients;
    tokenA = await app.clientToken(a.id);
    tokenB = await app.clientToken(b.id);
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it("delivers each client's alerts to its endpoints in order, signed, numbered as that client sees them", async () => {
    endpoints.a = await createEndpoint(app, tokenA, { url: `${receiver.url}/a`, description: 'Portal A' });
    endpoints.b = await createEndpoint(app, tokenB, { url: `${receiver.url}/b` });
    endpoints.all = await createEndpoint(app, app.adminToken, { url: `${receiver.url}/all` });
    endpoints.aResolved = await createEndpoint(app, app.adminToken, {
      url: `${receiver.url}/a-resolved`,
      clientId: encodeGlobalId('Client', a.id),
      kinds: ['RESOLVED'],
    });
    for (const { secret } of Object.values(endpoints)) expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const titles = ['Ransomware at Capita', 'Leaked backups', 'Misdirected email'];
    for (const title of titles) await recordIncident(app.services, supplierId, { title });

    await eventually(
      () =>
        receiver.at('/a').length === 3 && receiver.at('/b').length === 3 && receiver.at('/all').length === 6,
      10_000,
      'every alert at every endpoint',
    );
    // The reference implementation verifies every delivery (a bad signature would throw).
    const atA = receiver.verified('/a', endpoints.a.secret);
    expect(atA.map((d) => d.id)).toEqual(['1', '2', '3']);
    expect(atA.map((d) => d.payload.data.incident.title)).toEqual(titles);
    for (const { payload } of atA) {
      expect(payload).toMatchObject({
        type: 'exposure.new',
        data: {
          kind: 'NEW',
          client: { id: encodeGlobalId('Client', a.id), name: 'Council A' },
          supplier: { name: 'Capita plc' },
          exposure: {
            level: expect.stringMatching(/^(LOW|MEDIUM|HIGH|CRITICAL)$/),
            score: expect.any(Number),
            notificationDeadline: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            dataCategoriesAtRisk: expect.any(Array),
          },
        },
      });
      expect(payload.data.alertId).toBe(payload.data.alertId);
    }
    expect(receiver.verified('/b', endpoints.b.secret).map((d) => d.id)).toEqual(['1', '2', '3']);
    expect(
      receiver.verified('/b', endpoints.b.secret).every((d) => d.payload.data.client.name === 'Council B'),
    ).toBe(true);
    // The all-clients endpoint: register-wide ids, every client, in order.
    expect(receiver.verified('/all', endpoints.all.secret).map((d) => d.id)).toEqual(
      (await alertsInOrder(app)).map((alert) => alert.id),
    );
    // Another endpoint's secret does not verify.
    expect(() =>
      new Webhook(endpoints.b.secret).verify(receiver.at('/a')[0].body, receiver.at('/a')[0].headers),
    ).toThrow(/No matching signature/);
    // The signature is the spec's: the package signs the same bytes the same way.
    const first = receiver.at('/a')[0];
    expect(first.headers['webhook-signature']).toBe(
      new Webhook(endpoints.a.secret).sign(
        first.headers['webhook-id'],
        new Date(Number(first.headers['webhook-timestamp']) * 1000),
        first.body,
      ),
    );
    expect(signature(endpoints.a.secret, '1', Number(first.headers['webhook-timestamp']), first.body)).toBe(
      first.headers['webhook-signature'],
    );
    await sleep(300);
    expect(receiver.at('/a-resolved')).toHaveLength(0);

    // Deliveries, as the client sees them in the API.
    const { webhookEndpoints } = dataOf(await app.gql(tokenA, LIST));
    expect(webhookEndpoints.totalCount).toBe(2);
    const portal = webhookEndpoints.edges.find((e: any) => e.node.id === endpoints.a.id).node;
    expect(portal.oldestUndeliveredAlertAt).toBeNull();
    expect(portal.deliveries.totalCount).toBe(3);
    expect(portal.deliveries.edges.map((e: any) => e.node)).toEqual(
      ['3', '2', '1'].map((webhookId) => ({
        webhookId,
        attempt: 1,
        outcome: 'SUCCESS',
        statusCode: 200,
        error: null,
        responseExcerpt: 'ok',
        durationMs: expect.any(Number),
        attemptedAt: expect.any(String),
      })),
    );
  });

  it("keeps client endpoints apart: another client's token can neither see nor change them", async () => {
    const listB = dataOf(await app.gql(tokenB, LIST)).webhookEndpoints;
    expect(listB.totalCount).toBe(1);
    expect(listB.edges.map((e: any) => e.node.id)).toEqual([endpoints.b.id]);
    // Even filtering by A's client id shows B nothing.
    expect(
      dataOf(await app.gql(tokenB, LIST, { filter: { clientId: encodeGlobalId('Client', a.id) } }))
        .webhookEndpoints.totalCount,
    ).toBe(0);
    expect(
      dataOf(await app.gql(tokenB, `query($id: ID!) { node(id: $id) { id } }`, { id: endpoints.a.id })).node,
    ).toBeNull();
    expect(
      dataOf(await app.gql(tokenA, `query($id: ID!) { node(id: $id) { id } }`, { id: endpoints.a.id })).node,
    ).toEqual({
      id: endpoints.a.id,
    });
    const notFound = [
      { field: ['input', 'id'], code: 'NOT_FOUND', message: 'No webhook endpoint has this ID' },
    ];
    expect(
      dataOf(await app.gql(tokenB, UPDATE, { input: { id: endpoints.a.id, url: `${receiver.url}/stolen` } }))
        .updateWebhookEndpoint.userErrors,
    ).toEqual(notFound);
    expect(
      dataOf(await app.gql(tokenB, REMOVE, { input: { id: endpoints.a.id } })).removeWebhookEndpoint
        .userErrors,
    ).toEqual(notFound);
    expect(
      dataOf(await app.gql(tokenB, ROTATE, { input: { id: endpoints.a.id } })).rotateWebhookSecret,
    ).toEqual({
      endpoint: null,
      secret: null,
      userErrors: notFound,
    });
    expect(
      dataOf(await app.gql(tokenB, REPLAY, { input: { endpointId: endpoints.a.id, after: '0' } }))
        .replayWebhook.userErrors,
    ).toEqual([{ ...notFound[0], field: ['input', 'endpointId'] }]);
    // The admin's all-clients endpoint is invisible to clients too.
    expect(
      dataOf(await app.gql(tokenA, `query($id: ID!) { node(id: $id) { id } }`, { id: endpoints.all.id }))
        .node,
    ).toBeNull();
    // A client creates endpoints only for itself.
    const forA = dataOf(
      await app.gql(tokenB, CREATE, {
        input: { url: `${receiver.url}/x`, clientId: encodeGlobalId('Client', a.id) },
      }),
    ).createWebhookEndpoint;
    expect(forA).toMatchObject({
      endpoint: null,
      secret: null,
      userErrors: [{ field: ['input', 'clientId'], code: 'FORBIDDEN' }],
    });
    // Analysts read, but do not manage.
    const analyst = await app.gql(app.analystToken, CREATE, { input: { url: `${receiver.url}/x` } });
    expect(analyst.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(dataOf(await app.gql(app.analystToken, LIST)).webhookEndpoints.totalCount).toBe(4);
    expect(
      dataOf(await app.gql(app.adminToken, LIST, { filter: { clientId: encodeGlobalId('Client', a.id) } }))
        .webhookEndpoints.totalCount,
    ).toBe(2);
    // The secret is not part of the endpoint type at all: it is shown once, by the mutation that makes it.
    const secretField = await app.gql(app.adminToken, '{ webhookEndpoints { edges { node { secret } } } }');
    expect(secretField.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // Nothing B tried reached A's endpoint: its URL is unchanged.
    const nodeA = dataOf(
      await app.gql(tokenA, `query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url enabled } } }`, {
        id: endpoints.a.id,
      }),
    ).node;
    expect(nodeA).toEqual({ url: `${receiver.url}/a`, enabled: true });
  });

  it('refuses bad URLs with a message that says what to fix', async () => {
    const errorsFor = async (url: string) =>
      dataOf(await app.gql(app.adminToken, CREATE, { input: { url } })).createWebhookEndpoint.userErrors.map(
        (e: any) => e.message,
      );
    expect(await errorsFor('not a url')).toEqual([expect.stringMatching(/not a valid URL/)]);
    expect(await errorsFor('ftp://example.com/hook')).toEqual([expect.stringMatching(/https:\/\//)]);
    expect(await errorsFor('https://user:pass@example.com/hook')).toEqual([
      expect.stringMatching(/user name or password/),
    ]);
    expect(await errorsFor(`https://example.com/${'x'.repeat(2000)}`)).toEqual([
      expect.stringMatching(/2,000/),
    ]);
  });

  it('bounds the endpoints of one client', async () => {
    const { clients } = await registerWithClients(app, ['Busy Council']);
    const token = await app.clientToken(clients[0].id);
    for (let i = 0; i < 20; i += 1) await createEndpoint(app, token, { url: `${receiver.url}/busy-${i}` });
    const refused = dataOf(await app.gql(token, CREATE, { input: { url: `${receiver.url}/busy-20` } }));
    expect(refused.createWebhookEndpoint).toEqual({
      endpoint: null,
      secret: null,
      userErrors: [
        {
          field: ['input', 'url'],
          code: 'CONFLICT',
          message: expect.stringMatching(/20 webhook endpoints already/),
        },
      ],
    });
    // Another client is not held back by it.
    expect(
      (
        await createEndpoint(app, app.adminToken, {
          url: `${receiver.url}/busy-other`,
          clientId: encodeGlobalId('Client', a.id),
        })
      ).secret,
    ).toMatch(/^whsec_/);
    const ids: { id: string }[] = await app.database.db.query(
      `SELECT id FROM webhook_endpoint WHERE url LIKE '%/busy-%'`,
    );
    for (const { id } of ids)
      dataOf(await app.gql(app.adminToken, REMOVE, { input: { id: encodeGlobalId('WebhookEndpoint', id) } }));
  });

  it('retries after 500s and timeouts with backoff, and keeps the alert order', async () => {
    const retry = await createEndpoint(app, app.adminToken, {
      url: `${receiver.url}/retry`,
      clientId: encodeGlobalId('Client', a.id),
    });
    let calls = 0;
    receiver.answer = (request) => {
      if (request.path !== '/retry') return { status: 200, body: 'ok' };
      calls += 1;
      if (calls === 1) return { status: 500, body: 'boom' };
      if (calls === 2) return { status: 503, body: 'busy' };
      if (calls === 3) return 'hang';
      return { status: 200, body: 'ok' };
    };
    await recordIncident(app.services, supplierId, { title: 'Retried one' });
    await recordIncident(app.services, supplierId, { title: 'Retried two' });
    await eventually(() => receiver.at('/retry').length === 5, 15_000, 'the retries and the second alert');
    await sleep(200);
    const ids = receiver.verified('/retry', retry.secret).map((d) => d.id);
    // The first alert four times (500, 503, timeout, 200), and only then the second.
    expect(ids).toEqual(['4', '4', '4', '4', '5']);
    const node = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on WebhookEndpoint {
      failedAttempts deliveries { edges { node { webhookId attempt outcome statusCode error responseExcerpt } } } } } }`,
        { id: retry.id },
      ),
    ).node;
    expect(node.failedAttempts).toBe(0);
    expect(node.deliveries.edges.map((e: any) => e.node).reverse()).toEqual([
      {
        webhookId: '4',
        attempt: 1,
        outcome: 'HTTP_ERROR',
        statusCode: 500,
        error: 'the endpoint answered HTTP 500',
        responseExcerpt: 'boom',
      },
      {
        webhookId: '4',
        attempt: 2,
        outcome: 'HTTP_ERROR',
        statusCode: 503,
        error: 'the endpoint answered HTTP 503',
        responseExcerpt: 'busy',
      },
      {
        webhookId: '4',
        attempt: 3,
        outcome: 'TIMEOUT',
        statusCode: null,
        error: 'no complete answer within 2000 ms',
        responseExcerpt: null,
      },
      { webhookId: '4', attempt: 4, outcome: 'SUCCESS', statusCode: 200, error: null, responseExcerpt: 'ok' },
      { webhookId: '5', attempt: 1, outcome: 'SUCCESS', statusCode: 200, error: null, responseExcerpt: 'ok' },
    ]);
    receiver.answer = () => ({ status: 200, body: 'ok' });
    await dataOf(await app.gql(app.adminToken, REMOVE, { input: { id: retry.id } }));
  });

  it('signs with the old and the new secret during a rotation', async () => {
    const rotated = dataOf(
      await app.gql(tokenA, ROTATE, { input: { id: endpoints.a.id } }),
    ).rotateWebhookSecret;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoints.a.secret);
    expect(new Date(rotated.endpoint.previousSecretUntil).getTime()).toBeGreaterThan(
      Date.now() + 23 * 3600_000,
    );
    const before = receiver.at('/a').length;
    await recordIncident(app.services, supplierId, { title: 'After rotation' });
    await eventually(() => receiver.at('/a').length === before + 1, 10_000, 'the delivery after rotation');
    const latest = receiver.at('/a')[before];
    expect(latest.headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [rotated.secret, endpoints.a.secret])
      expect(new Webhook(secret).verify(latest.body, latest.headers)).toMatchObject({
        data: { incident: { title: 'After rotation' } },
      });
    endpoints.a.secret = rotated.secret;
  });

  it('replays from an alert id, in order, and refuses ids not issued yet', async () => {
    const sent = receiver.idsAt('/a');
    expect(sent).toEqual(['1', '2', '3', '4', '5', '6']);
    const replay = dataOf(
      await app.gql(tokenA, REPLAY, { input: { endpointId: endpoints.a.id, after: '2' } }),
    ).replayWebhook;
    expect(replay).toEqual({ endpoint: { id: endpoints.a.id }, secret: null, userErrors: [] });
    await eventually(() => receiver.at('/a').length === sent.length + 4, 10_000, 'the replayed alerts');
    expect(receiver.idsAt('/a').slice(sent.length)).toEqual(['3', '4', '5', '6']);
    // A receiver that deduplicates by webhook-id sees each alert once.
    expect([...new Set(receiver.idsAt('/a'))]).toEqual(['1', '2', '3', '4', '5', '6']);
    for (const after of ['abc', '7']) {
      const refused = dataOf(
        await app.gql(tokenA, REPLAY, { input: { endpointId: endpoints.a.id, after } }),
      ).replayWebhook;
      expect(refused.userErrors).toEqual([
        { field: ['input', 'after'], code: 'INVALID', message: expect.any(String) },
      ]);
    }
  });

  it('pauses, resumes and removes endpoints without losing an alert', async () => {
    const paused = dataOf(
      await app.gql(tokenB, UPDATE, { input: { id: endpoints.b.id, enabled: false } }),
    ).updateWebhookEndpoint;
    expect(paused.endpoint).toMatchObject({
      enabled: false,
      disabledReason: expect.stringMatching(/Paused/),
    });
    const before = receiver.at('/b').length;
    await recordIncident(app.services, supplierId, { title: 'While paused' });
    await eventually(() => receiver.at('/all').length === 14, 10_000, 'the all-clients endpoint got it');
    const waiting = dataOf(await app.gql(tokenB, LIST, { filter: { disabled: true } })).webhookEndpoints;
    expect(waiting.edges.map((e: any) => e.node.id)).toEqual([endpoints.b.id]);
    expect(waiting.edges[0].node.oldestUndeliveredAlertAt).toEqual(expect.any(String));
    expect(receiver.at('/b')).toHaveLength(before);
    const resumed = dataOf(
      await app.gql(tokenB, UPDATE, { input: { id: endpoints.b.id, enabled: true } }),
    ).updateWebhookEndpoint;
    expect(resumed.endpoint).toMatchObject({ enabled: true, disabledReason: null });
    await eventually(() => receiver.at('/b').length === before + 1, 10_000, 'the alert that waited');
    expect(receiver.verified('/b', endpoints.b.secret).at(-1)!.payload.data.incident.title).toBe(
      'While paused',
    );

    const removed = dataOf(
      await app.gql(tokenB, REMOVE, { input: { id: endpoints.b.id } }),
    ).removeWebhookEndpoint;
    expect(removed).toEqual({ removedId: endpoints.b.id, userErrors: [] });
    await recordIncident(app.services, supplierId, { title: 'After removal' });
    await eventually(() => receiver.at('/all').length === 16, 10_000, 'the all-clients endpoint got it');
    await sleep(300);
    expect(receiver.at('/b')).toHaveLength(before + 1);
    expect(dataOf(await app.gql(tokenB, LIST)).webhookEndpoints.totalCount).toBe(0);
  });

  it('counts deliveries by outcome and shows how far behind the endpoints are', async () => {
    const text = await (await fetch(app.server.metricsUrl!)).text();
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="SUCCESS"\} \d+/m);
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="TIMEOUT"\} 1$/m);
    expect(text).toMatch(/^webhook_oldest_undelivered_alert_age_seconds 0$/m);
    expect(text).toMatch(/^webhook_endpoints_behind 0$/m);
  });
});
