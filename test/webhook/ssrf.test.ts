import { TransactionalConnection } from '../../src/db/transactional-connection';
import dns from 'node:dns';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { FACTORY_ADMIN, recordIncident } from '../support/factories';
import { DEFAULT_WEBHOOK_SERVICE_OPTIONS, WebhookService } from '../../src/modules/webhook/webhook.service';
import { encodeGlobalId } from '../../src/common/global-id';
import { isPublicAddress, postOutgoing } from '../../src/common/outgoing-http';
import { eventually, sleep } from '../ops/support';
import { Receiver, startReceiver } from './receiver';
import { CREATE, LIST, createEndpoint, registerWithClients } from './support';

/** A resolver that answers every name with these addresses (what a rebinding DNS server hands out). */
function resolvingTo(...addresses: string[]): typeof dns.lookup {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    const list = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, list);
    else callback(null, list[0].address, list[0].family);
  }) as unknown as typeof dns.lookup;
}

const request = (
  url: string,
  allowPrivateTargets: boolean,
  extra: Partial<Parameters<typeof postOutgoing>[0]> = {},
) =>
  postOutgoing({
    url,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    timeoutMs: 2000,
    maxResponseBytes: 1024,
    allowPrivateTargets,
    ...extra,
  });

describe('the outgoing HTTP client (SSRF guard, redirects, size cap)', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('tells public addresses from loopback, private, link-local, metadata and other special ones', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])
      expect({ address, public: isPublicAddress(address) }).toEqual({ address, public: true });
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '0.0.0.0',
      '::',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254', // cloud metadata (AWS, GCP, Azure)
      '100.100.100.200', // Alibaba's metadata (carrier-grade NAT range)
      'fd00:ec2::254', // AWS metadata over IPv6 (unique local)
      'fe80::1',
      '224.0.0.1',
      'ff02::1',
      '255.255.255.255',
      '::ffff:127.0.0.1', // IPv4-mapped loopback
      '::ffff:169.254.169.254',
      '2002:7f00:1::1', // 6to4 wrapping 127.0.0.1
      '64:ff9b::a9fe:a9fe', // NAT64 wrapping 169.254.169.254
    ])
      expect({ address, public: isPublicAddress(address) }).toEqual({ address, public: false });
  });

  it('refuses loopback without WEBHOOK_ALLOW_PRIVATE_TARGETS, as an address and as a name that resolves to it', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [
      `http://127.0.0.1:${port}/x`,
      `http://[::1]:${port}/x`,
      `http://localhost:${port}/x`,
    ]) {
      const result = await request(url, false);
      expect({ url, outcome: result.outcome, statusCode: result.statusCode }).toEqual({
        url,
        outcome: 'REFUSED_TARGET',
        statusCode: null,
      });
      expect(result.error).toMatch(/not a public address/);
    }
    expect(receiver.at('/x')).toHaveLength(0);
    // With the flag, the same receiver is reached.
    expect((await request(`http://localhost:${port}/x`, true)).outcome).toBe('SUCCESS');
    expect(receiver.at('/x')).toHaveLength(1);
  });

  it('checks the address it connects to, so a name that rebinds to a private address does not pass', async () => {
    const port = new URL(receiver.url).port;
    // The only resolution is the connection's own: whatever it answers is what is checked and connected to.
    const rebound = await request(`http://hooks.example.com:${port}/rebind`, false, {
      lookup: resolvingTo('127.0.0.1'),
    });
    expect(rebound).toMatchObject({
      outcome: 'REFUSED_TARGET',
      error: expect.stringMatching(/hooks\.example\.com resolves to 127\.0\.0\.1/),
    });
    // A public answer alongside a private one is refused too (the connection may pick either).
    const mixed = await request(`http://hooks.example.com:${port}/rebind`, false, {
      lookup: resolvingTo('93.184.216.34', '169.254.169.254'),
    });
    expect(mixed).toMatchObject({
      outcome: 'REFUSED_TARGET',
      error: expect.stringMatching(/169\.254\.169\.254/),
    });
    expect(receiver.at('/rebind')).toHaveLength(0);
  });

  it('does not follow redirects', async () => {
    receiver.answer = (r) =>
      r.path === '/moved'
        ? { status: 302, headers: { location: `${receiver.url}/target` } }
        : { status: 200, body: 'ok' };
    const result = await request(`${receiver.url}/moved`, true);
    expect(result).toMatchObject({
      outcome: 'HTTP_ERROR',
      statusCode: 302,
      error: 'the endpoint answered HTTP 302',
    });
    await sleep(100);
    expect(receiver.at('/target')).toHaveLength(0);
  });

  it('reads at most the first bytes of a large answer', async () => {
    receiver.answer = () => ({ status: 200, body: 'x'.repeat(20 * 1024 * 1024) });
    const result = await request(`${receiver.url}/big`, true);
    expect(result.outcome).toBe('SUCCESS');
    expect(result.responseExcerpt).toBe('x'.repeat(1024));
    receiver.answer = () => ({ status: 200, body: 'ok' });
  });

  it('gives up at the deadline when an endpoint never answers', async () => {
    receiver.answer = () => 'hang';
    const result = await request(`${receiver.url}/slow`, true, { timeoutMs: 300 });
    expect(result).toMatchObject({ outcome: 'TIMEOUT', statusCode: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    receiver.answer = () => ({ status: 200, body: 'ok' });
  });
});

