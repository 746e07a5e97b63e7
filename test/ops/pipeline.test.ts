import { Writable } from 'node:stream';
import pino from 'pino';
import { TestApp, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { openSocket } from '../support/ws';
import { eventually, postGraphQL } from './support';

/**
 * One pipeline for both transports: the same validation rules (introspection off in production), the same
 * error masking, logging and metrics, a request id per operation, and stack traces only on internal errors
 * in development. Each case is sent over HTTP and over graphql-ws, and the answers are compared.
 */

interface LogLine {
  msg: string;
  requestId?: string;
  [key: string]: unknown;
}

/** A server whose log lines are kept in memory. */
async function startLoggedApp(env: Record<string, string>, shared?: { database: TestApp['database'] }) {
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      callback();
    },
  });
  const app = await startTestApp(env, shared, { logger: pino({ level: 'info' }, stream) });
  return { app, logs };
}

// The revisions table is renamed away while these run (withBrokenRevisions): the statement fails inside the
// database, an internal error by any measure. (Year 0000 used to do it; such instants are refused now.)
const BROKEN =
  'query BrokenRevisions { exposures(first: 1) { edges { node { asOf(at: "2024-01-01T00:00:00Z") { score } } } } }';

async function withBrokenRevisions<T>(app: TestApp, work: () => Promise<T>): Promise<T> {
  // DDL: only the owner may (the API's role owns nothing).
  await app.database.asOwner((owner) =>
    owner.query(`ALTER TABLE exposure_revision RENAME TO exposure_revision_gone`),
  );
  try {
    return await work();
  } finally {
    await app.database.asOwner((owner) =>
      owner.query(`ALTER TABLE exposure_revision_gone RENAME TO exposure_revision`),
    );
  }
}

/** What a client sees of an answer: its errors, over either transport. */
async function overBoth(app: TestApp, token: string, query: string) {
  const http = await postGraphQL(app.url, token, { query });
  const socket = await openSocket(app.url, token);
  try {
    const ws = await socket.run(query);
    return {
      http: {
        errors: http.json.errors as any[],
        text: http.text,
        requestId: http.headers.get('x-request-id'),
      },
      ws: { errors: ws.errors as any[], text: JSON.stringify(ws) },
    };
  } finally {
    await socket.dispose();
  }
}

