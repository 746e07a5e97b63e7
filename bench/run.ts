import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { Client as PgClient } from 'pg';
import { createClient } from 'graphql-ws';
import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { mintToken } from '../src/auth/jwt';
import { encodeGlobalId } from '../src/common/global-id';
import { ExposureEngine } from '../src/modules/exposure/exposure.engine';
import { ExposureChangeReason } from '../src/modules/exposure/exposure.entity';
import { seedLargeRegister, RegisterSize } from './large-register';
import { makeCertificate, webhookLatency } from './webhooks';
import { insightTimings } from './insight';
import { registerIoBench } from './register-io';

/**
 * npm run bench [-- --quick | --ci | --webhooks]: builds a large register in a fresh database, starts the API as real
 * processes and measures it as ratios against floors measured in the same run (machines are shared and
 * absolute times drift). Writes bench/results.json and prints a table. It asserts nothing: the figures
 * and the targets are compared in docs/performance.md.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const JWT_SECRET = 'benchmark-secret-that-is-long-enough-0123456789';

const PROFILES: Record<
  string,
  {
    size: RegisterSize;
    runs: number;
    readRounds: number;
    readSeconds: number;
    subscribers: number;
    dense: { suppliers: number; linksEach: number };
  }
> = {
  full: {
    size: { clients: 10000, suppliers: 2000, contracts: 100000 },
    runs: 7,
    readRounds: 5,
    readSeconds: 5,
    subscribers: 1000,
    dense: { suppliers: 5000, linksEach: 4 },
  },
  quick: {
    size: { clients: 10000, suppliers: 2000, contracts: 100000 },
    runs: 3,
    readRounds: 3,
    readSeconds: 3,
    subscribers: 1000,
    dense: { suppliers: 5000, linksEach: 4 },
  },
  ci: {
    size: { clients: 600, suppliers: 150, contracts: 3000 },
    runs: 2,
    readRounds: 1,
    readSeconds: 2,
    subscribers: 100,
    dense: { suppliers: 500, linksEach: 4 },
  },
  // --webhooks: only the webhook fan-out (1,000 endpoints, one per exposed client), several incidents in a
  // row, on a register just large enough for the largest supplier to expose well over 1,000 clients.
  webhooks: {
    size: { clients: 3000, suppliers: 300, contracts: 20000 },
    runs: 1,
    readRounds: 0,
    readSeconds: 0,
    subscribers: 1000,
    dense: { suppliers: 0, linksEach: 0 },
  },
};

/** Incidents in a row in the --webhooks run (the full run measures one). */
const WEBHOOK_ROUNDS = 5;

const WARM_UP_SECONDS = 2;

const NESTED_READ = `query NestedRead($id: ID!) { node(id: $id) { ... on Incident { title exposures(first: 100) { edges { node {
  score level client { name contracts(first: 5) { edges { node { reference supplier { name } } } } } } } } } } }`;

