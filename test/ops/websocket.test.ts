import { Client as PgClient } from 'pg';
import { mintToken } from '../../src/auth/jwt';
import { encodeGlobalId } from '../../src/common/global-id';
import { TEST_JWT_SECRET, TestApp, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { openSocket } from '../support/ws';
import { ALERT_SUBSCRIPTION } from '../alert/subscriber';
import { eventually, postGraphQL, rowCount, sleep } from './support';

/**
 * The WebSocket transport held to HTTP's rules, through a real graphql-ws client: a token's expiry ends its
 * authority on an open socket, every operation takes a point of the rate limit, queries wait for a query
 * slot, and subscriptions are capped per socket and per token subject.
 */

/** The moment a token expires (its `exp`, in milliseconds). */
function expiryOf(token: string): number {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp * 1000;
}

const DECIDE = `mutation Decide($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { exposure { id } userErrors { message } } }`;
const CREATE_SUPPLIER = `mutation($name: String!) { createSupplier(input: { name: $name, country: "GB", tier: STANDARD }) { supplier { id } userErrors { message } } }`;

describe('a token that expires while its socket is open', () => {
  let app: TestApp;
  let production: TestApp;
  let clientId: string;
  beforeAll(async () => {
    app = await startTestApp();
    production = await startTestApp(
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://configured-elsewhere/register' },
      { database: app.database },
    );
    const supplier = await createSupplier(app.services, { name: 'Expiry Supplier' });
    const client = await createClient(app.services, { name: 'Expiry Council' });
    await createAgreement(app.services, (await createContract(app.services, client.id, supplier.id)).id);
    await recordIncident(app.services, supplier.id);
    clientId = client.id;
  });
  afterAll(async () => {
    await production?.stop();
    await app?.stop();
  });

  it('a client token: reads and recordNotificationDecision are refused from its expiry, then the socket closes 4403 saying why', async () => {
    const token = await mintToken(
      TEST_JWT_SECRET,
      { sub: 'expiring-client', role: 'client', client_id: encodeGlobalId('Client', clientId) },
      '3s',
    );
    const socket = await openSocket(app.url, token);
    try {
      const before = await socket.run('{ exposures { edges { node { id } } } }');
      expect(before.errors).toBeUndefined();
      const exposureId = before.data.exposures.edges[0].node.id;
      const alerts = socket.subscribe(ALERT_SUBSCRIPTION, { clientId: encodeGlobalId('Client', clientId) });

      await sleep(expiryOf(token) - Date.now() + 50);
      const [read, decision] = await Promise.all([
        socket.run('{ exposures { edges { node { id score } } } }'),
        socket.run(DECIDE, {
          input: { exposureId, status: 'NOT_REQUIRED', justification: 'Decided after the token expired' },
        }),
      ]);
      for (const answer of [read, decision]) {
        expect(answer.data ?? null).toBeNull();
        expect(answer.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(/token has expired/),
            extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', requestId: expect.any(String) }),
          }),
        ]);
      }
      expect(await rowCount(app.database.db, 'notification_decision')).toBe(0);

      const closed = await socket.waitUntilClosed(5000);
      expect(closed).toEqual({ code: 4403, reason: expect.stringMatching(/token has expired/) });
      // The alert subscription ended first, with the cursor to resume from.
      expect(alerts.errors).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', resumeAfter: expect.any(String) }),
        }),
      ]);
    } finally {
      await socket.dispose();
    }
  });

  it('an admin token in production: createSupplier is refused after its expiry', async () => {
    const token = await mintToken(TEST_JWT_SECRET, { sub: 'expiring-admin', role: 'admin' }, '2s');
    const socket = await openSocket(production.url, token);
    try {
      expect((await socket.run('{ suppliers { totalCount } }')).errors).toBeUndefined();
      await sleep(expiryOf(token) - Date.now() + 50);
      const answer = await socket.run(CREATE_SUPPLIER, { name: 'Created With An Expired Token' });
      expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      const [{ count }] = await app.database.db.query(
        `SELECT count(*)::int AS count FROM supplier WHERE name = 'Created With An Expired Token'`,
      );
      expect(count).toBe(0);
      expect((await socket.waitUntilClosed(5000)).code).toBe(4403);
    } finally {
      await socket.dispose();
    }
  });

  it('a token that is still valid keeps its socket open', async () => {
    const socket = await openSocket(app.url, app.adminToken);
    try {
      await sleep(300);
      expect(socket.closed).toBeNull();
      expect((await socket.run('{ suppliers { totalCount } }')).data).toEqual({
        suppliers: { totalCount: 1 },
      });
    } finally {
      await socket.dispose();
    }
  });
});

describe('rate limit over WebSocket (RATE_LIMIT_PER_MINUTE = 5)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => app.stop());

  it('the connection and each operation take a point of the same limit as HTTP, per token subject', async () => {
    const token = await app.token('admin', { sub: 'ws-flood' });
    const socket = await openSocket(app.url, token);
    try {
      for (let i = 0; i < 4; i += 1)
        expect((await socket.run('{ suppliers { totalCount } }')).errors).toBeUndefined();
      const limited = await socket.run('{ suppliers { totalCount } }');
      expect(limited.errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/5 per minute/),
          extensions: expect.objectContaining({
            code: 'RATE_LIMITED',
            retryAfterSeconds: expect.any(Number),
            requestId: expect.any(String),
          }),
        }),
      ]);
      expect(limited.errors![0].extensions).not.toHaveProperty('http');

      const mutation = await socket.run(
        'mutation { createClient(input: { name: "Over the limit", sector: OTHER }) { client { id } } }',
      );
      expect(mutation.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
      expect(await rowCount(app.database.db, 'client')).toBe(0);
      // The same subject over HTTP shares the count; the socket stays open for when the minute is over.
      expect((await postGraphQL(app.url, token, { query: '{ suppliers { totalCount } }' })).status).toBe(429);
      expect(socket.closed).toBeNull();
      // Another subject is not affected.
      expect(
        (await postGraphQL(app.url, app.analystToken, { query: '{ suppliers { totalCount } }' })).status,
      ).toBe(200);
    } finally {
      await socket.dispose();
    }
  });
});

