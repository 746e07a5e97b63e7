import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { createClient as createRegisterClient, createContract, createSupplier } from '../support/factories';
import { openSocket } from '../support/ws';
import { RawResponse, databaseSnapshot, errorCodes, postGraphQL, send } from './support';

/**
 * The request limits of the operating contract, through the real HTTP and WebSocket server: every rejection
 * happens before anything executes (an over-limit mutation writes nothing), answers with a GraphQL-style
 * error carrying a code, and never with a 5xx.
 */

const SUPPLIER_INPUT = '{ name: "Limit Test Ltd", country: "GB", tier: STANDARD }';

/** A selection nested `levels` deep below the root field, through plain (non-connection) fields. */
function nested(levels: number): string {
  let inner = 'name';
  for (let i = 1; i < levels; i += 1) inner = `subprocessors { ${inner} }`;
  return inner;
}

/** Three connections of 100 nested in each other: 100 × 100 × 100 rows' worth of cost. */
const OVER_COST_SELECTION = `contracts(first: 100) { edges { node { client { contracts(first: 100) { edges { node { supplier { contracts(first: 100) { totalCount } } } } } } } } }`;

function expectRejected(response: RawResponse, status: number, code: string, message?: RegExp) {
  expect({ status: response.status, codes: errorCodes(response) }).toEqual({ status, codes: [code] });
  expect(response.json.data).toBeUndefined();
  expect(response.headers.get('content-type')).toMatch(/json/);
  if (message) expect(response.json.errors[0].message).toMatch(message);
}