const say = (line: string) => process.stdout.write(`${line}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function waitForHttp(url: string, timeoutMs = 60000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`${url} did not come up within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function startProcess(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (code && code !== 0) say(`  ${path.basename(script)} exited with ${code ?? signal}`);
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Peak resident memory (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The benchmark reads only a mutation's userErrors from the answers; everything else it times. */
type Answer = { [field: string]: { userErrors?: unknown[] } };

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: Answer; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return { body, sqlStatements: Number(response.headers.get('x-sql-statements')) };
}

interface LoadTarget {
  url: string;
  body: string;
  headers: Record<string, string>;
}

async function loadOnce(target: LoadTarget, seconds: number) {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    body: target.body,
    headers: { 'content-type': 'application/json', ...target.headers },
    connections: 32,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`load test had ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/**
 * The API and the floor at concurrency 32, in alternating rounds, after a warm-up of each that is not
 * counted (V8 optimising the hot code, graphql-jit compiling the operation, pools filling). A shared machine
 * speeds up and slows down by tens of percent within a minute; alternating exposes both sides to the same
 * drift, so their ratio holds where measuring one after the other did not.
 */
async function loadAlternating(api: LoadTarget, floor: LoadTarget, rounds: number, secondsPerRound: number) {
  await loadOnce(api, WARM_UP_SECONDS);
  await loadOnce(floor, WARM_UP_SECONDS);
  const apiRounds: Awaited<ReturnType<typeof loadOnce>>[] = [];
  const floorRounds: Awaited<ReturnType<typeof loadOnce>>[] = [];
  for (let round = 0; round < rounds; round += 1) {
    apiRounds.push(await loadOnce(api, secondsPerRound));
    floorRounds.push(await loadOnce(floor, secondsPerRound));
  }
  const rate = (runs: typeof apiRounds) =>
    runs.reduce((sum, run) => sum + run.requests, 0) / runs.reduce((sum, run) => sum + run.seconds, 0);
  return {
    api: {
      rps: rate(apiRounds),
      p50: median(apiRounds.map((run) => run.p50)),
      p99: median(apiRounds.map((run) => run.p99)),
    },
    floor: { rps: rate(floorRounds) },
  };
}

async function recordIncidentOnce(url: string, token: string, supplierId: string): Promise<number> {
  const started = process.hrtime.bigint();
  const { body } = await gql(
    url,
    token,
    `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { exposuresChanged userErrors { message } } }`,
    {
      input: {
        supplierId: encodeGlobalId('Supplier', supplierId),
        title: 'Benchmark incident',
        kind: 'CYBER_ATTACK',
        status: 'CONFIRMED',
        startedAt: '2024-01-01T00:00:00Z',
        detectedAt: '2024-01-10T00:00:00Z',
        exfiltration: 'SUSPECTED',
      },
    },
  );
  if (body.data.recordIncident.userErrors?.length)
    throw new Error(JSON.stringify(body.data.recordIncident.userErrors));
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The engine's SQL run directly (same statements, no HTTP or GraphQL), rolled back each time. */
async function exposureSqlOnce(db: DataSource, supplierId: string): Promise<number> {
  const runner = db.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    const [{ id }] = await runner.query(
      `INSERT INTO incident (supplier_id, title, kind, status, started_at, detected_at, exfiltration) VALUES ($1, 'Benchmark incident', 'CYBER_ATTACK', 'CONFIRMED', '2024-01-01', '2024-01-10', 'SUSPECTED') RETURNING id`,
      [supplierId],
    );
    const started = process.hrtime.bigint();
    await new ExposureEngine().recompute(runner.manager, [id], ExposureChangeReason.INCIDENT_RECORDED);
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/**
 * A dense supply chain: `suppliers` new suppliers in one strongly connected component (a ring plus
 * pseudo-random links, `linksEach` per supplier), one contract with an agreement at every tenth of them.
 * Times the engine for one incident inside it (rolled back) against its floor, the same breadth-first walk
 * done once in TypeScript over the links read from the database, in the same run.
 */
async function denseGraph(db: DataSource, size: { suppliers: number; linksEach: number }, runs: number) {
  const ids: string[] = (
    await db.query(
      `INSERT INTO supplier (name, country, tier) SELECT 'Dense ' || g, 'GB', 'STANDARD' FROM generate_series(0, $1 - 1) g RETURNING id`,
      [size.suppliers],
    )
  ).map((row: { id: string }) => row.id);
  const from: string[] = [];
  const to: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < ids.length; i += 1) {
    for (let k = 0; k < size.linksEach; k += 1) {
      const j = k === 0 ? (i + 1) % ids.length : (i * 7919 + k * 104729) % ids.length;
      if (j === i || seen.has(`${i}>${j}`)) continue;
      seen.add(`${i}>${j}`);
      from.push(ids[i]);
      to.push(ids[j]);
    }
  }
  await db.query(
    `INSERT INTO supplier_subprocessor (supplier_id, subprocessor_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
    [from, to],
  );
  await db.query(
    `WITH c AS (
       INSERT INTO contract (client_id, supplier_id, reference, title, starts_on, criticality)
       SELECT (SELECT id FROM client ORDER BY id OFFSET (s.n % 500) LIMIT 1), s.id, 'DENSE-' || s.n, 'Dense chain service', '2020-01-01', 'IMPORTANT'
       FROM unnest($1::uuid[]) WITH ORDINALITY AS s(id, n) WHERE s.n % 10 = 0
       RETURNING id)
     INSERT INTO data_processing_agreement (contract_id, reference, data_categories, data_subject_count, processing_locations)
     SELECT id, 'DPA-1', ARRAY['CONTACT'], 1000, ARRAY['GB'] FROM c`,
    [ids],
  );
  await db.query('ANALYZE supplier_subprocessor');
  const target = ids[0];
  const engineTimes: number[] = [];
  const floorTimes: number[] = [];
  let reached = 0;
  for (let run = 0; run < runs; run += 1) {
    engineTimes.push(await exposureSqlOnce(db, target));
    const started = process.hrtime.bigint();
    const links: { supplier_id: string; subprocessor_id: string }[] = await db.query(
      `SELECT supplier_id, subprocessor_id FROM supplier_subprocessor`,
    );
    const reliedOnBy = new Map<string, string[]>();
    for (const l of links) {
      const list = reliedOnBy.get(l.subprocessor_id);
      if (list) list.push(l.supplier_id);
      else reliedOnBy.set(l.subprocessor_id, [l.supplier_id]);
    }
    const distance = new Map<string, number>([[target, 0]]);
    for (let frontier = [target]; frontier.length;) {
      const next: string[] = [];
      for (const node of frontier)
        for (const before of reliedOnBy.get(node) ?? [])
          if (!distance.has(before)) {
            distance.set(before, distance.get(node)! + 1);
            next.push(before);
          }
      frontier = next;
    }
    floorTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    reached = distance.size;
  }
  return {
    suppliers: ids.length,
    links: from.length,
    reached,
    engineMs: median(engineTimes),
    floorMs: median(floorTimes),
  };
}

/** 1,000 subscribers over two instances; latency from commit (seen by our own LISTEN) to receipt. */
async function alertLatency(
  urls: string[],
  databaseUrl: string,
  adminToken: string,
  clientIds: string[],
  supplierId: string,
  count: number,
) {
  const listener = new PgClient({ connectionString: databaseUrl });
  await listener.connect();
  await listener.query('LISTEN exposure_alerts');
  let committedAt = 0;
  listener.on('notification', () => {
    committedAt ||= performance.now();
  });
  const latencies: number[] = [];
  const clients = clientIds.slice(0, count).map((clientId, index) => {
    const client = createClient({
      url: urls[index % urls.length].replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${adminToken}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
    });
    client.subscribe(
      {
        query: `subscription($c: ID) { exposureAlerts(clientId: $c) { id kind } }`,
        variables: { c: encodeGlobalId('Client', clientId) },
      },
      {
        next: () => latencies.push(performance.now() - committedAt),
        error: (error) => say(`  subscriber error: ${JSON.stringify(error).slice(0, 200)}`),
        complete: () => undefined,
      },
    );
    return client;
  });
  const started = Date.now();
  while (clients.length && Date.now() - started < 30000) {
    // Each instance serves metrics on its API port + 10 (METRICS_PORT above).
    const metricsUrl = (url: string) => `http://127.0.0.1:${Number(new URL(url).port) + 10}/metrics`;
    const [{ open }] = await fetch(metricsUrl(urls[0]))
      .then((r) => r.text())
      .then((text) => [{ open: Number(/graphql_active_subscriptions (\d+)/.exec(text)?.[1] ?? 0) }]);
    const [{ open: open2 }] = urls[1]
      ? await fetch(metricsUrl(urls[1]))
          .then((r) => r.text())
          .then((text) => [{ open: Number(/graphql_active_subscriptions (\d+)/.exec(text)?.[1] ?? 0) }])
      : [{ open: 0 }];
    if (open + open2 >= clients.length) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await recordIncidentOnce(urls[0], adminToken, supplierId);
  const waitStarted = Date.now();
  while (latencies.length < clients.length && Date.now() - waitStarted < 30000)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await Promise.all(clients.map((client) => client.dispose()));
  await listener.end();
  if (latencies.length < clients.length)
    say(`  only ${latencies.length} of ${clients.length} subscribers received their alert`);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    received: latencies.length,
    subscribers: clients.length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      ci: { type: 'boolean', default: false },
      webhooks: { type: 'boolean', default: false },
    },
  });
  const profileName = values.webhooks ? 'webhooks' : values.ci ? 'ci' : values.quick ? 'quick' : 'full';
  const profile = PROFILES[profileName];
  const benchStarted = Date.now();
  say(
    `Benchmark (${profileName}): ${profile.size.suppliers} suppliers, ${profile.size.clients} clients, ${profile.size.contracts} contracts`,
  );

  let databaseUrl: string;
  let cleanup: () => Promise<void>;
  if (process.env.DATABASE_URL) {
    const server = new PgClient({ connectionString: process.env.DATABASE_URL });
    await server.connect();
    const name = `register_bench_${process.pid}`;
    await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.query(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    cleanup = async () => {
      await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.end();
    };
    say(`Database: fresh ${name} on DATABASE_URL's server`);
  } else {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-bench-pg-'));
    if (process.getuid?.() === 0) fs.chmodSync(dataDir, 0o777);
    const embedded = await startEmbeddedPostgres(
      path.join(dataDir, 'data'),
      20000 + (process.pid % 12000),
      say,
    );
    databaseUrl = embedded.url;
    cleanup = async () => {
      await embedded.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
    say('Database: embedded PostgreSQL (DATABASE_URL unset)');
  }

  const children: ChildProcess[] = [];
  const db = createDataSource(databaseUrl, { statementTimeoutMs: 600000 });
  try {
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
    say('Seeding the register:');
    const seeded = await seedLargeRegister(db, profile.size, say);
    say(
      `  ${seeded.contracts} contracts, ${seeded.agreements} agreements in ${seeded.seconds.toFixed(1)} s; largest supplier: ${seeded.largestSupplierContracts} contracts, ${seeded.largestSupplierClients} clients`,
    );

    // The webhook benchmark's receiver: TLS on loopback (production mode delivers only to https URLs).
    const certificate = makeCertificate(fs.mkdtempSync(path.join(os.tmpdir(), 'register-bench-tls-')));
    // The alert benchmark's subscribers share one admin token: the per-subject subscription cap is lifted.
    const apiEnv = {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      NODE_EXTRA_CA_CERTS: certificate.certFile,
      DATABASE_URL: databaseUrl,
      JWT_SECRET,
      NODE_ENV: 'production',
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      DB_STATEMENT_TIMEOUT_MS: '600000',
      MAX_QUERY_COST: '1000000',
      WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: '1000000',
      // The webhook worker's pool, when the run is to compare sizes (the default otherwise).
      ...(process.env.WEBHOOK_CONCURRENCY ? { WEBHOOK_CONCURRENCY: process.env.WEBHOOK_CONCURRENCY } : {}),
    };
    const api = startProcess('dist/src/main.js', { ...apiEnv, PORT: '4801', METRICS_PORT: '4811' });
    const api2 = startProcess('dist/src/main.js', { ...apiEnv, PORT: '4802', METRICS_PORT: '4812' });
    children.push(api, api2);
    const url = 'http://127.0.0.1:4801';
    await Promise.all([waitForHttp(`${url}/readyz`), waitForHttp('http://127.0.0.1:4802/readyz')]);
    const adminToken = await mintToken(JWT_SECRET, { sub: 'bench', role: 'admin' });
    if (values.webhooks) {
      await webhooksOnly(
        db,
        url,
        databaseUrl,
        adminToken,
        seeded.largestSupplierId,
        profile.subscribers,
        certificate,
      );
      return;
    }

    say(`recordIncident on the largest supplier, ${profile.runs} runs each:`);
    const apiTimes: number[] = [];
    const sqlTimes: number[] = [];
    for (let run = 0; run < profile.runs; run += 1) {
      sqlTimes.push(await exposureSqlOnce(db, seeded.largestSupplierId));
      apiTimes.push(await recordIncidentOnce(url, adminToken, seeded.largestSupplierId));
    }
    const [{ id: incidentId, exposures }] = await db.query(
      `SELECT incident_id AS id, count(*)::int AS exposures FROM exposure GROUP BY incident_id ORDER BY count(*) DESC LIMIT 1`,
    );
    say(
      `  API ${median(apiTimes).toFixed(0)} ms, SQL ${median(sqlTimes).toFixed(0)} ms (median), ${exposures} exposures per incident`,
    );

    say(
      `simulateIncident and concentration on the largest supplier, ${profile.runs} runs each, against their SQL:`,
    );
    const insight = await insightTimings({
      url,
      token: adminToken,
      db,
      supplierId: seeded.largestSupplierId,
      runs: profile.runs,
    });
    say(`  ${JSON.stringify(insight)}`);

    say(
      `Nested read at concurrency 32, ${profile.readRounds} rounds of ${profile.readSeconds} s alternating with the floor: incident → exposures(first: 100) → client → contracts → supplier`,
    );
    const body = JSON.stringify({
      query: NESTED_READ,
      variables: { id: encodeGlobalId('Incident', incidentId) },
      operationName: 'NestedRead',
    });
    const probe = await gql(url, adminToken, NESTED_READ, { id: encodeGlobalId('Incident', incidentId) });
    const floor = startProcess('dist/bench/floor-server.js', {
      DATABASE_URL: databaseUrl,
      PORT: '4803',
      BENCH_INCIDENT_ID: incidentId,
    });
    children.push(floor);
    await waitForHttp('http://127.0.0.1:4803/');
    const reads = await loadAlternating(
      { url: `${url}/graphql`, body, headers: { authorization: `Bearer ${adminToken}` } },
      { url: 'http://127.0.0.1:4803/', body: '{}', headers: {} },
      profile.readRounds,
      profile.readSeconds,
    );
    const nested = reads.api;
    const floorRun = reads.floor;
    const rssMb = peakRssMb(api.pid!);
    say(
      `  API ${nested.rps.toFixed(0)} req/s (p50 ${nested.p50} ms, p99 ${nested.p99} ms, ${probe.sqlStatements} SQL statements per request); floor ${floorRun.rps.toFixed(0)} req/s`,
    );

    say(`Alert delivery: ${profile.subscribers} subscribers over 2 instances`);
    // Clients exposed to the earlier incidents at this supplier: the next one (same dates) alerts each of them once.
    const clientRows: { client_id: string }[] = await db.query(
      `SELECT client_id FROM exposure WHERE incident_id = $1 ORDER BY client_id LIMIT $2`,
      [incidentId, profile.subscribers],
    );
    const alerts = await alertLatency(
      [url, 'http://127.0.0.1:4802'],
      databaseUrl,
      adminToken,
      clientRows.map((r) => r.client_id),
      seeded.largestSupplierId,
      profile.subscribers,
    );
    say(
      `  ${alerts.received}/${alerts.subscribers} received; p50 ${alerts.p50.toFixed(0)} ms, p99 ${alerts.p99.toFixed(0)} ms`,
    );

    say(`Webhooks: ${clientRows.length} endpoints, one per exposed client, over 2 instances (https, signed)`);
    const hooks = await webhookLatency({
      apiUrl: url,
      databaseUrl,
      adminToken,
      clientIds: clientRows.map((r) => r.client_id),
      tls: certificate,
      recordIncident: () => recordIncidentOnce(url, adminToken, seeded.largestSupplierId),
      say,
    });
    // Later measurements run without endpoints to deliver to.
    await db.query(`DELETE FROM webhook_endpoint`);
    say(
      `  ${hooks.received}/${hooks.endpoints} received (${hooks.verified} signatures verified); p50 ${hooks.p50.toFixed(0)} ms, p99 ${hooks.p99.toFixed(0)} ms; subscriptions' p99 ${alerts.p99.toFixed(0)} ms`,
    );

    say('Register to and from a workbook (bench/register-io.ts):');
    const registerIo = await registerIoBench(db, databaseUrl, say);
    say(
      `Dense supply chain: ${profile.dense.suppliers} suppliers in one strongly connected component, one incident inside it`,
    );
    const dense = await denseGraph(db, profile.dense, profile.runs);
    say(
      `  ${dense.links} links, ${dense.reached} suppliers reached; engine ${dense.engineMs.toFixed(0)} ms, plain TypeScript BFS ${dense.floorMs.toFixed(0)} ms (median)`,
    );

    const [{ server_version: version }] = await db.query(`SHOW server_version`);
    const results = {
      profile: profileName,
      size: {
        ...profile.size,
        agreements: seeded.agreements,
        largestSupplierContracts: seeded.largestSupplierContracts,
        exposuresPerIncident: exposures,
      },
      recordIncident_ms: round(median(apiTimes)),
      exposureSql_ms: round(median(sqlTimes)),
      recordIncident_ratio: round(median(apiTimes) / median(sqlTimes), 2),
      nestedRead_rps: round(nested.rps),
      nestedRead_p50_ms: nested.p50,
      nestedRead_p99_ms: nested.p99,
      nestedRead_sql_per_request: probe.sqlStatements,
      floor_rps: round(floorRun.rps),
      nestedRead_floor_ratio: round(floorRun.rps / nested.rps, 2),
      alert_p50_ms: round(alerts.p50),
      alert_p99_ms: round(alerts.p99),
      alert_subscribers: alerts.subscribers,
      alert_received: alerts.received,
      webhook_endpoints: hooks.endpoints,
      webhook_received: hooks.received,
      webhook_p50_ms: round(hooks.p50),
      webhook_p99_ms: round(hooks.p99),
      // Against the same fan-out over subscriptions: what HTTP, TLS, signing and the per-endpoint cursor cost.
      webhook_subscription_ratio: round(hooks.p99 / alerts.p99, 2),
      rss_mb: round(rssMb),
      denseGraph: { suppliers: dense.suppliers, links: dense.links },
      registerIo,
      denseGraph_ms: round(dense.engineMs),
      denseGraphFloor_ms: round(dense.floorMs),
      denseGraph_floor_ratio: round(dense.engineMs / dense.floorMs, 2),
      ...insight,
      machine: {
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        memory_gb: round(os.totalmem() / 2 ** 30),
        node: process.version,
        postgres: version,
      },
      measuredAt: new Date().toISOString(),
      seconds: round((Date.now() - benchStarted) / 1000),
    };
    fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const targets: [string, string, string, boolean | null][] = [
      [
        'recordIncident_ms',
        `${results.recordIncident_ms}`,
        '< 2000 (100k contracts)',
        results.recordIncident_ms < 2000,
      ],
      [
        'recordIncident_ratio',
        `${results.recordIncident_ratio}`,
        '≤ 1.5',
        results.recordIncident_ratio <= 1.5,
      ],
      [
        'nestedRead_floor_ratio',
        `${results.nestedRead_floor_ratio}`,
        '≤ 3 (stretch 2)',
        results.nestedRead_floor_ratio <= 3,
      ],
      [
        'nestedRead_sql_per_request',
        `${results.nestedRead_sql_per_request}`,
        '≤ 6',
        results.nestedRead_sql_per_request <= 6,
      ],
      ['alert_p99_ms', `${results.alert_p99_ms}`, '≤ 250', results.alert_p99_ms <= 250],
      ['webhook_p99_ms', `${results.webhook_p99_ms}`, 'no target yet', null],
      ['webhook_subscription_ratio', `${results.webhook_subscription_ratio}`, 'no target yet', null],
      ['rss_mb', `${results.rss_mb}`, '≤ 300', results.rss_mb <= 300],
      ['denseGraph_floor_ratio', `${results.denseGraph_floor_ratio}`, 'no target yet', null],
    ];
    say('\nResult                       Value        Target                    Met');
    for (const [name, value, target, met] of targets)
      say(
        `${name.padEnd(28)} ${value.padEnd(12)} ${target.padEnd(25)} ${met === null ? '-' : met ? 'yes' : 'NO'}`,
      );
    say(
      `\nnestedRead ${results.nestedRead_rps} req/s vs floor ${results.floor_rps} req/s; p50 ${results.nestedRead_p50_ms} ms, p99 ${results.nestedRead_p99_ms} ms`,
    );
    say(`Written to bench/results.json (${results.seconds} s in all).`);
  } finally {
    await Promise.all(children.map(stopProcess));
    if (db.isInitialized) await db.destroy();
    await cleanup();
  }
}

/** --webhooks: the webhook fan-out alone, WEBHOOK_ROUNDS incidents in a row; prints, writes nothing. */
async function webhooksOnly(
  db: DataSource,
  url: string,
  databaseUrl: string,
  adminToken: string,
  supplierId: string,
  endpoints: number,
  certificate: { key: string; cert: string },
): Promise<void> {
  // A first incident makes the exposures whose clients get the endpoints (and warms both instances).
  await recordIncidentOnce(url, adminToken, supplierId);
  const clientRows: { client_id: string }[] = await db.query(
    `SELECT client_id FROM exposure WHERE incident_id = (SELECT id FROM incident WHERE supplier_id = $2 LIMIT 1)
     ORDER BY client_id LIMIT $1`,
    [endpoints, supplierId],
  );
  say(`Webhooks: ${clientRows.length} endpoints, one per exposed client, over 2 instances (https, signed)`);
  const hooks = await webhookLatency({
    apiUrl: url,
    databaseUrl,
    adminToken,
    clientIds: clientRows.map((r) => r.client_id),
    tls: certificate,
    recordIncident: () => recordIncidentOnce(url, adminToken, supplierId),
    say,
    rounds: WEBHOOK_ROUNDS,
  });
  const p99s = hooks.rounds.map((r) => r.p99);
  say(
    `  ${hooks.verified} deliveries verified, ${hooks.duplicates} duplicates, ${hooks.outOfOrder} out of order; p99 per round ${p99s.map((p) => p.toFixed(0)).join(', ')} ms (median ${median(p99s).toFixed(0)} ms)`,
  );
}

main().catch((error) => {
  process.stderr.write(`Benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
