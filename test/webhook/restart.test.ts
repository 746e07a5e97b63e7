import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { loadConfig } from '../../src/config';
import { encodeGlobalId } from '../../src/common/global-id';
import { WebhookWorker, webhookWorkerOptions } from '../../src/modules/webhook/webhook.worker';
import { Services, createServices } from '../../src/services';
import { DEFAULT_WEBHOOK_SERVICE_OPTIONS } from '../../src/modules/webhook/webhook.service';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { migratedDatabase, startPostgres, stopPostgres } from '../support/postgres-process';
import { eventually, freePort, sleep } from '../ops/support';
import { Receiver, startReceiver } from './receiver';

/**
 * Nothing is lost when an instance dies in the middle of a delivery, nor when the database restarts.
 * Instance A is a process of its own (worker-process.ts), killed with SIGKILL while an endpoint holds its
 * request open, so the attempt is sent but never recorded. Instance B (in this process, its own
 * DataSource) takes the endpoint over once A's lease runs out, while this test's own PostgreSQL is
 * stopped and started again under it. Every alert reaches every endpoint at least once, in order, and
 * a receiver that deduplicates by webhook-id sees each exactly once.
 */
describe('webhook delivery across an instance kill and a database restart', () => {
  let dataRoot: string;
  let port: number;
  let postgres: ChildProcess | null = null;
  let database: { url: string; db: DataSource };
  let services: Services;
  let receiver: Receiver;
  let instanceA: ChildProcess | null = null;
  let workerB: WebhookWorker | null = null;
  let dbB: DataSource | null = null;

  beforeAll(async () => {
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'register-webhook-pg-'));
    fs.chmodSync(dataRoot, 0o777);
    port = await freePort();
    postgres = await startPostgres(path.join(dataRoot, 'data'), port);
    database = await migratedDatabase(
      `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      'register_webhooks',
    );
    services = createServices(database.db, {
      webhooks: { ...DEFAULT_WEBHOOK_SERVICE_OPTIONS, allowPrivateTargets: true },
    });
    receiver = await startReceiver();
  }, 120_000);

  afterAll(async () => {
    instanceA?.kill('SIGKILL');
    await workerB?.stop().catch(() => undefined);
    if (dbB?.isInitialized) await dbB.destroy().catch(() => undefined);
    if (database?.db.isInitialized) await database.db.destroy().catch(() => undefined);
    await receiver?.close();
    if (postgres) await stopPostgres(postgres);
    if (dataRoot) fs.rmSync(dataRoot, { recursive: true, force: true });
  }, 60_000);

  it('delivers every alert at least once, deduplicable by webhook-id, in order', async () => {
    const supplier = await createSupplier(services, { name: 'Restart Supplier' });
    const endpoints: { path: string; secret: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const client = await createClient(services, { name: `Restart Council ${i}` });
      await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);
      const { secret } = await services.webhook.create(FACTORY_ADMIN, {
        url: `${receiver.url}/e${i}`,
        clientId: encodeGlobalId('Client', client.id),
      });
      endpoints.push({ path: `/e${i}`, secret: secret! });
    }
    // The first request to /e0 is held open: instance A is killed while it waits for the answer.
    let held = false;
    receiver.answer = (request) => {
      if (request.path === '/e0' && !held) {
        held = true;
        return 'hang';
      }
      return { status: 200, body: 'ok' };
    };
    await recordIncident(services, supplier.id, { title: 'Before the kill' });

    instanceA = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        path.join(__dirname, 'worker-process.ts'),
        database.url,
        'instance-a',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.join(__dirname, '..', '..') },
    );
    let output = '';
    instanceA.stdout!.on('data', (chunk) => (output += String(chunk)));
    instanceA.stderr!.on('data', (chunk) => (output += String(chunk)));
    await eventually(() => receiver.at('/e0').length === 1, 60_000, `instance A's held delivery (${output})`);
    const exited = new Promise((resolve) => instanceA!.once('exit', resolve));
    instanceA.kill('SIGKILL');
    await exited;
    instanceA = null;

    // Instance B, from now on the only one.
    dbB = createDataSource(database.url, { poolMax: 4 });
    await dbB.initialize();
    workerB = new WebhookWorker(dbB, {
      ...webhookWorkerOptions(
        loadConfig({ NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '100' }),
      ),
      name: 'instance-b',
      timeoutMs: 3000,
      leaseMarginMs: 1000,
      logger: pino({ level: 'silent' }),
    });
    workerB.start();
    await recordIncident(services, supplier.id, { title: 'Between kill and restart' });

    // The database restarts under instance B (and under this test's services).
    await stopPostgres(postgres!);
    await sleep(500);
    postgres = await startPostgres(path.join(dataRoot, 'data'), port);
    await eventually(
      async () => (await database.db.query('SELECT 1 AS up'))[0].up === 1,
      30_000,
      'the database back',
    );
    await recordIncident(services, supplier.id, { title: 'After the restart' });

    await eventually(
      () => endpoints.every(({ path: at }) => new Set(receiver.idsAt(at)).size === 3),
      60_000,
      'every alert at every endpoint',
    );
    for (const endpoint of endpoints) {
      const delivered = receiver.verified(endpoint.path, endpoint.secret);
      // Deduplicated by webhook-id, in first-arrival order: every alert, in order.
      expect({ path: endpoint.path, ids: [...new Set(delivered.map((d) => d.id))] }).toEqual({
        path: endpoint.path,
        ids: ['1', '2', '3'],
      });
      expect(
        delivered.map((d) => d.payload.data.incident.title).filter((t, i, all) => all.indexOf(t) === i),
      ).toEqual(['Before the kill', 'Between kill and restart', 'After the restart']);
    }
    // The held alert went out twice: once from A (never recorded: A died), again from B.
    expect(receiver.idsAt('/e0').filter((id) => id === '1').length).toBeGreaterThanOrEqual(2);
    const [{ cursor_behind }] = await database.db.query(
      `SELECT count(*)::int AS cursor_behind FROM webhook_endpoint e
       WHERE e.cursor < (SELECT max(id) FROM exposure_alert a WHERE a.client_id = e.client_id)`,
    );
    expect(cursor_behind).toBe(0);
    const recordedByA: { count: number }[] = await database.db.query(
      `SELECT count(*)::int AS count FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id
       WHERE d.worker = 'instance-a' AND e.url LIKE '%/e0' AND d.webhook_id = '1'`,
    );
    expect(recordedByA[0].count).toBe(0);
  }, 180_000);
});