describe('request limits', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    const supplier = await createSupplier(app.services, { name: 'Existing Supplier' });
    const client = await createRegisterClient(app.services, { name: 'Existing Client' });
    await createContract(app.services, client.id, supplier.id);
  });
  afterAll(() => app.stop());

  /** Sends a request and checks the database is exactly as before. */
  async function withoutWrites(work: () => Promise<RawResponse>): Promise<RawResponse> {
    const before = await databaseSnapshot(app.database.db);
    const response = await work();
    expect(await databaseSnapshot(app.database.db)).toEqual(before);
    return response;
  }

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    postGraphQL(app.url, app.adminToken, body, headers);

  describe('depth (MAX_QUERY_DEPTH = 15)', () => {
    // suppliers 1, edges 2, node 3, contracts 4, edges 5, node 6, client 7, contracts 8, edges 9, node 10, supplier 11, contracts 12, edges 13, node 14, … 15
    const fifteenDeep = (leaf: string) =>
      `{ suppliers(first: 1) { edges { node { contracts(first: 1) { edges { node { client { contracts(first: 1) { edges { node { supplier { contracts(first: 1) { edges { node { ${leaf} } } } } } } } } } } } } } } }`;

    it('accepts a query at the limit and rejects one level more', async () => {
      const response = await post({ query: fifteenDeep('reference') });
      expect(response.status).toBe(200);
      expect(response.json.errors).toBeUndefined();
      expect(
        response.json.data.suppliers.edges[0].node.contracts.edges[0].node.client.contracts.edges[0].node
          .supplier.contracts.edges[0].node.reference,
      ).toMatch(/^C-/);
      const sixteen = await post({ query: fifteenDeep('supplier { name }') });
      expectRejected(
        sixteen,
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /^Query depth limit of 15 exceeded, found 16/,
      );
    });

    it('rejects a deeper query and a deeper mutation before execution', async () => {
      const query = await withoutWrites(() =>
        post({ query: `{ suppliers(first: 1) { edges { node { ${nested(20)} } } } }` }),
      );
      expectRejected(query, 400, 'GRAPHQL_VALIDATION_FAILED', /depth limit of 15 exceeded/i);

      const mutation = await withoutWrites(() =>
        post({
          query: `mutation Deep { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { ${nested(16)} } } }`,
        }),
      );
      expectRejected(mutation, 400, 'GRAPHQL_VALIDATION_FAILED', /depth limit/i);
    });
  });

  describe('aliases (MAX_QUERY_ALIASES = 15)', () => {
    const aliased = (n: number, field: string) =>
      Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');

    it('accepts 15 aliases', async () => {
      const response = await post({ query: `{ ${aliased(15, 'suppliers(first: 1) { totalCount }')} }` });
      expect(response.status).toBe(200);
      expect(response.json.errors).toBeUndefined();
      expect(response.json.data.a14.totalCount).toBe(1);
    });

    it('rejects an alias bomb, including 16 aliased createSupplier calls that would each write', async () => {
      // The document parsed: the limit is named as a limit, not as a "Syntax Error".
      expectRejected(
        await post({ query: `{ ${aliased(16, 'suppliers(first: 1) { totalCount }')} }` }),
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /^Aliases limit of 15 exceeded/,
      );
      expectRejected(
        await post({ query: `{ suppliers(first: 1) { edges { node { ${aliased(500, 'name')} } } } }` }),
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /aliases/i,
      );
      // Refused twice over: too many aliases, and more than one mutation field.
      const mutation = await withoutWrites(() =>
        post({
          query: `mutation Bomb { ${aliased(16, `createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } }`)} }`,
        }),
      );
      expect({ status: mutation.status, codes: errorCodes(mutation) }).toEqual({
        status: 400,
        codes: ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED'],
      });
      expect(mutation.json.errors.map((e: { message: string }) => e.message)).toEqual([
        expect.stringMatching(/aliases limit of 15 exceeded/i),
        expect.stringMatching(/only one mutation field; this one has 16/),
      ]);
    });
  });

  describe('tokens (MAX_QUERY_TOKENS = 3000)', () => {
    it('rejects a document with more tokens than the limit, before execution', async () => {
      const many = Array.from({ length: 3000 }, () => 'name').join(' ');
      const query = await withoutWrites(() =>
        post({ query: `{ suppliers(first: 1) { edges { node { ${many} } } } }` }),
      );
      expectRejected(query, 400, 'GRAPHQL_PARSE_FAILED', /more th(?:an|at) 3000 tokens/i);
      const mutation = await withoutWrites(() =>
        post({
          query: `mutation Tokens { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { ${many} } } }`,
        }),
      );
      expectRejected(mutation, 400, 'GRAPHQL_PARSE_FAILED', /more th(?:an|at) 3000 tokens/i);
    });
  });

  describe('cost (MAX_QUERY_COST = 25000)', () => {
    it('rejects suppliers × contracts × client.contracts at 100 each with QUERY_TOO_COMPLEX and HTTP 400', async () => {
      const response = await withoutWrites(() =>
        post({
          query: `{ suppliers(first: 100) { edges { node { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } }`,
        }),
      );
      expectRejected(response, 400, 'QUERY_TOO_COMPLEX', /limit is 25000/);
      expect(response.json.errors[0].extensions).toMatchObject({ maxCost: 25000 });
      expect(response.json.errors[0].extensions.cost).toBeGreaterThan(25000);
    });

    it('counts page sizes passed as variables', async () => {
      const query = `query($n: Int) { suppliers(first: $n) { edges { node { contracts(first: $n) { edges { node { client { contracts(first: $n) { totalCount } } } } } } } } }`;
      expectRejected(await post({ query, variables: { n: 100 } }), 400, 'QUERY_TOO_COMPLEX');
      const small = await post({ query, variables: { n: 2 } });
      expect(small.status).toBe(200);
      expect(small.json.errors).toBeUndefined();
      // Variables that do not fit are the caller's mistake (400 BAD_USER_INPUT), not a fault.
      const wrong = await post({ query, variables: { n: 'many' } });
      expect(wrong.status).toBe(400);
      expect(errorCodes(wrong)).toEqual(['BAD_USER_INPUT']);
      expect(wrong.json.errors[0].message).toMatch(/\$n/);
    });

    it('a page size out of range is named as such, however large, before any cost is computed', async () => {
      for (const query of [
        '{ suppliers(first: 1000000) { totalCount } }',
        '{ suppliers(first: 100) { edges { node { contracts(first: 1000000) { totalCount } } } } }',
      ]) {
        const response = await post({ query });
        expectRejected(response, 400, 'BAD_USER_INPUT', /^`first` must be between 0 and 100, got 1000000/);
      }
      const variable = await post({
        query: 'query($n: Int) { suppliers(first: $n) { totalCount } }',
        variables: { n: 1000000 },
      });
      expectRejected(variable, 400, 'BAD_USER_INPUT', /between 0 and 100/);
    });

    it('an over-cost mutation writes nothing', async () => {
      const response = await withoutWrites(() =>
        post({
          query: `mutation Costly { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { ${OVER_COST_SELECTION} } } }`,
        }),
      );
      expectRejected(response, 400, 'QUERY_TOO_COMPLEX');
      const [{ count }] = await app.database.db.query(
        `SELECT count(*)::int AS count FROM supplier WHERE name = 'Limit Test Ltd'`,
      );
      expect(count).toBe(0);
    });
  });

  describe('one mutation field per document', () => {
    it('refuses a document with two mutation fields, naming them, and writes nothing', async () => {
      const response = await withoutWrites(() =>
        post({
          query: `mutation Two { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } } second: createClient(input: { name: "Second", sector: OTHER }) { client { id } } }`,
        }),
      );
      expectRejected(
        response,
        400,
        'GRAPHQL_VALIDATION_FAILED',
        /^A mutation document may hold only one mutation field; this one has 2 \(createSupplier, second: createClient\)\. Send each as its own request\.$/,
      );
      // Through fragments too.
      const viaFragment = await withoutWrites(() =>
        post({
          query: `mutation { ...Both } fragment Both on Mutation { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } } createClient(input: { name: "Second", sector: OTHER }) { client { id } } }`,
        }),
      );
      expectRejected(viaFragment, 400, 'GRAPHQL_VALIDATION_FAILED', /createSupplier, createClient/);
    });

    it('accepts one mutation field, with __typename beside it', async () => {
      const response = await post({
        query: `mutation { __typename createClient(input: { name: "Only One", sector: OTHER }) { client { name } } }`,
      });
      expect(response.json).toEqual({
        data: { __typename: 'Mutation', createClient: { client: { name: 'Only One' } } },
      });
    });
  });

  describe('HTTP', () => {
    it('rejects batched requests (a JSON array body) without executing any of them', async () => {
      const one = { query: `mutation { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } } }` };
      const response = await withoutWrites(() => post([one, one]));
      expect(response.status).toBe(400);
      expect(response.text).toMatch(/batching/i);
      expect(response.json?.errors?.[0]?.message ?? response.text).toMatch(/batching/i);
    });

    it('prevents CSRF: a text/plain POST without a preflight header is refused with 400', async () => {
      const response = await withoutWrites(() =>
        send(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', authorization: `Bearer ${app.adminToken}` },
          body: JSON.stringify({
            query: `mutation { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } } }`,
          }),
        }),
      );
      expect(response.status).toBe(400);
      expect(response.text).toMatch(/csrf/i);
      expect(response.json?.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    });

    it('answers first: 101 with an error that says so (not silently clamped)', async () => {
      const response = await post({ query: `{ suppliers(first: 101) { totalCount } }` });
      expect(response.status).toBeLessThan(500);
      expect(response.json.errors).toHaveLength(1);
      expect(response.json.errors[0].message).toMatch(/100/);
      expect(response.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const negative = await post({ query: `{ suppliers(first: -1) { totalCount } }` });
      expect(negative.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    it('answers a body larger than BODY_LIMIT_BYTES with 413 and a JSON GraphQL error', async () => {
      const name = 'x'.repeat(110 * 1024);
      const response = await withoutWrites(() =>
        post({
          query: `mutation($name: String!) { createSupplier(input: { name: $name, country: "GB", tier: STANDARD }) { supplier { id } } }`,
          variables: { name },
        }),
      );
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/json/);
      expect(response.json.errors[0]).toMatchObject({
        message: expect.stringMatching(/larger than 102400 bytes/),
        extensions: { code: 'BAD_REQUEST' },
      });
    });

    it('answers malformed JSON with 400 and a JSON error', async () => {
      for (const body of [
        '{"query": "{ suppliers { totalCount } }"',
        '{query: 1}',
        'nul',
        '{"query": "\\x"}',
      ]) {
        const response = await post(body);
        expect({ body, status: response.status }).toEqual({ body, status: 400 });
        expect(response.json.errors[0].extensions.code).toBe('BAD_REQUEST');
      }
    });
  });

  describe('over WebSocket, subscription documents meet the same limits', () => {
    async function subscribeOnce(query: string, variables: Record<string, unknown> = {}) {
      const client = createClient({
        url: app.url.replace(/^http/, 'ws') + '/graphql',
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${app.adminToken}` },
        retryAttempts: 0,
      });
      try {
        return await new Promise<
          { kind: 'error'; errors: any[] } | { kind: 'next'; value: unknown } | { kind: 'complete' }
        >((resolve) => {
          const timer = setTimeout(() => resolve({ kind: 'complete' }), 1500);
          client.subscribe(
            { query, variables },
            {
              next: (value) => {
                clearTimeout(timer);
                resolve({ kind: 'next', value });
              },
              error: (error) => {
                clearTimeout(timer);
                resolve({ kind: 'error', errors: Array.isArray(error) ? error : [error] });
              },
              complete: () => {
                clearTimeout(timer);
                resolve({ kind: 'complete' });
              },
            },
          );
        });
      } finally {
        await client.dispose();
      }
    }

    it('rejects a too-deep subscription', async () => {
      const result = await subscribeOnce(
        `subscription { exposureAlerts { exposure { incident { supplier { ${nested(14)} } } } } }`,
      );
      expect(result.kind).toBe('error');
      const errors = (result as { errors: any[] }).errors;
      expect(errors[0].message).toMatch(/^Query depth limit of 15 exceeded/);
      expect(errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('a query or mutation over the socket meets the same limits: page size, one mutation field, depth', async () => {
      const socket = await openSocket(app.url, app.adminToken);
      try {
        const page = await socket.run('{ suppliers(first: 1000000) { totalCount } }');
        expect(page.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
          ['BAD_USER_INPUT', expect.stringMatching(/^`first` must be between 0 and 100/)],
        ]);
        const before = await databaseSnapshot(app.database.db);
        const two = await socket.run(
          `mutation { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } } createClient(input: { name: "Second", sector: OTHER }) { client { id } } }`,
        );
        expect(two.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
          [
            'GRAPHQL_VALIDATION_FAILED',
            expect.stringMatching(/only one mutation field; this one has 2 \(createSupplier, createClient\)/),
          ],
        ]);
        const deep = await socket.run(
          `mutation { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { ${nested(16)} } } }`,
        );
        expect(deep.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
          ['GRAPHQL_VALIDATION_FAILED', expect.stringMatching(/^Query depth limit of 15 exceeded/)],
        ]);
        expect(await databaseSnapshot(app.database.db)).toEqual(before);
      } finally {
        await socket.dispose();
      }
    });

    it('rejects an alias bomb and a token flood', async () => {
      const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ');
      const aliasResult = await subscribeOnce(`subscription { exposureAlerts { ${aliases} } }`);
      expect(aliasResult.kind).toBe('error');
      expect((aliasResult as { errors: any[] }).errors[0].message).toMatch(/aliases/i);
      expect((aliasResult as { errors: any[] }).errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

      const tokens = await subscribeOnce(
        `subscription { exposureAlerts { ${Array.from({ length: 3000 }, () => 'id').join(' ')} } }`,
      );
      expect(tokens.kind).toBe('error');
      expect((tokens as { errors: any[] }).errors[0].message).toMatch(/more th(?:an|at) 3000 tokens/i);
      expect((tokens as { errors: any[] }).errors[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    });

    it('rejects an over-cost subscription with QUERY_TOO_COMPLEX, also when the page size is a variable', async () => {
      const result = await subscribeOnce(
        `subscription { exposureAlerts { exposure { incident { supplier { ${OVER_COST_SELECTION} } } } } }`,
      );
      expect(result.kind).toBe('error');
      expect((result as { errors: any[] }).errors[0].extensions).toMatchObject({
        code: 'QUERY_TOO_COMPLEX',
        maxCost: 25000,
      });

      const withVariables = await subscribeOnce(
        `subscription($n: Int) { exposureAlerts { exposure { client { contracts(first: $n) { edges { node { supplier { contracts(first: $n) { edges { node { client { contracts(first: $n) { totalCount } } } } } } } } } } } } }`,
        { n: 100 },
      );
      expect((withVariables as { errors: any[] }).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    });

    it('answers variables that do not fit with BAD_USER_INPUT for that subscription, keeping the connection', async () => {
      const client = createClient({
        url: app.url.replace(/^http/, 'ws') + '/graphql',
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${app.adminToken}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
      });
      let closed: number | null = null;
      client.on('closed', (event) => {
        closed = (event as { code: number }).code;
      });
      try {
        const errors = await new Promise<any[]>((resolve, reject) => {
          client.subscribe(
            {
              query: 'subscription($after: ID) { exposureAlerts(after: $after) { id } }',
              variables: { after: { not: 'an id' } },
            },
            {
              next: () => reject(new Error('unexpected data')),
              error: (e) => resolve(Array.isArray(e) ? e : [e]),
              complete: () => reject(new Error('completed without an error')),
            },
          );
        });
        expect(errors[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(errors[0].message).toMatch(/\$after/);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(closed).toBeNull();
      } finally {
        await client.dispose();
      }
    });

    it('accepts a subscription within the limits (it stays open, no error)', async () => {
      const result = await subscribeOnce(
        `subscription { exposureAlerts { id kind exposure { score client { name } } } }`,
      );
      expect(result).toEqual({ kind: 'complete' });
    });
  });
});

describe('rate limit (RATE_LIMIT_PER_MINUTE = 3)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => app.stop());

  it('answers the 4th request of a subject within a minute with 429, RATE_LIMITED and retry-after', async () => {
    for (let i = 0; i < 3; i += 1) {
      const ok = await postGraphQL(app.url, app.analystToken, { query: '{ suppliers { totalCount } }' });
      expect(ok.status).toBe(200);
      expect(ok.json.errors).toBeUndefined();
    }
    const limited = await postGraphQL(app.url, app.analystToken, { query: '{ suppliers { totalCount } }' });
    expect(limited.status).toBe(429);
    expect(errorCodes(limited)).toEqual(['RATE_LIMITED']);
    expect(limited.json.data).toBeUndefined();
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json.errors[0].extensions.retryAfterSeconds).toBe(retryAfter);

    // The limit is per token subject: another subject is not affected.
    const other = await postGraphQL(app.url, app.adminToken, { query: '{ suppliers { totalCount } }' });
    expect(other.status).toBe(200);
  });

  it('a rate-limited mutation writes nothing', async () => {
    const token = await app.token('admin', { sub: 'rate-limited-admin' });
    for (let i = 0; i < 3; i += 1)
      expect((await postGraphQL(app.url, token, { query: '{ suppliers { totalCount } }' })).status).toBe(200);
    const before = await databaseSnapshot(app.database.db);
    const limited = await postGraphQL(app.url, token, {
      query: `mutation { createSupplier(input: ${SUPPLIER_INPUT}) { supplier { id } } }`,
    });
    expect(limited.status).toBe(429);
    expect(await databaseSnapshot(app.database.db)).toEqual(before);
  });
});

describe('introspection and field suggestions', () => {
  it('INTROSPECTION=false refuses __schema and __type queries', async () => {
    const app = await startTestApp({ INTROSPECTION: 'false' });
    try {
      for (const query of [
        '{ __schema { types { name } } }',
        '{ __type(name: "Supplier") { fields { name } } }',
      ]) {
        const response = await postGraphQL(app.url, app.adminToken, { query });
        expect(response.status).toBe(400);
        expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        expect(response.json.errors[0].message).toMatch(/introspection/i);
      }
      // __typename is not introspection and still works.
      expect(
        dataOf({
          status: 200,
          body: (await postGraphQL(app.url, app.adminToken, { query: '{ __typename }' })).json,
          sqlStatements: 0,
          headers: new Headers(),
        }),
      ).toEqual({ __typename: 'Query' });
    } finally {
      await app.stop();
    }
  });

  it('introspection is on by default outside production', async () => {
    const app = await startTestApp();
    try {
      const response = await postGraphQL(app.url, app.adminToken, {
        query: '{ __type(name: "Supplier") { name } }',
      });
      expect(response.json).toEqual({ data: { __type: { name: 'Supplier' } } });
      const typo = await postGraphQL(app.url, app.adminToken, { query: '{ supplier { totalCount } }' });
      expect(typo.json.errors[0].message).toMatch(/Did you mean "suppliers"/);
    } finally {
      await app.stop();
    }
  });

  it('production: no field suggestions and no introspection by default', async () => {
    const app = await startTestApp({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://configured-elsewhere/register',
    });
    try {
      const typo = await postGraphQL(app.url, app.adminToken, { query: '{ supplier { totalCount } }' });
      expect(typo.status).toBe(400);
      expect(errorCodes(typo)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(typo.text).not.toMatch(/did you mean/i);
      expect(typo.text).not.toMatch(/suppliers/);
      const typoInArgument = await postGraphQL(app.url, app.adminToken, {
        query: '{ suppliers(frist: 1) { totalCount } }',
      });
      expect(typoInArgument.status).toBe(400);
      expect(typoInArgument.text).not.toMatch(/did you mean/i);
      const introspection = await postGraphQL(app.url, app.adminToken, {
        query: '{ __schema { queryType { name } } }',
      });
      expect(introspection.status).toBe(400);
      expect(introspection.json.errors[0].message).toMatch(/introspection/i);

      // Enum values reveal the schema too: neither a literal nor a variable gets a suggestion.
      const enumLiteral = await postGraphQL(app.url, app.adminToken, {
        query: '{ suppliers(filter: { tier: STRATEGICAL }) { totalCount } }',
      });
      expect(enumLiteral.status).toBe(400);
      expect(enumLiteral.text).not.toMatch(/did you mean/i);
      expect(enumLiteral.text).not.toMatch(/"STRATEGIC"/);
      const enumVariable = await postGraphQL(app.url, app.adminToken, {
        query: 'query($tier: SupplierTier) { suppliers(filter: { tier: $tier }) { totalCount } }',
        variables: { tier: 'STRATEGICAL' },
      });
      expect(enumVariable.status).toBe(400);
      expect(errorCodes(enumVariable)).toEqual(['BAD_USER_INPUT']);
      expect(enumVariable.text).not.toMatch(/did you mean/i);
      expect(enumVariable.text).not.toMatch(/"STRATEGIC"/);

      // Over WebSocket as well.
      const ws = createClient({
        url: app.url.replace(/^http/, 'ws') + '/graphql',
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${app.adminToken}` },
        retryAttempts: 0,
      });
      try {
        const errors = await new Promise<any[]>((resolve, reject) => {
          ws.subscribe(
            { query: 'subscription { exposureAlert { id } }' },
            {
              next: () => reject(new Error('unexpected data')),
              error: (e) => resolve(Array.isArray(e) ? e : [e]),
              complete: () => reject(new Error('completed without an error')),
            },
          );
        });
        expect(errors[0].message).toMatch(/Cannot query field "exposureAlert"/);
        expect(errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(JSON.stringify(errors)).not.toMatch(/did you mean/i);
        expect(JSON.stringify(errors)).not.toMatch(/exposureAlerts/);
      } finally {
        await ws.dispose();
      }
    } finally {
      await app.stop();
    }
  });
});
