import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { Client } from 'pg';
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { loadConfig, DEVELOPMENT_JWT_SECRET } from '../../src/config';
import { mintToken } from '../../src/auth/jwt';
import { createServices } from '../../src/services';
import { startServer } from '../../src/server';
import { TEST_JWT_SECRET, TestApp, startTestApp, testSchema } from '../support/app';
import { attachToDatabase, createTestDatabase } from '../support/database';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { subscribe } from '../alert/subscriber';
import { eventually, postGraphQL, send, freePort } from './support';

/**
 * Graceful stop: requests in flight finish, subscribers are told to go and reconnect (1001 Going Away), the
 * server stops accepting, and nothing is left open. Then the real entry point (src/main.ts) on SIGTERM, and
 * the configuration checks that stop a misconfigured start.
 */

const ROOT = path.join(__dirname, '..', '..');
const NESTED_QUERY =
  'query InFlight { suppliers(first: 100) { totalCount edges { node { name contracts(first: 20) { totalCount edges { node { reference client { name } } } } } } } }';

async function seed(app: { services: TestApp['services'] }, suppliers: number) {
  const client = await createClient(app.services, { name: 'Shutdown Council' });
  for (let i = 0; i < suppliers; i += 1) {
    const supplier = await createSupplier(app.services, {
      name: `Shutdown Supplier ${String(i).padStart(2, '0')}`,
    });
    await createAgreement(app.services, (await createContract(app.services, client.id, supplier.id)).id);
  }
  return client;
}

/** A connection of the test's own, outside the server's pool. */
async function sideConnection(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  return client;
}

/** Queries waiting for a query slot (MAX_CONCURRENT_QUERIES), from the server's metrics. */
async function queuedQueries(metricsUrl: string): Promise<number> {
  return Number(/^graphql_queued_queries (\d+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1]);
}

/** Backends waiting for a lock on supplier (pg_locks, unlike pg_stat_activity, is not frozen inside a transaction). */
async function lockWaiters(observer: Client): Promise<number> {
  const { rows } = await observer.query(
    `SELECT count(*)::int AS count FROM pg_locks WHERE relation = 'supplier'::regclass AND NOT granted`,
  );
  return rows[0].count;
}

async function listenerConnections(app: TestApp): Promise<number> {
  const [{ count }] = await app.database.db.query(
    `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 AND application_name = 'register-alert-listener'`,
    [app.database.name],
  );
  return count;
}

