import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { mintToken } from '../../src/auth/jwt';
import { encodeGlobalId } from '../../src/common/global-id';
import { TEST_JWT_SECRET, TestApp, startTestApp } from '../support/app';
import { createAgreement, createClient, createContract, recordIncident } from '../support/factories';
import { WsAnswer, openSocket } from '../support/ws';
import { RawResponse, databaseSnapshot, postGraphQL, send } from './support';

/**
 * The bad-input corpus: malformed requests, hostile documents, impossible values, injection-looking text and
 * forged tokens, sent through real HTTP to a development-mode and a production-mode server on one database.
 * Each gets a clear answer (4xx, or 200 with GraphQL errors or userErrors), never a 5xx and never an internal
 * error; the server keeps serving; and the database is byte-for-byte what it was before the corpus.
 */

const INJECTION_NAME = "'; DROP TABLE supplier; --";
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

interface Target {
  url: string;
  adminToken: string;
  analystToken: string;
  ids: { supplier: string; client: string; contract: string };
}

/** What a case may legitimately answer besides an error: `userErrors` (a payload with userErrors), `data` (a harmless query). */
type Allowed = 'error' | 'userErrors' | 'data';
interface Case {
  name: string;
  allowed?: Allowed[];
  /** Node's HTTP parser answers some requests itself, without a body. */
  bodyless?: boolean;
  run(target: Target): Promise<RawResponse>;
}

const gql = (query: string, variables?: Record<string, unknown>) => (t: Target) =>
  postGraphQL(t.url, t.adminToken, { query, variables });
