import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { mintToken } from '../../src/auth/jwt';
import { encodeGlobalId } from '../../src/common/global-id';
import { createServices, Services } from '../../src/services';
import { OPERATION_LABELS } from '../../src/observability/metrics';
import { RunningServer, startServer } from '../../src/server';
import { TEST_JWT_SECRET, testSchema } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { subscribe } from '../alert/subscriber';
import { RawResponse, errorCodes, eventually, postGraphQL, send } from './support';

/**
 * What operators see: Prometheus metrics at /metrics, one structured log line per GraphQL request, a request id
 * on every answer (header and error extensions), and the health endpoints. The server is built like
 * test/support/app.ts, but with a pino logger writing into memory so the log lines can be read back.
 */

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

describe('observability', () => {
  let database: TestDatabase;
  let services: Services;
  let server: RunningServer;
  let url: string;
  let adminToken: string;
  let analystToken: string;
  const logs: LogLine[] = [];
  const logText: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    services = createServices(database.db);
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) {
          logText.push(line);
          logs.push(JSON.parse(line));
        }
        callback();
      },
    });
    const logger = pino({ level: 'info' }, stream);
    // Rate limit 30 per minute per subject: high enough for this file, low enough to provoke a RATE_LIMITED.
    const config = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_PER_MINUTE: '30',
      BODY_LIMIT_BYTES: '2048',
      METRICS_PORT: '0',
    });
    server = await startServer(
      { config, db: database.db, schema: await testSchema(), services, logger, databaseUrl: database.url },
      0,
    );
    url = server.url;
    adminToken = await mintToken(TEST_JWT_SECRET, { sub: 'obs-admin', role: 'admin' });
    analystToken = await mintToken(TEST_JWT_SECRET, { sub: 'obs-analyst', role: 'analyst' });
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  const metricsText = async () => {
    const response = await send(server.metricsUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    return response.text;
  };
  /** The value of one sample, e.g. sample(text, 'graphql_errors_total{code="FORBIDDEN"}'); 0 when absent. */
  const sample = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  describe('/healthz and /readyz', () => {
    it('answer 200 with the database up', async () => {
      const health = await send(`${url}/healthz`);
      expect({ status: health.status, body: health.json }).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await send(`${url}/readyz`);
      expect({ status: ready.status, body: ready.json }).toEqual({
        status: 200,
        body: { status: 'ready', database: 'up' },
      });
    });
  });

  describe('/metrics', () => {
    it('graphql_request_duration_seconds is labelled with the operation name and type', async () => {
      for (let i = 0; i < 3; i += 1) {
        const response = await postGraphQL(url, analystToken, {
          query: 'query ObservedSuppliers { suppliers { totalCount } }',
        });
        expect(response.json.errors).toBeUndefined();
      }
      await postGraphQL(url, adminToken, {
        query:
          'mutation ObservedCreate { createClient(input: { name: "Observed Council", sector: OTHER }) { client { id } } }',
      });
      const text = await metricsText();
      expect(text).toMatch(/# TYPE graphql_request_duration_seconds histogram/);
      expect(
        sample(text, 'graphql_request_duration_seconds_count{operation="ObservedSuppliers",type="query"}'),
      ).toBe(3);
      expect(
        sample(
          text,
          'graphql_request_duration_seconds_bucket{le="+Inf",operation="ObservedSuppliers",type="query"}',
        ),
      ).toBe(3);
      expect(
        sample(text, 'graphql_request_duration_seconds_sum{operation="ObservedSuppliers",type="query"}'),
      ).toBeGreaterThan(0);
      expect(
        sample(text, 'graphql_request_duration_seconds_count{operation="ObservedCreate",type="mutation"}'),
      ).toBe(1);
    });

    it('graphql_errors_total counts each error once by code, including refusals made before a request has a context', async () => {
      const before = await metricsText();
      expect(before).toMatch(/# TYPE graphql_errors_total counter/);
      const forbidden = await postGraphQL(url, analystToken, { query: '{ auditEvents { totalCount } }' });
      expect(errorCodes(forbidden)).toEqual(['FORBIDDEN']);
      const invalid = await postGraphQL(url, analystToken, { query: '{ nope }' });
      expect(errorCodes(invalid)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const unauthenticated = await postGraphQL(url, 'not-a-token', {
        query: '{ suppliers { totalCount } }',
      });
      expect(errorCodes(unauthenticated)).toEqual(['UNAUTHENTICATED']);
      const badJson = await postGraphQL(url, analystToken, '{"query": ');
      expect(errorCodes(badJson)).toEqual(['BAD_REQUEST']);
      const after = await metricsText();
      for (const code of ['FORBIDDEN', 'GRAPHQL_VALIDATION_FAILED', 'UNAUTHENTICATED', 'BAD_REQUEST']) {
        const series = `graphql_errors_total{code="${code}"}`;
        expect({ code, increase: sample(after, series) - sample(before, series) }).toEqual({
          code,
          increase: 1,
        });
      }
    });

    it('graphql_active_subscriptions follows open subscriptions, and alert_delivery_latency_seconds observes each delivered alert', async () => {
      const supplier = await createSupplier(services, { name: 'Observed Supplier' });
      const client = await createClient(services, { name: 'Observed Client' });
      await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);

      const idle = await metricsText();
      expect(idle).toMatch(/# TYPE graphql_active_subscriptions gauge/);
      expect(sample(idle, 'graphql_active_subscriptions')).toBe(0);
      expect(idle).toMatch(/# TYPE alert_delivery_latency_seconds histogram/);
      const deliveredBefore = sample(idle, 'alert_delivery_latency_seconds_count');

      const clientToken = await mintToken(TEST_JWT_SECRET, {
        sub: 'obs-client',
        role: 'client',
        client_id: encodeGlobalId('Client', client.id),
      });
      const first = await subscribe(url, adminToken);
      const second = await subscribe(url, clientToken);
      await eventually(
        async () => sample(await metricsText(), 'graphql_active_subscriptions') === 2,
        5000,
        'two active subscriptions',
      );

      await recordIncident(services, supplier.id);
      await first.waitFor(1);
      await second.waitFor(1);
      const delivered = await metricsText();
      expect(sample(delivered, 'alert_delivery_latency_seconds_count') - deliveredBefore).toBe(2);
      expect(sample(delivered, 'alert_delivery_latency_seconds_bucket{le="60"}') - deliveredBefore).toBe(2);

      await first.dispose();
      await eventually(
        async () => sample(await metricsText(), 'graphql_active_subscriptions') === 1,
        5000,
        'one active subscription',
      );
      await second.dispose();
      await eventually(
        async () => sample(await metricsText(), 'graphql_active_subscriptions') === 0,
        5000,
        'no active subscription',
      );
    });

    it('is served on METRICS_PORT only, not on the API port', async () => {
      expect(new URL(server.metricsUrl!).port).not.toBe(new URL(url).port);
      expect((await send(`${url}/metrics`)).status).toBe(404);
      expect((await send(server.metricsUrl!)).status).toBe(200);
    });

    it('labels a bounded number of operation names; later new names count as "other"', async () => {
      const token = await mintToken(TEST_JWT_SECRET, { sub: 'obs-many-names', role: 'analyst' });
      /** The operation names labelled as they are (not "anonymous" or "other"). */
      const namesOf = (text: string) =>
        new Set(
          [...text.matchAll(/^graphql_request_duration_seconds_count\{operation="([^"]+)"/gm)]
            .map((match) => match[1])
            .filter((name) => name !== 'anonymous' && name !== 'other'),
        );
      const labelled = namesOf(await metricsText()).size;
      // The rate limit of this file is 30 a minute per subject: one subject per 25 requests.
      const tokens = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          mintToken(TEST_JWT_SECRET, { sub: `obs-many-names-${i}`, role: 'analyst' }),
        ),
      );
      for (let i = 0; i < OPERATION_LABELS + 20 - labelled; i += 1) {
        const response = await postGraphQL(url, tokens[Math.floor(i / 25)] ?? token, {
          query: `query Chosen${i} { __typename }`,
        });
        expect(response.status).toBe(200);
      }
      expect(namesOf(await metricsText()).size).toBe(OPERATION_LABELS);
      expect(
        sample(await metricsText(), 'graphql_request_duration_seconds_count{operation="other",type="query"}'),
      ).toBe(20);
      // A name labelled before keeps its label.
      await postGraphQL(url, analystToken, { query: 'query ObservedSuppliers { suppliers { totalCount } }' });
      expect(
        sample(
          await metricsText(),
          'graphql_request_duration_seconds_count{operation="ObservedSuppliers",type="query"}',
        ),
      ).toBe(4);
    });

    it('db_pool_connections reports total, idle and waiting', async () => {
      await postGraphQL(url, analystToken, { query: '{ suppliers { totalCount } }' });
      const text = await metricsText();
      expect(text).toMatch(/# TYPE db_pool_connections gauge/);
      const total = sample(text, 'db_pool_connections{state="total"}');
      const idle = sample(text, 'db_pool_connections{state="idle"}');
      expect(total).toBeGreaterThanOrEqual(1);
      expect(total).toBeLessThanOrEqual(10);
      expect(idle).toBeLessThanOrEqual(total);
      expect(text).toMatch(/^db_pool_connections\{state="waiting"\} 0$/m);
    });
  });

  describe('logs', () => {
    it('one JSON line per request with requestId, operationName, durationMs and sqlStatements; no input values', async () => {
      const requestId = 'obs-log-check-1';
      const response = await postGraphQL(
        url,
        adminToken,
        {
          query:
            'mutation LoggedCreate($name: String!) { createSupplier(input: { name: $name, country: "GB", tier: STANDARD }) { supplier { id } } }',
          variables: { name: 'Confidential Holdings Ltd' },
        },
        { 'x-request-id': requestId },
      );
      expect(response.json.errors).toBeUndefined();
      const line = (await eventually(
        () => logs.find((l) => l.requestId === requestId && l.msg === 'graphql request'),
        2000,
        'the log line',
      ))!;
      expect(line).toMatchObject({
        level: 30,
        operationName: 'LoggedCreate',
        operationType: 'mutation',
        errorCodes: [],
      });
      expect(typeof line.durationMs).toBe('number');
      expect(line.durationMs as number).toBeGreaterThan(0);
      expect(line.sqlStatements).toBe(Number(response.headers.get('x-sql-statements')));
      expect(line.sqlStatements as number).toBeGreaterThan(0);
      expect(logs.filter((l) => l.requestId === requestId)).toHaveLength(1);
      // Query text and variables may hold personal data: they stay out of the logs.
      expect(logText.filter((l) => l.includes('Confidential Holdings'))).toEqual([]);
    });

    it('an error request logs its error codes', async () => {
      const requestId = 'obs-log-check-2';
      await postGraphQL(
        url,
        analystToken,
        { query: 'query Refused { auditEvents { totalCount } }' },
        { 'x-request-id': requestId },
      );
      const line = (await eventually(
        () => logs.find((l) => l.requestId === requestId),
        2000,
        'the log line',
      ))!;
      expect(line).toMatchObject({ operationName: 'Refused', errorCodes: ['FORBIDDEN'], sqlStatements: 0 });
    });
  });

  describe('request ids', () => {
    /** Every answer has an x-request-id header, and every error in it carries the same id. */
    function expectRequestId(response: RawResponse, expected?: string) {
      const header = response.headers.get('x-request-id');
      expect(header).toEqual(expected ?? expect.stringMatching(/^[0-9a-f-]{36}$/));
      const errors = response.json?.errors ?? [];
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors)
        expect({ code: error.extensions?.code, requestId: error.extensions?.requestId }).toEqual({
          code: error.extensions?.code,
          requestId: header,
        });
    }

    it('every kind of error response carries extensions.requestId equal to the x-request-id header', async () => {
      const cases: [string, () => Promise<RawResponse>][] = [
        ['validation', () => postGraphQL(url, adminToken, { query: '{ nope }' })],
        ['parse', () => postGraphQL(url, adminToken, { query: '{' })],
        ['forbidden', () => postGraphQL(url, analystToken, { query: '{ auditEvents { totalCount } }' })],
        [
          'bad user input',
          () => postGraphQL(url, adminToken, { query: '{ suppliers(first: 101) { totalCount } }' }),
        ],
        [
          'bad variables',
          () =>
            postGraphQL(url, adminToken, {
              query: 'query($n: Int) { suppliers(first: $n) { totalCount } }',
              variables: { n: 'x' },
            }),
        ],
        [
          'too complex',
          () =>
            postGraphQL(url, adminToken, {
              query:
                '{ suppliers(first: 100) { edges { node { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } }',
            }),
        ],
        ['no token', () => postGraphQL(url, null, { query: '{ suppliers { totalCount } }' })],
        [
          'expired token',
          async () =>
            postGraphQL(url, await mintToken(TEST_JWT_SECRET, { sub: 'x', role: 'admin' }, '-1m'), {
              query: '{ suppliers { totalCount } }',
            }),
        ],
        ['malformed JSON', () => postGraphQL(url, adminToken, '{"query"')],
        [
          'body too large',
          () =>
            postGraphQL(url, adminToken, {
              query: `{ suppliers(filter: { search: "${'x'.repeat(3000)}" }) { totalCount } }`,
            }),
        ],
        [
          'CSRF',
          () =>
            send(`${url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain', authorization: `Bearer ${adminToken}` },
              body: '{"query":"{ __typename }"}',
            }),
        ],
        ['batch', () => postGraphQL(url, adminToken, [{ query: '{ __typename }' }])],
        [
          'GET mutation',
          () =>
            send(
              `${url}/graphql?query=${encodeURIComponent('mutation { removeClient(input: { id: "x" }) { removedId } }')}`,
              { headers: { authorization: `Bearer ${adminToken}`, 'apollo-require-preflight': '1' } },
            ),
        ],
        [
          'method',
          () =>
            send(`${url}/graphql`, {
              method: 'PUT',
              headers: { 'content-type': 'application/json' },
              body: '{}',
            }),
        ],
      ];
      for (const [name, run] of cases) {
        const response = await run();
        expect({ name, status: response.status }).toEqual({ name, status: expect.any(Number) });
        try {
          expectRequestId(response);
        } catch (error) {
          throw new Error(
            `${name} (HTTP ${response.status}): ${(error as Error).message}\n${response.text}`,
            {
              cause: error,
            },
          );
        }
      }
    });

    it('a well-formed x-request-id from the caller is kept; anything else is replaced', async () => {
      expectRequestId(
        await postGraphQL(
          url,
          analystToken,
          { query: '{ nope }' },
          { 'x-request-id': 'caller-chosen_ID-42' },
        ),
        'caller-chosen_ID-42',
      );
      expectRequestId(
        await postGraphQL(
          url,
          null,
          { query: '{ nope }' },
          { 'x-request-id': 'caller-chosen-unauthenticated' },
        ),
        'caller-chosen-unauthenticated',
      );
      for (const bad of ['<script>', 'a'.repeat(65), 'two words', 'semi;colon']) {
        const response = await postGraphQL(url, analystToken, { query: '{ nope }' }, { 'x-request-id': bad });
        expectRequestId(response);
        expect(response.headers.get('x-request-id')).not.toBe(bad);
      }
      const ok = await postGraphQL(
        url,
        analystToken,
        { query: '{ suppliers { totalCount } }' },
        { 'x-request-id': 'success-has-it-too' },
      );
      expect(ok.headers.get('x-request-id')).toBe('success-has-it-too');
    });

    it('a rate-limited request carries it too, and is counted', async () => {
      const token = await mintToken(TEST_JWT_SECRET, { sub: 'obs-flood', role: 'analyst' });
      const before = sample(await metricsText(), 'graphql_errors_total{code="RATE_LIMITED"}');
      let limited: RawResponse | null = null;
      for (let i = 0; i < 31 && !limited; i += 1) {
        const response = await postGraphQL(url, token, { query: '{ __typename }' });
        if (response.status === 429) limited = response;
      }
      expect(limited).not.toBeNull();
      expect(errorCodes(limited!)).toEqual(['RATE_LIMITED']);
      expectRequestId(limited!);
      expect(sample(await metricsText(), 'graphql_errors_total{code="RATE_LIMITED"}') - before).toBe(1);
    });
  });
});