describe('graceful stop', () => {
  it('finishes in-flight requests, closes subscriptions with 1001, and refuses new connections while draining', async () => {
    const app = await startTestApp();
    let stopped = false;
    const blocker = await sideConnection(app.database.url);
    try {
      await seed(app, 5);
      const subscriber = await subscribe(app.url, app.adminToken);
      expect(subscriber.closeCode).toBeNull();
      expect(await listenerConnections(app)).toBe(1);

      // Hold the requests in flight: their reads of supplier wait on a lock this test holds.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE supplier IN ACCESS EXCLUSIVE MODE');
      let received = 0;
      app.server.httpServer.on('request', () => (received += 1));
      const requests = Array.from({ length: 40 }, () =>
        postGraphQL(app.url, app.analystToken, { query: NESTED_QUERY }).then((response) => ({
          response,
          doneAt: performance.now(),
        })),
      );
      await eventually(() => received >= 40, 5000, 'the server to receive all requests', 5);
      // MAX_CONCURRENT_QUERIES (4) of them run and wait on the lock; the other 36 wait for a slot. Both kinds are in flight.
      await eventually(
        async () => (await lockWaiters(blocker)) >= 4,
        5000,
        'every query slot to wait on the lock',
      );
      await eventually(
        async () => (await queuedQueries(app.server.metricsUrl!)) === 36,
        5000,
        'the other requests to wait for a slot',
      );

      const stopCalledAt = performance.now();
      let stopResolvedAt: number | null = null;
      const stopping = app.server.stop().then(() => (stopResolvedAt = performance.now()));

      // Draining: the subscriber is told to go (1001 Going Away, which graphql-ws clients retry), new connections are
      // refused, and stop() keeps waiting for the requests in flight.
      await subscriber.waitUntilEnded(3000);
      expect(subscriber.closeCode).toBe(1001);
      await eventually(() => !app.server.httpServer.listening, 3000, 'the server to stop listening');
      await expect(fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stopResolvedAt).toBeNull();

      await blocker.query('COMMIT');
      await stopping;
      stopped = true;
      const results = await Promise.all(requests);
      for (const { response, doneAt } of results) {
        expect(response.status).toBe(200);
        expect(response.json.errors).toBeUndefined();
        expect(response.json.data.suppliers.totalCount).toBe(5);
        expect(response.json.data.suppliers.edges[4].node.contracts.edges[0].node.client.name).toBe(
          'Shutdown Council',
        );
        expect(doneAt).toBeGreaterThan(stopCalledAt);
      }
      expect(stopResolvedAt! - stopCalledAt).toBeLessThan(10_000);

      // Stopped: neither HTTP nor WebSocket is accepted.
      await expect(
        fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"{ __typename }"}',
          signal: AbortSignal.timeout(3000),
        }),
      ).rejects.toThrow();
      const refused = await new Promise<string>((resolve) => {
        const socket = new WebSocket(app.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
        socket.on('open', () => resolve('open'));
        socket.on('error', (error) =>
          resolve(`error: ${(error as NodeJS.ErrnoException).code ?? error.message}`),
        );
      });
      expect(refused).toMatch(/^error: ECONNREFUSED/);

      // The alert hub's LISTEN connection is closed too.
      await eventually(
        async () => (await listenerConnections(app)) === 0,
        3000,
        'the listener connection to close',
      );
      await subscriber.dispose();
    } finally {
      await blocker.end();
      if (stopped) await app.database.drop();
      else await app.stop();
    }
  });

  it('a graphql-ws client reconnects after 1001 to the instance that takes over, and receives alerts again', async () => {
    const app = await startTestApp();
    const port = Number(new URL(app.url).port);
    let replacement: Awaited<ReturnType<typeof startServer>> | null = null;
    let replacementDb: Awaited<ReturnType<typeof attachToDatabase>> | null = null;
    const connected: number[] = [];
    const closed: number[] = [];
    const received: { id: string; kind: string }[] = [];
    const wsClient = createWsClient({
      url: app.url.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${app.adminToken}` },
      lazy: false,
      retryAttempts: 50,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
      // graphql-ws retries only close events by default; a refused connection (nobody listening yet) is an error event.
      shouldRetry: () => true,
      on: {
        connected: () => connected.push(Date.now()),
        closed: (event) => closed.push((event as { code: number }).code),
      },
    });
    let stopped = false;
    try {
      const council = await seed(app, 1);
      const [{ id: supplierId }] = await app.database.db.query(`SELECT id FROM supplier LIMIT 1`);
      wsClient.subscribe<{ exposureAlerts: { id: string; kind: string } }>(
        { query: 'subscription { exposureAlerts { id kind } }' },
        {
          next: (result) => result.data && received.push(result.data.exposureAlerts),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      await eventually(() => connected.length === 1, 5000, 'the first connection');
      await new Promise((resolve) => setTimeout(resolve, 100));

      await app.server.stop();
      stopped = true;
      await eventually(() => closed.includes(1001), 3000, 'the 1001 close');

      // Another instance comes up on the same address (a restarted pod behind the same service).
      replacementDb = await attachToDatabase(app.database);
      const config = loadConfig({
        NODE_ENV: 'test',
        JWT_SECRET: TEST_JWT_SECRET,
        RATE_LIMIT_PER_MINUTE: '0',
      });
      const services = createServices(replacementDb.db);
      replacement = await startServer(
        {
          config,
          db: replacementDb.db,
          schema: await testSchema(),
          services,
          logger: pino({ level: 'silent' }),
          databaseUrl: app.database.url,
        },
        port,
      );
      await eventually(
        () => connected.length === 2,
        10_000,
        `the client to reconnect (closed: ${JSON.stringify(closed)})`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));

      await recordIncident(services, supplierId);
      await eventually(() => received.length >= 1, 10_000, 'an alert after the reconnect');
      expect(received[0].kind).toBe('NEW');
      const [{ id: alertId }] = await app.database.db.query(
        `SELECT id::text AS id FROM exposure_alert WHERE client_id = $1`,
        [council.id],
      );
      expect(received.map((a) => a.id)).toEqual([alertId]);
    } finally {
      await wsClient.dispose();
      if (replacement) await replacement.stop();
      if (replacementDb) await replacementDb.db.destroy();
      if (stopped) await app.database.drop();
      else await app.stop();
    }
  });
});

describe('the real entry point on SIGTERM', () => {
  it('closes subscriptions with 1001, finishes what is in flight, and exits 0', async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    let metricsPort = await freePort();
    while (metricsPort === port) metricsPort = await freePort();
    let child: ChildProcess | null = null;
    const blocker = await sideConnection(database.url);
    try {
      await seed({ services: createServices(database.db) }, 3);
      let output = '';
      child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          DATABASE_URL: database.url,
          MIGRATION_DATABASE_URL: database.ownerUrl,
          JWT_SECRET: TEST_JWT_SECRET,
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          LOG_LEVEL: 'silent',
          DB_POOL_MAX: '30',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk) => (output += String(chunk)));
      child.stderr!.on('data', (chunk) => (output += String(chunk)));
      let exitCode: number | null | undefined;
      const exited = new Promise<void>((resolve) =>
        child!.once('exit', (code) => {
          exitCode = code;
          resolve();
        }),
      );
      await eventually(
        () => output.includes('Supplier risk register API at') || exitCode !== undefined,
        60_000,
        'the server to start',
      );
      expect(output).toMatch(/Supplier risk register API at/);
      const url = `http://localhost:${port}`;
      expect((await send(`${url}/readyz`)).status).toBe(200);
      // Production: no demo tokens printed, no GraphiQL.
      expect(output).not.toMatch(/Token for/);
      expect((await send(`${url}/graphiql`)).status).toBe(404);

      const token = await mintToken(TEST_JWT_SECRET, { sub: 'sigterm-test', role: 'analyst' });
      const subscriber = await subscribe(url, token);
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE supplier IN ACCESS EXCLUSIVE MODE');
      const requests = Array.from({ length: 20 }, () => postGraphQL(url, token, { query: NESTED_QUERY }, {}));
      await eventually(
        async () =>
          (await lockWaiters(blocker)) >= 4 &&
          (await queuedQueries(`http://localhost:${metricsPort}/metrics`)) === 16,
        10_000,
        'all requests to be running or queued',
      );

      child.kill('SIGTERM');
      await subscriber.waitUntilEnded(5000);
      expect(subscriber.closeCode).toBe(1001);
      await eventually(() => output.includes('SIGTERM received'), 5000, 'the shutdown message');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(exitCode).toBeUndefined();

      await blocker.query('COMMIT');
      const responses = await Promise.all(requests);
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.json.data.suppliers.totalCount).toBe(3);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
      clearTimeout(timer);
      expect(exitCode).toBe(0);
      expect(output).toMatch(/Stopped\./);
      child = null;
      await subscriber.dispose();
    } finally {
      await blocker.end();
      if (child) child.kill('SIGKILL');
      await database.drop();
    }
  });
});