describe('one pipeline for HTTP and WebSocket', () => {
  let development: TestApp;
  let production: TestApp;
  let productionLogs: LogLine[];

  beforeAll(async () => {
    development = await startTestApp({ NODE_ENV: 'development' });
    ({ app: production, logs: productionLogs } = await startLoggedApp(
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://configured-elsewhere/register' },
      { database: development.database },
    ));
    const supplier = await createSupplier(development.services, { name: 'Pipeline Supplier' });
    const client = await createClient(development.services, { name: 'Pipeline Council' });
    await createAgreement(
      development.services,
      (await createContract(development.services, client.id, supplier.id)).id,
    );
    await recordIncident(development.services, supplier.id);
  });
  afterAll(async () => {
    await production?.stop();
    await development?.stop();
  });

  it('production: introspection is refused over both', async () => {
    for (const query of [
      '{ __schema { types { name } } }',
      '{ __type(name: "Mutation") { fields { name } } }',
    ]) {
      const { http, ws } = await overBoth(production, production.adminToken, query);
      for (const errors of [http.errors, ws.errors]) {
        expect(errors.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        expect(errors[0].message).toMatch(/introspection .* is turned off/i);
      }
      expect(ws.text).not.toMatch(/createSupplier/);
    }
    // Development keeps it (GraphiQL's docs).
    expect(
      (await overBoth(development, development.adminToken, '{ __type(name: "Supplier") { name } }')).ws
        .errors,
    ).toBeUndefined();
  });

  it('production: an internal error is masked over both, carries a request id, and is logged with it', async () => {
    const { http, ws } = await withBrokenRevisions(production, () =>
      overBoth(production, production.adminToken, BROKEN),
    );
    for (const answer of [http, ws]) {
      expect(answer.errors).toEqual([
        {
          message: 'Internal server error',
          path: ['exposures', 'edges', 0, 'node', 'asOf'],
          locations: expect.any(Array),
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
        },
      ]);
      for (const leak of [
        'exposure_revision',
        'does not exist',
        'QueryFailedError',
        'SELECT',
        'stacktrace',
        '.ts:',
      ])
        expect({ leak, found: answer.text.includes(leak) }).toEqual({ leak, found: false });
    }
    expect(http.errors[0].extensions.requestId).toBe(http.requestId);
    const requestId = ws.errors[0].extensions.requestId as string;
    expect(requestId).not.toBe(http.requestId);
    const lines = (await eventually(
      () => {
        const found = productionLogs.filter((line) => line.requestId === requestId);
        return found.length >= 2 ? found : null;
      },
      2000,
      'the log lines of the WebSocket operation',
    ))!;
    expect(lines.map((line) => line.msg).sort()).toEqual(['graphql request', 'unexpected error']);
    expect(lines.find((line) => line.msg === 'graphql request')).toMatchObject({
      transport: 'websocket',
      operationName: 'BrokenRevisions',
      operationType: 'query',
      errorCodes: ['INTERNAL_SERVER_ERROR'],
      sqlStatements: expect.any(Number),
    });
    // The database's own words reach the log, not the client.
    expect(JSON.stringify(lines.find((line) => line.msg === 'unexpected error'))).toMatch(
      /exposure_revision.* does not exist/,
    );
  });

  it('every WebSocket operation is logged once with its own request id, and counted in the same metrics', async () => {
    const metrics = async () => (await fetch(production.server.metricsUrl!)).text();
    const sample = (text: string, series: string) =>
      Number(
        text
          .split('\n')
          .find((line) => line.startsWith(`${series} `))
          ?.slice(series.length + 1) ?? 0,
      );
    const before = await metrics();
    const socket = await openSocket(production.url, production.analystToken);
    try {
      for (let i = 0; i < 3; i += 1)
        expect((await socket.run('query CountedOverWs { suppliers { totalCount } }')).errors).toBeUndefined();
      expect(
        (await socket.run('query RefusedOverWs { auditEvents { totalCount } }')).errors?.map(
          (error) => error.extensions?.code,
        ),
      ).toEqual(['FORBIDDEN']);
    } finally {
      await socket.dispose();
    }
    const after = await metrics();
    expect(
      sample(after, 'graphql_request_duration_seconds_count{operation="CountedOverWs",type="query"}') -
        sample(before, 'graphql_request_duration_seconds_count{operation="CountedOverWs",type="query"}'),
    ).toBe(3);
    expect(
      sample(after, 'graphql_errors_total{code="FORBIDDEN"}') -
        sample(before, 'graphql_errors_total{code="FORBIDDEN"}'),
    ).toBe(1);
    const lines = productionLogs.filter(
      (line) => line.msg === 'graphql request' && line.operationName === 'CountedOverWs',
    );
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((line) => line.requestId)).size).toBe(3);
    // The same statements as the same query over HTTP.
    const overHttp = Number(
      (
        await postGraphQL(production.url, production.analystToken, {
          query: 'query CountedOverWs { suppliers { totalCount } }',
        })
      ).headers.get('x-sql-statements'),
    );
    expect(overHttp).toBeGreaterThan(0);
    for (const line of lines)
      expect(line).toMatchObject({
        transport: 'websocket',
        operationType: 'query',
        errorCodes: [],
        sqlStatements: overHttp,
      });
  });

  it('development: only internal errors carry a stack trace, over both', async () => {
    const expired = await development.token('admin');
    const expected: [string, string, string][] = [
      ['validation', '{ nope }', 'GRAPHQL_VALIDATION_FAILED'],
      ['parse', '{', 'GRAPHQL_PARSE_FAILED'],
      [
        'depth limit',
        `{ suppliers { edges { node { ${'subprocessors { '.repeat(20)}name${' }'.repeat(20)} } } } }`,
        'GRAPHQL_VALIDATION_FAILED',
      ],
      ['bad user input', '{ suppliers(first: 101) { totalCount } }', 'BAD_USER_INPUT'],
      [
        'too complex',
        '{ suppliers(first: 100) { edges { node { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } }',
        'QUERY_TOO_COMPLEX',
      ],
      ['forbidden', '{ auditEvents { totalCount } }', 'FORBIDDEN'],
    ];
    for (const [name, query, code] of expected) {
      const token = name === 'forbidden' ? development.analystToken : expired;
      const { http, ws } = await overBoth(development, token, query);
      for (const [transport, errors] of [
        ['http', http.errors],
        ['ws', ws.errors],
      ] as const) {
        expect({ name, transport, codes: errors.map((error) => error.extensions?.code) }).toEqual({
          name,
          transport,
          codes: [code],
        });
        expect({ name, transport, stacktrace: errors[0].extensions?.stacktrace }).toEqual({
          name,
          transport,
          stacktrace: undefined,
        });
      }
    }
    const unauthenticated = await postGraphQL(development.url, null, {
      query: '{ suppliers { totalCount } }',
    });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.json.errors[0].extensions.stacktrace).toBeUndefined();

    const internal = await withBrokenRevisions(development, () =>
      overBoth(development, development.adminToken, BROKEN),
    );
    for (const errors of [internal.http.errors, internal.ws.errors]) {
      expect(errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(errors[0].extensions.stacktrace).toEqual(
        expect.arrayContaining([expect.stringMatching(/^\s+at /)]),
      );
    }
  });
});