const raw =
  (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  (t: Target) =>
    send(`${t.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, ...headers },
      body,
    });
const withToken =
  (token: () => Promise<string> | string, header = (value: string) => `Bearer ${value}`) =>
  async (t: Target) =>
    send(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: header(await token()) },
      body: JSON.stringify({
        query: `mutation { createClient(input: { name: "Forged", sector: OTHER }) { client { id } } }`,
      }),
    });

const createSupplierMutation = `mutation($input: CreateSupplierInput!) { result: createSupplier(input: $input) { supplier { id name } userErrors { field code message } } }`;
const createContractMutation = `mutation($input: CreateContractInput!) { result: createContract(input: $input) { contract { id } userErrors { field code message } } }`;
const recordIncidentMutation = `mutation($input: RecordIncidentInput!) { result: recordIncident(input: $input) { incident { id } userErrors { field code message } } }`;
const supplierInput = (overrides: Record<string, unknown>) => ({
  name: 'Corpus Supplier',
  country: 'GB',
  tier: 'STANDARD',
  ...overrides,
});
const contractInput = (t: Target, overrides: Record<string, unknown>) => ({
  clientId: t.ids.client,
  supplierId: t.ids.supplier,
  reference: 'CORPUS-1',
  title: 'Corpus',
  startsOn: '2023-01-01',
  criticality: 'STANDARD',
  ...overrides,
});
const incidentInput = (t: Target, overrides: Record<string, unknown>) => ({
  supplierId: t.ids.supplier,
  title: 'Corpus incident',
  kind: 'CYBER_ATTACK',
  status: 'SUSPECTED',
  detectedAt: '2024-01-10T00:00:00Z',
  exfiltration: 'NONE_FOUND',
  ...overrides,
});

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

function corpus(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, run: Case['run'], allowed: Allowed[] = ['error'], extra: Partial<Case> = {}) =>
    cases.push({ name, run, allowed, ...extra });

  // Malformed JSON and odd bodies.
  for (const body of [
    '{"query": "{ __typename }"',
    '{query: "{ __typename }"}',
    "{'query': 1}",
    'nul',
    '{"query": "\\x"}',
    '\u0000\u0001',
    '{"a":1}{"b":2}',
    '{"query": "{ __typename }",}',
  ]) {
    add(`malformed JSON ${JSON.stringify(body)}`, raw(body));
  }
  for (const body of [
    '',
    'null',
    '123',
    '"text"',
    '{}',
    '[]',
    'true',
    '{"query": 1}',
    '{"query": null}',
    '{"query": ""}',
    '{"query": "   "}',
    '{"query": ["{ __typename }"]}',
    '{"query": "{ __typename }", "variables": "x"}',
    '{"query": "{ __typename }", "variables": [1]}',
    '{"query": "{ __typename }", "operationName": 7}',
    '{"query": "{ __typename }", "extensions": 5}',
  ]) {
    add(`odd body ${JSON.stringify(body)}`, raw(body));
  }
  add(
    'deeply nested JSON variables',
    raw(
      `{"query":"query($x: [String]) { suppliers(filter: { search: \\"x\\" }) { totalCount } }","variables":{"x":${'['.repeat(20000)}${']'.repeat(20000)}}}`,
    ),
  );

  // Wrong content types.
  for (const type of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/graphql',
    'application/json; charset=latin1',
    'image/png',
  ]) {
    add(
      `content-type ${type}`,
      raw(JSON.stringify({ query: '{ suppliers { totalCount } }' }), { 'content-type': type }),
    );
  }
  add(
    'unknown content-encoding',
    raw(JSON.stringify({ query: '{ suppliers { totalCount } }' }), {
      'content-type': 'application/json',
      'content-encoding': 'compress',
    }),
  );
  add(
    'gzip content-encoding over a plain body',
    raw(JSON.stringify({ query: '{ suppliers { totalCount } }' }), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    }),
  );
  add('no content-type', raw(JSON.stringify({ query: '{ suppliers { totalCount } }' }), {}));

  // Methods.
  const getUrl = (t: Target, query: string) => `${t.url}/graphql?query=${encodeURIComponent(query)}`;
  const mutation = 'mutation { createClient(input: { name: "Via GET", sector: OTHER }) { client { id } } }';
  add('GET with a mutation (preflight header)', (t) =>
    send(getUrl(t, mutation), {
      headers: { authorization: `Bearer ${t.adminToken}`, 'apollo-require-preflight': 'true' },
    }),
  );
  add('GET with a mutation (no preflight header)', (t) =>
    send(getUrl(t, mutation), { headers: { authorization: `Bearer ${t.adminToken}` } }),
  );
  add('GET with a mutation named as a query operation', (t) =>
    send(
      `${getUrl(t, `query Q { __typename } ${mutation.replace('mutation', 'mutation M')}`)}&operationName=M`,
      { headers: { authorization: `Bearer ${t.adminToken}`, 'apollo-require-preflight': 'true' } },
    ),
  );
  add('GET without a query', (t) =>
    send(`${t.url}/graphql`, {
      headers: { authorization: `Bearer ${t.adminToken}`, 'apollo-require-preflight': 'true' },
    }),
  );
  add('GET with malformed variables', (t) =>
    send(`${getUrl(t, '{ __typename }')}&variables=%7Bbad`, {
      headers: { authorization: `Bearer ${t.adminToken}`, 'apollo-require-preflight': 'true' },
    }),
  );
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    add(`${method} /graphql`, (t) =>
      send(`${t.url}/graphql`, {
        method,
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: mutation }),
      }),
    );
  }
  add('subscription over HTTP', gql('subscription { exposureAlerts { id } }'));

  // Huge input.
  add(
    '200 KB name (over the body limit)',
    gql(createSupplierMutation, { input: supplierInput({ name: 'N'.repeat(200 * 1024) }) }),
  );
  add(
    '90 KB name (under the body limit)',
    gql(createSupplierMutation, { input: supplierInput({ name: 'N'.repeat(90 * 1024) }) }),
    ['userErrors'],
  );
  add(
    '90 KB search string',
    gql('query($s: String) { suppliers(filter: { search: $s }) { totalCount } }', {
      s: 'S'.repeat(90 * 1024),
    }),
    ['error', 'data'],
  );
  add(
    '10,000 data categories',
    gql(recordIncidentMutation, {
      input: {
        ...{
          supplierId: 'x',
          title: 't',
          kind: 'OTHER',
          status: 'SUSPECTED',
          detectedAt: '2024-01-01T00:00:00Z',
          exfiltration: 'NONE_FOUND',
        },
        dataCategoriesAffected: Array(10000).fill('HEALTH'),
      },
    }),
    ['error', 'userErrors'],
  );
  add(
    'giant Authorization header',
    (t) =>
      send(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${'x'.repeat(64 * 1024)}` },
        body: '{"query":"{ __typename }"}',
      }),
    ['error'],
    { bodyless: true },
  );

  // Hostile documents.
  let deep = 'name';
  for (let i = 0; i < 200; i += 1) deep = `subprocessors { ${deep} }`;
  add('200 levels deep', gql(`{ suppliers { edges { node { ${deep} } } } }`));
  add(
    'wide: 2,900 repeated fields',
    gql(`{ suppliers(first: 1) { edges { node { ${Array(2900).fill('name').join(' ')} } } } }`),
    ['error', 'data'],
  );
  add('token flood', gql(`{ suppliers { edges { node { ${Array(5000).fill('name').join(' ')} } } } }`));
  add(
    'alias bomb',
    gql(
      `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: suppliers(first: 100) { totalCount }`).join(' ')} }`,
    ),
  );
  add(
    'alias bomb of mutations',
    gql(
      `mutation { ${Array.from({ length: 50 }, (_, i) => `a${i}: createClient(input: { name: "Bomb ${i}", sector: OTHER }) { client { id } }`).join(' ')} }`,
    ),
  );
  add('directive bomb', gql(`{ __typename ${Array(100).fill('@include(if: true)').join(' ')} }`));
  add(
    'fragment cycle',
    gql(
      `{ suppliers { edges { node { ...A } } } } fragment A on Supplier { name ...B } fragment B on Supplier { name ...A }`,
    ),
  );
  let fragments = '';
  for (let i = 0; i < 9; i += 1)
    fragments += `fragment F${i} on Supplier { name ${Array(5)
      .fill(`...F${i + 1}`)
      .join(' ')} } `;
  add(
    'fragment fan-out',
    gql(`{ suppliers { edges { node { ...F0 } } } } ${fragments} fragment F9 on Supplier { name }`),
  );
  add(
    'over-cost query',
    gql(
      `{ suppliers(first: 100) { edges { node { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } }`,
    ),
  );
  add('two anonymous operations', gql('{ __typename } { suppliers { totalCount } }'));
  add('unknown operationName', (t) =>
    postGraphQL(t.url, t.adminToken, { query: 'query A { __typename }', operationName: 'B' }),
  );
  add('only a fragment', gql('fragment F on Supplier { name }'));
  add('syntax error', gql('{ suppliers { totalCount '));
  add('unknown field', gql('{ suppliers { edges { node { password } } } }'));
  add('first: 101', gql('{ suppliers(first: 101) { totalCount } }'));
  add('first: -1', gql('{ suppliers(first: -1) { totalCount } }'));
  add('first: 2^31', gql('{ suppliers(first: 2147483648) { totalCount } }'));
  add(
    'first as a string variable',
    gql('query($n: Int) { suppliers(first: $n) { totalCount } }', { n: '10' }),
  );
  add('cursor that does not decode', gql(`{ suppliers(after: "${INJECTION_NAME}") { totalCount } }`));
  add(
    'cursor holding an injection',
    gql(`query($a: String) { suppliers(after: $a) { totalCount } }`, { a: b64url(["' OR 1=1 --"]) }),
  );
  add(
    'cursor of another shape',
    gql(`query($a: String) { suppliers(after: $a) { totalCount } }`, {
      a: b64url({ id: 1, __proto__: { admin: true } }),
    }),
  );
  add(
    'prototype pollution in variables',
    raw(
      '{"query":"query($f: SupplierFilter) { suppliers(filter: $f) { totalCount } }","variables":{"f":{"__proto__":{"search":"x"},"constructor":{"prototype":{"polluted":true}}}}}',
    ),
  );
  add('missing required variable', gql(createSupplierMutation));
  add('variable of the wrong type', gql(createSupplierMutation, { input: 'a supplier' }));
  add(
    'unknown input field',
    gql(createSupplierMutation, { input: supplierInput({ "name'); DROP TABLE supplier; --": 1 }) }),
  );

  // Impossible dates.
  for (const date of [
    '2023-02-30',
    '2023-02-29',
    '2023-13-01',
    '2023-00-10',
    'yesterday',
    '10000-01-01',
    '-0001-01-01',
    '2023-1-1',
    '',
  ]) {
    add(`Date ${JSON.stringify(date)} (variable)`, (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: createContractMutation,
        variables: { input: contractInput(t, { startsOn: date }) },
      }),
    );
  }
  add('Date 2023-02-30 (literal)', (t) =>
    postGraphQL(t.url, t.adminToken, {
      query: `mutation { createContract(input: { clientId: "${t.ids.client}", supplierId: "${t.ids.supplier}", reference: "R", title: "T", startsOn: "2023-02-30", criticality: STANDARD }) { contract { id } } }`,
    }),
  );
  for (const instant of [
    '2023-02-30T00:00:00Z',
    '2023-03-01T25:00:00Z',
    '2023-03-01T00:00:00',
    '2023-03-01T00:00:00+25:00',
    'now',
    '1e12',
    '275760-09-14T00:00:00Z',
  ]) {
    add(`DateTime ${JSON.stringify(instant)}`, (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: recordIncidentMutation,
        variables: { input: incidentInput(t, { detectedAt: instant }) },
      }),
    );
  }
  add(
    'contained before it started',
    (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: recordIncidentMutation,
        variables: {
          input: incidentInput(t, { startedAt: '2024-01-05T00:00:00Z', containedAt: '2024-01-01T00:00:00Z' }),
        },
      }),
    ['userErrors'],
  );
  add(
    'contract ending before it starts',
    (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: createContractMutation,
        variables: { input: contractInput(t, { startsOn: '2023-05-01', endsOn: '2023-04-01' }) },
      }),
    ['userErrors'],
  );

  // Bad LEIs and other text rules.
  for (const lei of [
    '7LTWFZYICNSX8D621K87',
    '7LTWFZYICNSX8D621K8',
    '7ltwfzyicnsx8d621k86',
    '7LTWFZYICNSX8D621K86 ',
    '7LTWFZYICNSX8D6-1K86',
    "' OR 1=1 --",
    '',
  ]) {
    add(`LEI ${JSON.stringify(lei)}`, gql(createSupplierMutation, { input: supplierInput({ lei }) }), [
      'userErrors',
    ]);
  }
  for (const country of ['gb', 'GBR', 'XX', ''])
    add(
      `country ${JSON.stringify(country)}`,
      gql(createSupplierMutation, { input: supplierInput({ country }) }),
      ['userErrors'],
    );
  add('blank name', gql(createSupplierMutation, { input: supplierInput({ name: '   ' }) }), ['userErrors']);
  add('NUL in a name', gql(createSupplierMutation, { input: supplierInput({ name: 'Nul\u0000Ltd' }) }));
  add('NUL in a literal', gql('{ suppliers(filter: { search: "a\\u0000b" }) { totalCount } }'));
  add(
    'NUL in a search variable',
    gql('query($s: String) { suppliers(filter: { search: $s }) { totalCount } }', { s: '\u0000' }),
  );
  add(
    'lone surrogate in a search',
    gql('query($s: String) { suppliers(filter: { search: $s }) { totalCount } }', { s: 'a\ud800b' }),
    ['error', 'data'],
  );
  add(
    'control and bidi characters in a search',
    gql('query($s: String) { suppliers(filter: { search: $s }) { totalCount } }', {
      s: '\u202e\u0007\u001b[31m%_\\',
    }),
    ['error', 'data'],
  );

  // Money.
  for (const amount of [
    '12.345',
    '-1',
    '-0.01',
    'abc',
    '1e5',
    '',
    ' 1.00',
    '01.00',
    '99999999999999999.00',
    'NaN',
    'Infinity',
    12.345,
    -1,
    true,
  ]) {
    add(
      `money amount ${JSON.stringify(amount)}`,
      (t) =>
        postGraphQL(t.url, t.adminToken, {
          query: createContractMutation,
          variables: { input: contractInput(t, { value: { amount, currency: 'GBP' } }) },
        }),
      ['error', 'userErrors'],
    );
  }
  for (const currency of ['gbp', 'GBPX', 'XXX1', '']) {
    add(
      `currency ${JSON.stringify(currency)}`,
      (t) =>
        postGraphQL(t.url, t.adminToken, {
          query: createContractMutation,
          variables: { input: contractInput(t, { value: { amount: '10.00', currency } }) },
        }),
      ['error', 'userErrors'],
    );
  }
  add('money amount as a literal 12.345', (t) =>
    postGraphQL(t.url, t.adminToken, {
      query: `mutation { createContract(input: { clientId: "${t.ids.client}", supplierId: "${t.ids.supplier}", reference: "R", title: "T", startsOn: "2023-01-01", criticality: STANDARD, value: { amount: 12.345, currency: "GBP" } }) { contract { id } } }`,
    }),
  );

  // Unknown enum values and out-of-range numbers.
  add(
    'unknown enum (literal)',
    gql('mutation { createSupplier(input: { name: "X", country: "GB", tier: MEGA }) { supplier { id } } }'),
  );
  add('unknown enum (variable)', gql(createSupplierMutation, { input: supplierInput({ tier: 'MEGA' }) }));
  add('enum in lower case', gql(createSupplierMutation, { input: supplierInput({ tier: 'standard' }) }));
  add(
    'enum as a string literal',
    gql(
      'mutation { createSupplier(input: { name: "X", country: "GB", tier: "STANDARD" }) { supplier { id } } }',
    ),
  );
  add('unknown data category', (t) =>
    postGraphQL(t.url, t.adminToken, {
      query: recordIncidentMutation,
      variables: { input: incidentInput(t, { dataCategoriesAffected: ['NOPE'] }) },
    }),
  );
  add('data subject count 2^31', (t) =>
    postGraphQL(t.url, t.adminToken, {
      query: `mutation($input: CreateDataProcessingAgreementInput!) { createDataProcessingAgreement(input: $input) { dataProcessingAgreement { id } userErrors { code } } }`,
      variables: {
        input: {
          contractId: t.ids.contract,
          reference: 'D',
          dataCategories: ['CONTACT'],
          dataSubjectCount: 2147483648,
          processingLocations: ['GB'],
        },
      },
    }),
  );
  add(
    'negative data subject count',
    (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: `mutation($input: CreateDataProcessingAgreementInput!) { result: createDataProcessingAgreement(input: $input) { dataProcessingAgreement { id } userErrors { field code message } } }`,
        variables: {
          input: {
            contractId: t.ids.contract,
            reference: 'D',
            dataCategories: ['CONTACT'],
            dataSubjectCount: -5,
            processingLocations: ['GB'],
          },
        },
      }),
    ['userErrors'],
  );

  // Injection-looking text in every kind of place.
  for (const text of [
    INJECTION_NAME,
    "' OR '1'='1",
    '1; select pg_sleep(5); --',
    "x' UNION select password from pg_shadow --",
    '%',
    '_',
    '\\',
    '$1',
    '$$; drop table client; $$',
  ]) {
    add(
      `search ${JSON.stringify(text)}`,
      gql(
        'query($s: String) { suppliers(filter: { search: $s }) { totalCount edges { node { name } } } clients(filter: { search: $s }) { totalCount } }',
        { s: text },
      ),
      ['data'],
    );
    add(`node(id: ${JSON.stringify(text)})`, gql('query($id: ID!) { node(id: $id) { id } }', { id: text }), [
      'data',
    ]);
    add(
      `audit filter ${JSON.stringify(text)}`,
      gql(
        'query($s: String, $id: ID) { auditEvents(filter: { actorSubject: $s, operation: $s, recordId: $id }) { totalCount } }',
        { s: text, id: text },
      ),
      ['data'],
    );
    add(
      `update with id ${JSON.stringify(text)}`,
      gql(
        `mutation($input: UpdateSupplierInput!) { result: updateSupplier(input: $input) { supplier { id } userErrors { field code message } } }`,
        { input: { id: text, name: 'Renamed' } },
      ),
      ['userErrors'],
    );
  }
  add('injection as operationName', (t) =>
    postGraphQL(t.url, t.adminToken, { query: 'query A { __typename }', operationName: INJECTION_NAME }),
  );
  add(
    'a Client id where a Supplier id is expected',
    (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: createContractMutation,
        variables: { input: contractInput(t, { supplierId: t.ids.client }) },
      }),
    ['userErrors'],
  );
  add(
    'well-formed ids naming nothing',
    (t) =>
      postGraphQL(t.url, t.adminToken, {
        query: createContractMutation,
        variables: { input: contractInput(t, { clientId: encodeGlobalId('Client', UNKNOWN_UUID) }) },
      }),
    ['userErrors'],
  );

  // Forged, malformed and expired tokens: 401 and nothing written.
  add('no token', (t) => postGraphQL(t.url, null, { query: mutation }));
  add(
    'token signed with another secret',
    withToken(() =>
      mintToken('another-secret-that-is-also-long-enough-123', { sub: 'mallory', role: 'admin' }),
    ),
  );
  add(
    'alg none',
    withToken(
      () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'mallory', role: 'admin', exp: inAnHour() })}.`,
    ),
  );
  add(
    'alg none with a signature',
    withToken(
      () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'mallory', role: 'admin', exp: inAnHour() })}.c2ln`,
    ),
  );
  add(
    'HS512 with the right secret',
    withToken(() =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS512' })
        .setSubject('mallory')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ),
  );
  add(
    'payload swapped under a valid signature',
    withToken(async () => {
      const [header, , signature] = (
        await mintToken(TEST_JWT_SECRET, { sub: 'analyst', role: 'analyst' })
      ).split('.');
      return `${header}.${b64url({ sub: 'analyst', role: 'admin', exp: inAnHour() })}.${signature}`;
    }),
  );
  add(
    'garbage token',
    withToken(() => 'garbage'),
  );
  add(
    'three empty segments',
    withToken(() => '..'),
  );
  add(
    'JSON as a token',
    withToken(() => '{"role":"admin"}'),
  );
  add(
    'Bearer with nothing',
    withToken(
      () => '',
      () => 'Bearer ',
    ),
  );
  add(
    'Bearer with two tokens',
    withToken(
      async () => mintToken(TEST_JWT_SECRET, { sub: 'a', role: 'admin' }),
      (v) => `Bearer ${v} ${v}`,
    ),
  );
  add(
    'Basic credentials',
    withToken(
      () => 'admin:admin',
      (v) => `Basic ${Buffer.from(v).toString('base64')}`,
    ),
  );
  add(
    'expired token',
    withToken(() => mintToken(TEST_JWT_SECRET, { sub: 'late', role: 'admin' }, '-1m')),
  );
  add(
    'token without exp',
    withToken(() =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('forever')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ),
  );
  add(
    'token without sub',
    withToken(() =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ),
  );
  add(
    'token with an unknown role',
    withToken(() =>
      new SignJWT({ role: 'superuser' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('x')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ),
  );
  add(
    'client token without client_id',
    withToken(() => mintToken(TEST_JWT_SECRET, { sub: 'c', role: 'client' })),
  );
  add(
    'client token with a malformed client_id',
    withToken(() => mintToken(TEST_JWT_SECRET, { sub: 'c', role: 'client', client_id: INJECTION_NAME })),
  );
  add(
    'token not yet valid',
    withToken(() =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('early')
        .setNotBefore('1h')
        .setExpirationTime('2h')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ),
  );
  add('analyst writing what only an admin may', (t) =>
    postGraphQL(t.url, t.analystToken, { query: mutation }),
  );

  add('x-request-id with markup', (t) =>
    postGraphQL(t.url, t.adminToken, { query: '{ nope }' }, { 'x-request-id': '<script>alert(1)</script>' }),
  );
  return cases;
}

/**
 * The corpus over WebSocket (graphql-transport-ws): hostile documents and impossible values as operations on an
 * open socket, forged tokens at connection, and protocol abuse. An operation is answered with errors (or
 * userErrors), a refused connection or a broken protocol with a 44xx close; never an internal error.
 */
interface WsCase {
  name: string;
  allowed: ('error' | 'userErrors' | 'closed')[];
  run(target: Target): Promise<WsAnswer>;
}

/** One operation on a fresh socket of the admin (or another token). */
const overSocket =
  (
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
    token?: (t: Target) => string,
  ) =>
  async (t: Target): Promise<WsAnswer> => {
    const socket = await openSocket(t.url, token ? token(t) : t.adminToken);
    try {
      return await socket.run(query, variables, operationName);
    } finally {
      await socket.dispose();
    }
  };

/** Opens a raw socket, sends `messages` as they are, and reports how the server closed it. */
const rawSocket =
  (messages: string[], options: { token?: boolean } = { token: true }) =>
  (t: Target): Promise<WsAnswer> =>
    new Promise((resolve) => {
      const socket = new WebSocket(`${t.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
      const timer = setTimeout(() => socket.terminate(), 3000);
      socket.on('open', () => {
        if (options.token)
          socket.send(
            JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminToken}` } }),
          );
        for (const message of messages) socket.send(message);
      });
      socket.on('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ closed: { code, reason: reason.toString() } });
      });
    });

/** Connects with a forged or broken token: the connection itself must be refused. */
const connectWith =
  (token: () => Promise<string> | string) =>
  async (t: Target): Promise<WsAnswer> => {
    const socket = await openSocket(t.url, await token());
    try {
      if (socket.closed) return { closed: socket.closed };
      const answer = await socket.run(
        'mutation { createClient(input: { name: "Forged over WS", sector: OTHER }) { client { id } } }',
      );
      return answer.closed ? answer : { ...answer, closed: socket.closed ?? undefined };
    } finally {
      await socket.dispose();
    }
  };

function webSocketCorpus(): WsCase[] {
  const cases: WsCase[] = [];
  const add = (name: string, run: WsCase['run'], allowed: WsCase['allowed'] = ['error']) =>
    cases.push({ name, run, allowed });
  let deep = 'name';
  for (let i = 0; i < 200; i += 1) deep = `subprocessors { ${deep} }`;
  add('syntax error', overSocket('{ suppliers { totalCount '));
  add('unknown field', overSocket('{ suppliers { edges { node { password } } } }'));
  add('200 levels deep', overSocket(`{ suppliers { edges { node { ${deep} } } } }`));
  add(
    'token flood',
    overSocket(`{ suppliers { edges { node { ${Array(5000).fill('name').join(' ')} } } } }`),
  );
  add(
    'alias bomb',
    overSocket(
      `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: suppliers(first: 100) { totalCount }`).join(' ')} }`,
    ),
  );
  add(
    'alias bomb of mutations',
    overSocket(
      `mutation { ${Array.from({ length: 50 }, (_, i) => `a${i}: createClient(input: { name: "Bomb ${i}", sector: OTHER }) { client { id } }`).join(' ')} }`,
    ),
  );
  add(
    'two mutation fields',
    overSocket(
      'mutation { createClient(input: { name: "One", sector: OTHER }) { client { id } } createSupplier(input: { name: "Two", country: "GB", tier: STANDARD }) { supplier { id } } }',
    ),
  );
  add('directive bomb', overSocket(`{ __typename ${Array(100).fill('@include(if: true)').join(' ')} }`));
  add(
    'fragment cycle',
    overSocket(
      '{ suppliers { edges { node { ...A } } } } fragment A on Supplier { name ...B } fragment B on Supplier { name ...A }',
    ),
  );
  add(
    'over-cost query',
    overSocket(
      '{ suppliers(first: 100) { edges { node { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } }',
    ),
  );
  add('first: 1000000', overSocket('{ suppliers(first: 1000000) { totalCount } }'));
  add('first: -1', overSocket('{ suppliers(first: -1) { totalCount } }'));
  add('two anonymous operations', overSocket('{ __typename } { suppliers { totalCount } }'));
  add('unknown operationName', overSocket('query A { __typename }', undefined, 'B'));
  add('injection as operationName', overSocket('query A { __typename }', undefined, INJECTION_NAME));
  add('only a fragment', overSocket('fragment F on Supplier { name }'));
  add('missing required variable', overSocket(createSupplierMutation));
  add('variable of the wrong type', overSocket(createSupplierMutation, { input: 'a supplier' }));
  add(
    'unknown input field',
    overSocket(createSupplierMutation, { input: supplierInput({ "name'); DROP TABLE supplier; --": 1 }) }),
  );
  add(
    'NUL in a variable',
    overSocket(createSupplierMutation, { input: supplierInput({ name: 'Nul\u0000Ltd' }) }),
  );
  add('NUL in a literal', overSocket('{ suppliers(filter: { search: "a\\u0000b" }) { totalCount } }'));
  add('cursor that does not decode', overSocket(`{ suppliers(after: "${INJECTION_NAME}") { totalCount } }`));
  add('Date 2023-02-30', (t) =>
    overSocket(createContractMutation, { input: contractInput(t, { startsOn: '2023-02-30' }) })(t),
  );
  add(
    'LEI with a bad check digit',
    overSocket(createSupplierMutation, { input: supplierInput({ lei: '7LTWFZYICNSX8D621K87' }) }),
    ['userErrors'],
  );
  add(
    'analyst writing what only an admin may',
    overSocket(
      'mutation { createClient(input: { name: "Analyst", sector: OTHER }) { client { id } } }',
      undefined,
      undefined,
      (t) => t.analystToken,
    ),
  );
  add(
    'subscription with an id that is not one',
    overSocket('subscription($after: ID) { exposureAlerts(after: $after) { id } }', {
      after: { not: 'an id' },
    }),
  );
  add(
    'over-cost subscription',
    overSocket(
      'subscription { exposureAlerts { exposure { client { contracts(first: 100) { edges { node { supplier { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } } } } } }',
    ),
  );
  add('subscription to an unknown field', overSocket('subscription { exposureAlert { id } }'));
  add(
    'two subscription fields',
    overSocket('subscription { a: exposureAlerts { id } b: exposureAlerts { id } }'),
  );

  // Forged and broken tokens: the connection is refused (4401 without a token, 4403 otherwise), nothing runs.
  add(
    'no token',
    connectWith(() => ''),
    ['closed'],
  );
  add(
    'garbage token',
    connectWith(() => 'garbage'),
    ['closed'],
  );
  add(
    'expired token',
    connectWith(() => mintToken(TEST_JWT_SECRET, { sub: 'late', role: 'admin' }, '-1m')),
    ['closed'],
  );
  add(
    'token signed with another secret',
    connectWith(() =>
      mintToken('another-secret-that-is-also-long-enough-123', { sub: 'mallory', role: 'admin' }),
    ),
    ['closed'],
  );
  add(
    'alg none',
    connectWith(
      () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'mallory', role: 'admin', exp: inAnHour() })}.`,
    ),
    ['closed'],
  );
  add(
    'client token without client_id',
    connectWith(() => mintToken(TEST_JWT_SECRET, { sub: 'c', role: 'client' })),
    ['closed'],
  );

  // Protocol abuse: graphql-ws closes with a 44xx code saying what was wrong.
  add('a message that is not JSON', rawSocket(['{not json']), ['closed']);
  add(
    'subscribe before connection_init',
    rawSocket([JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } })], {
      token: false,
    }),
    ['closed'],
  );
  add(
    'subscribe with a query that is not a string',
    rawSocket([JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 42 } })]),
    ['closed'],
  );
  add('two connection_init messages', rawSocket([JSON.stringify({ type: 'connection_init', payload: {} })]), [
    'closed',
  ]);
  return cases;
}

describe('bad-input corpus', () => {
  let app: TestApp;
  let production: TestApp;
  let ids: Target['ids'];
  let before: Awaited<ReturnType<typeof databaseSnapshot>>;

  beforeAll(async () => {
    app = await startTestApp();
    production = await startTestApp(
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://configured-elsewhere/register' },
      { database: app.database },
    );

    // The injection-looking name is created deliberately, before the snapshot: stored verbatim, never executed.
    const created = await postGraphQL(app.url, app.adminToken, {
      query: createSupplierMutation,
      variables: { input: supplierInput({ name: INJECTION_NAME }) },
    });
    expect(created.json.data.result.userErrors).toEqual([]);
    expect(created.json.data.result.supplier.name).toBe(INJECTION_NAME);
    const supplierId = created.json.data.result.supplier.id;
    const stored = await app.database.db.query(`SELECT name FROM supplier WHERE name = $1`, [INJECTION_NAME]);
    expect(stored).toEqual([{ name: INJECTION_NAME }]);
    const found = await postGraphQL(app.url, app.analystToken, {
      query: 'query($s: String) { suppliers(filter: { search: $s }) { edges { node { id name } } } }',
      variables: { s: 'DROP TABLE' },
    });
    expect(found.json.data.suppliers.edges).toEqual([{ node: { id: supplierId, name: INJECTION_NAME } }]);

    // A small register around it, so the snapshot covers every table.
    const client = await createClient(app.services, { name: 'Corpus Council' });
    const contract = await createContract(
      app.services,
      client.id,
      (await app.database.db.query(`SELECT id FROM supplier WHERE name = $1`, [INJECTION_NAME]))[0].id,
    );
    await createAgreement(app.services, contract.id);
    await recordIncident(
      app.services,
      (await app.database.db.query(`SELECT id FROM supplier WHERE name = $1`, [INJECTION_NAME]))[0].id,
    );
    ids = {
      supplier: supplierId,
      client: encodeGlobalId('Client', client.id),
      contract: encodeGlobalId('Contract', contract.id),
    };

    before = await databaseSnapshot(app.database.db);
    for (const table of [
      'supplier',
      'client',
      'contract',
      'data_processing_agreement',
      'incident',
      'exposure',
      'exposure_revision',
      'exposure_alert',
      'audit_event',
    ]) {
      expect({ table, rows: before[table]?.rows > 0 }).toEqual({ table, rows: true });
    }
  });

  afterAll(async () => {
    await production?.stop();
    await app?.stop();
  });

  /** Runs the whole corpus against one server and checks each answer; returns the answers for further checks. */
  async function runCorpus(target: Target): Promise<{ name: string; response: RawResponse }[]> {
    const answers: { name: string; response: RawResponse }[] = [];
    for (const testCase of corpus()) {
      const started = Date.now();
      let response: RawResponse;
      try {
        response = await testCase.run(target);
      } catch (error) {
        throw new Error(`${testCase.name}: the request failed (${String(error)})`, { cause: error });
      }
      const elapsed = Date.now() - started;
      const summary = { name: testCase.name, status: response.status, body: response.text.slice(0, 300) };
      const errors: { message: string; extensions?: Record<string, unknown> }[] = response.json?.errors ?? [];

      expect({ ...summary, serverError: response.status >= 500 }).toEqual({ ...summary, serverError: false });
      expect({ ...summary, slow: elapsed > 4000 }).toEqual({ ...summary, slow: false });
      if (testCase.bodyless) {
        expect(response.status).toBeGreaterThanOrEqual(400);
        answers.push({ name: testCase.name, response });
        continue;
      }
      expect({
        ...summary,
        json: response.json !== undefined && /json/.test(response.headers.get('content-type') ?? ''),
      }).toEqual({ ...summary, json: true });
      // Clear errors: each has a message and a code, none is an internal error, each carries the request id.
      const requestId = response.headers.get('x-request-id');
      expect({ ...summary, requestId }).toEqual({
        ...summary,
        requestId: expect.stringMatching(/^[\w-]{1,64}$/),
      });
      for (const error of errors) {
        expect({
          ...summary,
          message: typeof error.message === 'string' && error.message.length > 0,
        }).toEqual({ ...summary, message: true });
        expect({ ...summary, code: error.extensions?.code }).toEqual({
          ...summary,
          code: expect.stringMatching(/^[A-Z_]+$/),
        });
        expect({ ...summary, code: error.extensions?.code }).not.toEqual({
          ...summary,
          code: 'INTERNAL_SERVER_ERROR',
        });
        expect({ ...summary, message: error.message }).not.toEqual({
          ...summary,
          message: expect.stringMatching(/internal server error/i),
        });
        expect({ ...summary, requestId: error.extensions?.requestId }).toEqual({ ...summary, requestId });
      }

      const payload = response.json?.data?.result;
      const kind: Allowed = errors.length ? 'error' : payload?.userErrors?.length ? 'userErrors' : 'data';
      if (response.status >= 400)
        expect({ ...summary, errors: errors.length > 0 }).toEqual({ ...summary, errors: true });
      const allowed = testCase.allowed ?? ['error'];
      expect({
        ...summary,
        kind: allowed.includes(kind) ? 'allowed' : `${kind}, expected one of ${allowed.join(', ')}`,
      }).toEqual({ ...summary, kind: 'allowed' });
      if (kind === 'userErrors') {
        for (const userError of payload.userErrors)
          expect({ ...summary, userError }).toEqual({
            ...summary,
            userError: {
              field: expect.any(Array),
              code: expect.stringMatching(/^[A-Z_]+$/),
              message: expect.stringMatching(/\S/),
            },
          });
      }
      answers.push({ name: testCase.name, response });
    }
    return answers;
  }

  it('development mode: every case answers clearly, the server keeps serving, nothing is written', async () => {
    const answers = await runCorpus({
      url: app.url,
      adminToken: app.adminToken,
      analystToken: app.analystToken,
      ids,
    });
    expect(answers.length).toBeGreaterThan(150);
    expect(await databaseSnapshot(app.database.db)).toEqual(before);
    // Still serving.
    expect((await send(`${app.url}/healthz`)).status).toBe(200);
    const after = await postGraphQL(app.url, app.analystToken, { query: '{ suppliers { totalCount } }' });
    expect(after.json).toEqual({ data: { suppliers: { totalCount: before.supplier.rows } } });
    const [{ exists }] = await app.database.db.query(
      `SELECT to_regclass('public.supplier') IS NOT NULL AS exists`,
    );
    expect(exists).toBe(true);
  });

  /** Runs the WebSocket corpus against one server and checks each answer; returns the answers' text. */
  async function runWebSocketCorpus(target: Target): Promise<{ name: string; text: string }[]> {
    const answers: { name: string; text: string }[] = [];
    for (const testCase of webSocketCorpus()) {
      let answer: WsAnswer;
      try {
        answer = await testCase.run(target);
      } catch (error) {
        throw new Error(`${testCase.name}: the exchange failed (${String(error)})`, { cause: error });
      }
      const text = JSON.stringify(answer);
      const summary = { name: testCase.name, answer: text.slice(0, 300) };
      const kind = answer.closed
        ? 'closed'
        : answer.errors?.length
          ? 'error'
          : (answer.data as any)?.result?.userErrors?.length
            ? 'userErrors'
            : 'data';
      expect({
        ...summary,
        kind: testCase.allowed.includes(kind as never)
          ? 'allowed'
          : `${kind}, expected one of ${testCase.allowed.join(', ')}`,
      }).toEqual({ ...summary, kind: 'allowed' });
      if (answer.closed)
        expect({ ...summary, closeCode: answer.closed.code >= 4400 && answer.closed.code < 4500 }).toEqual({
          ...summary,
          closeCode: true,
        });
      for (const error of answer.errors ?? []) {
        expect({ ...summary, code: error.extensions?.code }).toEqual({
          ...summary,
          code: expect.stringMatching(/^[A-Z_]+$/),
        });
        expect({ ...summary, code: error.extensions?.code }).not.toEqual({
          ...summary,
          code: 'INTERNAL_SERVER_ERROR',
        });
        expect({
          ...summary,
          message: typeof error.message === 'string' && error.message.length > 0,
        }).toEqual({ ...summary, message: true });
        expect({ ...summary, requestId: error.extensions?.requestId }).toEqual({
          ...summary,
          requestId: expect.stringMatching(/^[\w-]{1,64}$/),
        });
      }
      answers.push({ name: testCase.name, text });
    }
    // Still serving, over the socket.
    const socket = await openSocket(target.url, target.analystToken);
    try {
      expect(await socket.run('{ suppliers { totalCount } }')).toEqual({
        data: { suppliers: { totalCount: before.supplier.rows } },
      });
    } finally {
      await socket.dispose();
    }
    return answers;
  }

  it('over WebSocket, development mode: every case answers clearly, nothing is written', async () => {
    const answers = await runWebSocketCorpus({
      url: app.url,
      adminToken: app.adminToken,
      analystToken: app.analystToken,
      ids,
    });
    expect(answers.length).toBeGreaterThan(35);
    expect(await databaseSnapshot(app.database.db)).toEqual(before);
  });

  it('over WebSocket, production mode: the same, and nothing about the internals', async () => {
    const answers = await runWebSocketCorpus({
      url: production.url,
      adminToken: production.adminToken,
      analystToken: production.analystToken,
      ids,
    });
    for (const { name, text } of answers) {
      const leaks = [
        'stack',
        'QueryFailedError',
        'SELECT ',
        'node_modules',
        '/work/',
        '/src/',
        '.ts:',
        '.js:',
        '    at ',
      ].filter((needle) => text.includes(needle));
      expect({ name, leaks }).toEqual({ name, leaks: [] });
      expect({ name, suggestion: /did you mean/i.test(text) }).toEqual({ name, suggestion: false });
    }
    expect(await databaseSnapshot(app.database.db)).toEqual(before);
  });

  it('production mode: the same answers, and nothing about the internals in any of them', async () => {
    const answers = await runCorpus({
      url: production.url,
      adminToken: production.adminToken,
      analystToken: production.analystToken,
      ids,
    });
    for (const { name, response } of answers) {
      const leaks = [
        'stack',
        'QueryFailedError',
        'SELECT ',
        'node_modules',
        '/work/',
        '/src/',
        '.ts:',
        '.js:',
        '    at ',
      ].filter((needle) => response.text.includes(needle));
      expect({ name, leaks }).toEqual({ name, leaks: [] });
      expect({ name, suggestion: /did you mean/i.test(response.text) }).toEqual({ name, suggestion: false });
    }
    expect(await databaseSnapshot(app.database.db)).toEqual(before);
    expect((await send(`${production.url}/readyz`)).status).toBe(200);
  });
});