describe('configuration is checked before start', () => {
  const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db.internal/register' };

  it('production without JWT_SECRET or JWT_JWKS_URL refuses to start with a clear message', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      'In production set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256): refusing to start without a way to verify tokens',
    );
    expect(() => loadConfig({ ...PRODUCTION, JWT_SECRET: '' })).toThrow(/JWT_SECRET.*JWT_JWKS_URL/);
  });

  it('production without DATABASE_URL refuses to start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET })).toThrow(/DATABASE_URL/);
  });

  it('a JWT_SECRET shorter than 32 characters is refused, in every environment', () => {
    for (const env of ['production', 'development', 'test']) {
      expect(() => loadConfig({ ...PRODUCTION, NODE_ENV: env, JWT_SECRET: 'short-secret' })).toThrow(
        'JWT_SECRET must be at least 32 characters long',
      );
      expect(() => loadConfig({ ...PRODUCTION, NODE_ENV: env, JWT_SECRET: 'x'.repeat(31) })).toThrow(
        /at least 32/,
      );
    }
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toBe('x'.repeat(32));
  });

  it('a bad PORT is refused with the variable, the range and the value', () => {
    for (const port of ['abc', '-1', '65536', '80.5', '4000x', '1e3x']) {
      expect(() => loadConfig({ PORT: port })).toThrow(
        `PORT must be a whole number from 0 to 65535, got "${port}"`,
      );
    }
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080);
    expect(loadConfig({}).port).toBe(4000);
  });

  it('other variables are checked the same way', () => {
    expect(() => loadConfig({ JWT_JWKS_URL: 'not a url' })).toThrow('JWT_JWKS_URL is not a URL: "not a url"');
    expect(() => loadConfig({ INTROSPECTION: 'maybe' })).toThrow(
      'INTROSPECTION must be true or false, got "maybe"',
    );
    expect(() => loadConfig({ MAX_QUERY_DEPTH: '1' })).toThrow(
      /MAX_QUERY_DEPTH must be a whole number from 2 to 100/,
    );
    expect(() => loadConfig({ BODY_LIMIT_BYTES: '10' })).toThrow(/BODY_LIMIT_BYTES/);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '-5' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
    expect(() => loadConfig({ DB_POOL_MAX: '0' })).toThrow(/DB_POOL_MAX/);
    expect(() => loadConfig({ MAX_CONCURRENT_QUERIES: '0' })).toThrow(
      /MAX_CONCURRENT_QUERIES must be a whole number from 1 to 1000/,
    );
    expect(() => loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '0' })).toThrow(
      /WS_MAX_SUBSCRIPTIONS_PER_SOCKET must be a whole number from 1 to 10000, got "0"/,
    );
    expect(() => loadConfig({ WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: 'many' })).toThrow(
      /WS_MAX_SUBSCRIPTIONS_PER_SUBJECT must be a whole number/,
    );
    expect(loadConfig({})).toMatchObject({
      wsMaxSubscriptionsPerSocket: 20,
      wsMaxSubscriptionsPerSubject: 100,
    });
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(
      'METRICS_PORT must be a whole number from 0 to 65535, got "70000"',
    );
    expect(() => loadConfig({ PORT: '4000', METRICS_PORT: '4000' })).toThrow(
      /METRICS_PORT must differ from PORT \(4000\)/,
    );
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
  });

  it('without METRICS_PORT no metrics are served, on any port', async () => {
    const app = await startTestApp({ METRICS_PORT: '' });
    try {
      expect(app.server.metricsUrl).toBeNull();
      expect((await send(`${app.url}/metrics`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });

  it('a METRICS_PORT in use stops the start with a message that names it', async () => {
    const holder = await startTestApp();
    try {
      const busy = new URL(holder.server.metricsUrl!).port;
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, METRICS_PORT: busy });
      const starting = startServer(
        {
          config,
          db: holder.database.db,
          schema: await testSchema(),
          services: holder.services,
          logger: pino({ level: 'silent' }),
          databaseUrl: holder.database.url,
        },
        0,
      );
      await expect(starting).rejects.toThrow(`port ${busy} is in use; set METRICS_PORT`);
    } finally {
      await holder.stop();
    }
  });

  it('production defaults are safe; development falls back to the development secret', () => {
    const production = loadConfig({
      ...PRODUCTION,
      JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
    });
    expect(production).toMatchObject({
      env: 'production',
      introspection: false,
      graphiql: false,
      fieldSuggestions: false,
      jwtSecret: undefined,
      logLevel: 'info',
    });
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: TEST_JWT_SECRET }).jwtSecret).toBe(TEST_JWT_SECRET);
    expect(loadConfig({}).jwtSecret).toBe(DEVELOPMENT_JWT_SECRET);
    expect(loadConfig({ NODE_ENV: 'test' })).toMatchObject({
      introspection: true,
      fieldSuggestions: true,
      logLevel: 'silent',
    });
  });

  it('the entry point reports a bad configuration and exits non-zero', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        JWT_SECRET: '',
        JWT_JWKS_URL: '',
        DATABASE_URL: 'postgres://db.internal/register',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Could not start: In production set JWT_SECRET/m);
  });
});