describe('query slots over WebSocket (MAX_CONCURRENT_QUERIES = 1)', () => {
  let app: TestApp;
  let locker: PgClient;
  beforeAll(async () => {
    app = await startTestApp({ MAX_CONCURRENT_QUERIES: '1' });
    await createSupplier(app.services, { name: 'Locked out' });
    locker = new PgClient({ connectionString: app.database.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await app.stop();
  });

  const queuedQueries = async () =>
    Number(/^graphql_queued_queries (\d+)$/m.exec(await (await fetch(app.server.metricsUrl!)).text())?.[1]);

  it('a WebSocket query waits for the slot an HTTP query holds; a WebSocket mutation does not', async () => {
    const socket = await openSocket(app.url, app.adminToken);
    await locker.query('BEGIN');
    try {
      await locker.query('LOCK TABLE supplier IN ACCESS EXCLUSIVE MODE');
      const first = app.gql(app.adminToken, '{ suppliers(first: 5) { edges { node { name } } } }');
      await eventually(
        async () =>
          (
            await locker.query(
              `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'supplier'::regclass AND NOT granted`,
            )
          ).rows[0].n > 0,
        10_000,
        'the HTTP query to wait for the lock',
      );

      let queryDone = false;
      const query = socket.run('{ clients { totalCount } }').finally(() => (queryDone = true));
      await eventually(async () => (await queuedQueries()) === 1, 10_000, 'the WebSocket query to queue');

      const mutation = await socket.run(
        'mutation { createClient(input: { name: "Arrives meanwhile", sector: HEALTH }) { client { name } userErrors { message } } }',
      );
      expect(mutation.data).toEqual({
        createClient: { client: { name: 'Arrives meanwhile' }, userErrors: [] },
      });
      expect(queryDone).toBe(false);

      await locker.query('COMMIT');
      expect((await first).body.data.suppliers.edges).toEqual([{ node: { name: 'Locked out' } }]);
      expect((await query).data).toEqual({ clients: { totalCount: 1 } });
      expect(await queuedQueries()).toBe(0);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await socket.dispose();
    }
  });
});

describe('subscription caps (WS_MAX_SUBSCRIPTIONS_PER_SOCKET = 2, WS_MAX_SUBSCRIPTIONS_PER_SUBJECT = 3)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '2', WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: '3' });
  });
  afterAll(() => app.stop());

  const codes = (subscription: { errors: { extensions?: Record<string, unknown> }[] }) =>
    subscription.errors.map((error) => error.extensions?.code);

  it('refuses a subscription past either cap with TOO_MANY_SUBSCRIPTIONS, and frees the place when one ends', async () => {
    const token = await app.token('admin', { sub: 'ws-capped' });
    const [a, b] = [await openSocket(app.url, token), await openSocket(app.url, token)];
    const other = await openSocket(app.url, app.analystToken);
    try {
      const onA = [
        a.subscribe(ALERT_SUBSCRIPTION),
        a.subscribe(ALERT_SUBSCRIPTION),
        a.subscribe(ALERT_SUBSCRIPTION),
      ];
      for (const subscription of onA) await subscription.settled();
      expect(onA.map(codes)).toEqual([[], [], ['TOO_MANY_SUBSCRIPTIONS']]);
      expect(onA[2].errors[0].message).toMatch(/2 per connection/);
      // Queries do not count.
      expect((await a.run('{ suppliers { totalCount } }')).data).toEqual({ suppliers: { totalCount: 0 } });

      const onB = [b.subscribe(ALERT_SUBSCRIPTION), b.subscribe(ALERT_SUBSCRIPTION)];
      for (const subscription of onB) await subscription.settled();
      expect(onB.map(codes)).toEqual([[], ['TOO_MANY_SUBSCRIPTIONS']]);
      expect(onB[1].errors[0].message).toMatch(/3 per token subject/);

      // Another subject has places of its own.
      const others = [other.subscribe(ALERT_SUBSCRIPTION), other.subscribe(ALERT_SUBSCRIPTION)];
      for (const subscription of others) await subscription.settled();
      expect(others.map(codes)).toEqual([[], []]);

      // Completing one, or closing a socket, gives places back.
      onA[0].complete();
      await sleep(200);
      const again = b.subscribe(ALERT_SUBSCRIPTION);
      await again.settled();
      expect(codes(again)).toEqual([]);
      await a.dispose();
      await sleep(200);
      const third = await openSocket(app.url, token);
      try {
        const afterClose = third.subscribe(ALERT_SUBSCRIPTION);
        await afterClose.settled();
        expect(codes(afterClose)).toEqual([]);
      } finally {
        await third.dispose();
      }
    } finally {
      await Promise.all([a.dispose(), b.dispose(), other.dispose()]);
    }
  });
});