describe('the SSRF guard in the API and the delivery worker (private targets not allowed)', () => {
  let app: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_POLL_MS: '100' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it('requires https in production', async () => {
    const production = new WebhookService(new TransactionalConnection(app.database.db), {
      ...DEFAULT_WEBHOOK_SERVICE_OPTIONS,
      requireHttps: true,
    });
    await expect(
      production.create(FACTORY_ADMIN, { url: 'http://portal.example/hook' }),
    ).rejects.toMatchObject({
      errors: [
        {
          field: ['input', 'url'],
          code: 'INVALID',
          message: expect.stringMatching(/https:\/\/ URL in production/),
        },
      ],
    });
    const { secret } = await production.create(FACTORY_ADMIN, { url: 'https://portal.example/hook' });
    expect(secret).toMatch(/^whsec_/);
    await app.database.db.query(`DELETE FROM webhook_endpoint WHERE url = 'https://portal.example/hook'`);
  });

  it('refuses URLs naming a non-public address at once, and deliveries to names that resolve to one', async () => {
    for (const host of ['127.0.0.1', '[::1]', '169.254.169.254', '10.0.0.7']) {
      const { createWebhookEndpoint } = dataOf(
        await app.gql(app.adminToken, CREATE, { input: { url: `https://${host}/hook` } }),
      );
      expect(createWebhookEndpoint.userErrors).toEqual([
        { field: ['input', 'url'], code: 'INVALID', message: expect.stringMatching(/not a public address/) },
      ]);
    }
    const { supplier, clients } = await registerWithClients(app, ['Guarded Council']);
    const port = new URL(receiver.url).port;
    // A name is resolved only when connecting, so it is accepted here and refused by the worker.
    const endpoint = await createEndpoint(app, app.adminToken, {
      url: `http://localhost:${port}/guarded`,
      clientId: encodeGlobalId('Client', clients[0].id),
    });
    await recordIncident(app.services, supplier.id);
    const deliveries = await eventually(
      async () => {
        const list = dataOf(await app.gql(app.adminToken, LIST)).webhookEndpoints.edges[0].node.deliveries
          .edges;
        return list.length ? list : null;
      },
      10_000,
      'a refused attempt',
    );
    expect(deliveries[0].node).toMatchObject({
      webhookId: '1',
      attempt: 1,
      outcome: 'REFUSED_TARGET',
      statusCode: null,
      error: expect.stringMatching(/localhost resolves to (127\.0\.0\.1|::1).*not a public address/),
    });
    expect(receiver.received).toHaveLength(0);
    expect(endpoint.id).toEqual(expect.any(String));
  });
});
