import { createTokenVerifier } from '../../src/auth/jwt';
import { DEVELOPMENT_JWT_SECRET } from '../../src/config';
import { encodeGlobalId } from '../../src/common/global-id';
import { main } from '../../src/scripts/token';
import { TEST_JWT_SECRET, TestApp, dataOf, startTestApp } from '../support/app';
import { createClient } from '../support/factories';

/** Runs the script's main() as the CLI would, capturing what it prints. */
async function runTokenScript(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('npm run token', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('prints a client token that the API accepts, scoped to that client', async () => {
    const mine = await createClient(app.services, { name: 'Token Council' });
    await createClient(app.services, { name: 'Someone Else' });
    const clientId = encodeGlobalId('Client', mine.id);

    const run = await runTokenScript(
      ['--role', 'client', '--client', clientId, '--sub', 'jane', '--expires', '1h'],
      { JWT_SECRET: TEST_JWT_SECRET },
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const token = run.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(run.stdout).toBe(`${token}\n`); // nothing but the token, so $(npm run --silent token …) captures it

    const seen = dataOf(await app.gql(token, `{ clients { totalCount edges { node { id name } } } }`));
    expect(seen.clients).toEqual({
      totalCount: 1,
      edges: [{ node: { id: clientId, name: 'Token Council' } }],
    });

    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'jane', role: 'client', client_id: clientId });
    expect(claims.exp - claims.iat).toBe(3600);
  });

  it('prints admin and analyst tokens that the API accepts', async () => {
    for (const role of ['admin', 'analyst']) {
      const run = await runTokenScript(['--role', role], { JWT_SECRET: TEST_JWT_SECRET });
      expect(run.code).toBe(0);
      const response = await app.gql(run.stdout.trim(), `{ clients { totalCount } }`);
      expect(response.status).toBe(200);
      expect(dataOf(response).clients.totalCount).toBeGreaterThanOrEqual(2);
    }
  });

  it('without JWT_SECRET signs with the development secret and says so on stderr', async () => {
    const run = await runTokenScript(['--role', 'analyst'], {});
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/JWT_SECRET is not set.*development secret/);
    const token = run.stdout.trim();
    await expect(
      createTokenVerifier({
        jwtSecret: DEVELOPMENT_JWT_SECRET,
        jwtJwksUrl: undefined,
        jwtIssuer: undefined,
        jwtAudience: undefined,
      }).verify(token),
    ).resolves.toMatchObject({ role: 'analyst', subject: 'local-analyst' });
    // …and this API, which has its own secret, refuses it.
    const refused = await app.gql(token, `{ clients { totalCount } }`);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    [['--role', 'client'], /--role client needs --client/],
    [['--role', 'client', '--client', 'not-an-id'], /--client must be a Client's global ID/],
    [
      ['--role', 'client', '--client', encodeGlobalId('Supplier', '123e4567-e89b-12d3-a456-426614174000')],
      /--client must be a Client's global ID/,
    ],
    [['--role', 'boss'], /--role must be one of admin, analyst, client; got "boss"/],
    [[], /--role is required/],
    [
      ['--role', 'admin', '--client', encodeGlobalId('Client', '123e4567-e89b-12d3-a456-426614174000')],
      /--client is only for --role client/,
    ],
    [['--role', 'admin', '--expires', 'soon'], /--expires must be a positive duration/],
    [['--role', 'admin', '--expires', '0h'], /--expires must be a positive duration/],
    [['--role', 'admin', '--colour', 'red'], /Unknown option '--colour'/],
  ])('refuses %j with a clear error and prints no token', async (argv, message) => {
    const run = await runTokenScript(argv as string[], { JWT_SECRET: TEST_JWT_SECRET });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: npm run token');
  });

  it('refuses a JWT_SECRET the API would refuse, and production without one', async () => {
    const short = await runTokenScript(['--role', 'admin'], { JWT_SECRET: 'short' });
    expect(short).toMatchObject({ code: 2, stdout: '' });
    expect(short.stderr).toMatch(/at least 32 characters/);
    const production = await runTokenScript(['--role', 'admin'], { NODE_ENV: 'production' });
    expect(production).toMatchObject({ code: 2, stdout: '' });
    expect(production.stderr).toMatch(/JWT_SECRET is not set/);
  });
});
