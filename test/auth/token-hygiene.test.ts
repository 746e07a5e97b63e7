import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config';
import { encodeGlobalId } from '../../src/common/global-id';
import { KNOWN_CLIENT_TTL_MS } from '../../src/auth/known-clients';
import { main as tokenScript } from '../../src/scripts/token';
import { TEST_JWT_SECRET, TestApp, dataOf, startTestApp } from '../support/app';
import { createClient } from '../support/factories';

const HOUR = 3600;
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token with exactly these claims (no defaults), signed with the test secret. */
function sign(claims: Record<string, unknown>, secret = TEST_JWT_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

const QUERY = '{ suppliers { totalCount } }';

/** Opens a graphql-transport-ws connection with this token: did the server acknowledge it, and how did it close? */
async function connectOverWebSocket(
  baseUrl: string,
  token: string,
): Promise<{ acked: boolean; closeCode: number; reason: string }> {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  let acked = false;
  socket.on('open', () =>
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
  );
  socket.on('message', (data) => {
    if (JSON.parse(String(data)).type === 'connection_ack') {
      acked = true;
      socket.close(1000);
    }
  });
  return new Promise((resolve) =>
    socket.on('close', (closeCode, reason) => resolve({ acked, closeCode, reason: String(reason) })),
  );
}

describe('token hygiene', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  async function refusal(token: string) {
    const response = await app.gql(token, QUERY);
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    return response.body.errors![0].message;
  }

  it('refuses a token that lives longer than JWT_MAX_LIFETIME (24 h by default), counted from iat or, without one, from now', async () => {
    expect(
      await refusal(
        await sign({ sub: 'century', role: 'admin', iat: now(), exp: now() + 100 * 365 * 24 * HOUR }),
      ),
    ).toBe(
      'The token lives longer than this API accepts (at most 24 h from iat to exp, JWT_MAX_LIFETIME): ask for a shorter-lived token',
    );
    expect(await refusal(await sign({ sub: 'no-iat', role: 'admin', exp: now() + 25 * HOUR }))).toMatch(
      /lives longer than this API accepts/,
    );
    // Minted 30 days long a week ago: still 23 days to go, which is no better.
    expect(
      await refusal(
        await sign({ sub: 'old', role: 'admin', iat: now() - 7 * 24 * HOUR, exp: now() + 23 * 24 * HOUR }),
      ),
    ).toMatch(/lives longer/);
    // Exactly the maximum is fine.
    expect(
      (await app.gql(await sign({ sub: 'day', role: 'admin', iat: now(), exp: now() + 24 * HOUR }), QUERY))
        .status,
    ).toBe(200);
    expect(
      (await app.gql(await sign({ sub: 'day-no-iat', role: 'admin', exp: now() + 23 * HOUR }), QUERY)).status,
    ).toBe(200);
  });

  it('JWT_MAX_LIFETIME sets the maximum', async () => {
    const relaxed = await startTestApp({ JWT_MAX_LIFETIME: '7d' });
    try {
      const weekLong = await sign({ sub: 'week', role: 'admin', iat: now(), exp: now() + 7 * 24 * HOUR });
      expect((await relaxed.gql(weekLong, QUERY)).status).toBe(200);
      expect((await app.gql(weekLong, QUERY)).status).toBe(401);
    } finally {
      await relaxed.stop();
    }
    expect(loadConfig({ JWT_MAX_LIFETIME: '90m' }).jwtMaxLifetimeSeconds).toBe(5400);
    expect(loadConfig({ JWT_MAX_LIFETIME: '3600' }).jwtMaxLifetimeSeconds).toBe(3600);
    expect(() => loadConfig({ JWT_MAX_LIFETIME: 'forever' })).toThrow(
      'JWT_MAX_LIFETIME must be a duration from 60 s to 366 days such as 30m, 12h or 7d, got "forever"',
    );
  });

  it('refuses a token issued in the future, beyond a minute of clock skew', async () => {
    expect(
      await refusal(await sign({ sub: 'early', role: 'admin', iat: now() + 600, exp: now() + 2 * HOUR })),
    ).toMatch(/^The token's iat \(issued at\) is (599|600) s in the future: check the issuer's clock$/);
    expect(
      (
        await app.gql(
          await sign({ sub: 'skewed', role: 'admin', iat: now() + 30, exp: now() + 2 * HOUR }),
          QUERY,
        )
      ).status,
    ).toBe(200);
  });

  it('refuses a sub that is not a non-empty string', async () => {
    for (const sub of [42, true, { id: 'x' }, ['a'], '', '   ']) {
      expect({
        sub,
        message: await refusal(await sign({ sub, role: 'admin', iat: now(), exp: now() + HOUR })),
      }).toEqual({ sub, message: "The token's sub claim must be a non-empty string" });
    }
  });

  it('refuses a client token whose client never existed, over HTTP (401) and WebSocket (4403, no ack)', async () => {
    const token = await sign({
      sub: 'ghost',
      role: 'client',
      client_id: encodeGlobalId('Client', '00000000-0000-4000-8000-000000000000'),
      iat: now(),
      exp: now() + HOUR,
    });
    expect(await refusal(token)).toBe(
      "The token's client_id names no client of this register (it was removed, or never existed)",
    );
    expect(await connectOverWebSocket(app.url, token)).toMatchObject({ acked: false, closeCode: 4403 });
  });

  it('refuses a client token once its client is removed (within a few seconds for a client this instance has just seen)', async () => {
    const unseen = await createClient(app.services, { name: 'Removed Before Use' });
    const unseenToken = await app.clientToken(unseen.id);
    await app.services.client.remove(
      { subject: 'test', role: 'admin', clientId: null },
      { id: encodeGlobalId('Client', unseen.id) },
    );
    expect(await refusal(unseenToken)).toMatch(/names no client of this register/);

    const seen = await createClient(app.services, { name: 'Removed After Use' });
    const seenToken = await app.clientToken(seen.id);
    expect(dataOf(await app.gql(seenToken, '{ clients { edges { node { name } } } }')).clients.edges).toEqual(
      [{ node: { name: 'Removed After Use' } }],
    );
    expect(await connectOverWebSocket(app.url, seenToken)).toMatchObject({ acked: true });
    await app.services.client.remove(
      { subject: 'test', role: 'admin', clientId: null },
      { id: encodeGlobalId('Client', seen.id) },
    );
    const removedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - removedAt < KNOWN_CLIENT_TTL_MS + 2000) {
      status = (await app.gql(seenToken, QUERY)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(401);
    expect(Date.now() - removedAt).toBeLessThan(KNOWN_CLIENT_TTL_MS + 1000);
    expect(await connectOverWebSocket(app.url, seenToken)).toMatchObject({ acked: false, closeCode: 4403 });
  });

  it('an existing client keeps working, and its token costs the request no counted statement', async () => {
    const client = await createClient(app.services, { name: 'Still Here' });
    const token = await app.clientToken(client.id);
    const first = await app.gql(token, '{ __typename }');
    expect(first.status).toBe(200);
    expect(first.sqlStatements).toBe(0);
  });
});

describe('JWKS over plain HTTP', () => {
  it('is a configuration error in production, and allowed in development (a local identity provider)', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://api@db/register' };
    expect(() =>
      loadConfig({ ...production, JWT_JWKS_URL: 'http://idp.example/.well-known/jwks.json' }),
    ).toThrow(
      'JWT_JWKS_URL must be an https:// URL in production (got http://): the key set decides which tokens are genuine',
    );
    expect(
      loadConfig({ ...production, JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }).jwtJwksUrl,
    ).toBe('https://idp.example/.well-known/jwks.json');
    expect(loadConfig({ JWT_JWKS_URL: 'http://localhost:8080/jwks.json' }).jwtJwksUrl).toBe(
      'http://localhost:8080/jwks.json',
    );
  });
});

describe('npm run token and the maximum lifetime', () => {
  async function run(argv: string[], env: NodeJS.ProcessEnv) {
    let stdout = '';
    let stderr = '';
    const code = await tokenScript(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  it('refuses to mint a token the API would refuse, and follows JWT_MAX_LIFETIME', async () => {
    const refused = await run(['--role', 'admin', '--expires', '30d'], { JWT_SECRET: TEST_JWT_SECRET });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /--expires 30d is longer than the API accepts: tokens may live at most 24 h \(JWT_MAX_LIFETIME\)/,
    );
    const allowed = await run(['--role', 'admin', '--expires', '30d'], {
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_MAX_LIFETIME: '31d',
    });
    expect(allowed.code).toBe(0);
    const claims = JSON.parse(Buffer.from(allowed.stdout.trim().split('.')[1], 'base64url').toString('utf8'));
    expect(claims.exp - claims.iat).toBe(30 * 24 * HOUR);
  });
});
