import 'reflect-metadata';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Client as PgClient } from 'pg';
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
import { peerSuite } from './peer';
import { writeFloor } from './write-floor';
import { alertSuite } from './alerts';
import { scaleSuite } from './scale';
import { printIssue18 } from './issue18';

/**
 * npm run bench [-- --quick | --ci | --webhooks] [--suite NAME[,NAME]] [--peer]: builds a large register in a fresh database, starts the API as real
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
  ci: {
    size: { clients: 600, suppliers: 150, contracts: 3000 },
    runs: 2,
    readRounds: 1,
    readSeconds: 2,
    subscribers: 100,
    dense: { suppliers: 500, linksEach: 4 },
  },
};

const WARM_UP_SECONDS = 2;

/** Incidents in a row in the --webhooks run (the full run measures one). */
const WEBHOOK_ROUNDS = 5;

const NESTED_READ = `query NestedRead($id: ID!) { node(id: $id) { ... on Incident { title exposures(first: 100) { edges { node {
  score level client { name contracts(first: 5) { edges { node { reference supplier { name } } } } } } } } } } }`;

const say = (line: string) => process.stdout.write(`${line}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
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

/** Whether something already listens on the port (another benchmark, say): its answers would be taken for ours. */
function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits for a started instance's URL, and fails at once, saying so, if the instance exits first. */
async function waitForChild(child: ChildProcess, url: string): Promise<void> {
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () =>
      reject(
        new Error(
          `the instance for ${url} exited (${child.exitCode ?? child.signalCode}) before it answered`,
        ),
      );
    if (child.exitCode !== null) onExit();
    else child.once('exit', onExit);
  });
  try {
    await Promise.race([waitForHttp(url), exited]);
  } finally {
    if (onExit) child.off('exit', onExit);
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
  name: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  /** The server's process, for its CPU time (/proc/<pid>/stat). */
  pid?: number;
}

/** CPU time (user + system) of a process in milliseconds, from /proc; 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are the 12th and 13th fields after the command name, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/**
 * The CPU of the PostgreSQL backends serving the benchmark's database, read from /proc of each backend
 * (the same machine). Other databases on the server (other engineers' tests) are not counted.
 */
async function backendCpuMs(db: DataSource): Promise<Map<number, number>> {
  const rows: { pid: number }[] = await db.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
  );
  return new Map(rows.map((row) => [row.pid, cpuMs(row.pid)]));
}

function backendCpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
  return spent;
}

async function loadOnce(target: LoadTarget, seconds: number, connections: number, db?: DataSource) {
  const serverBefore = target.pid ? cpuMs(target.pid) : 0;
  const backendsBefore = db ? await backendCpuMs(db) : new Map<number, number>();
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    body: target.body,
    headers: { 'content-type': 'application/json', ...target.headers },
    connections,
    duration: seconds,
  });
  const serverCpu = target.pid ? cpuMs(target.pid) - serverBefore : 0;
  const backendCpu = db ? backendCpuSpent(backendsBefore, await backendCpuMs(db)) : 0;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(
      `load test of ${target.name} had ${result.non2xx} non-2xx answers and ${result.errors} errors`,
    );
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpu,
    backendCpu,
  };
}

interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  /** CPU milliseconds per request of the server process and of the database's PostgreSQL backends. */
  serverCpuMs: number;
  postgresCpuMs: number;
}

/**
 * Several servers at one concurrency, in alternating rounds, after a warm-up of each that is not counted
 * (V8 optimising the hot code, graphql-jit compiling the operation, pools filling). A shared machine speeds
 * up and slows down by tens of percent within a minute; alternating exposes every side to the same drift,
 * so their ratios hold where measuring one after the other did not.
 */
async function loadAlternating(
  targets: LoadTarget[],
  rounds: number,
  secondsPerRound: number,
  connections: number,
  db?: DataSource,
): Promise<Record<string, LoadFigures>> {
  for (const target of targets) await loadOnce(target, WARM_UP_SECONDS, connections);
  const runs = new Map<string, Awaited<ReturnType<typeof loadOnce>>[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round += 1)
    for (const target of targets)
      runs.get(target.name)!.push(await loadOnce(target, secondsPerRound, connections, db));
  const figures: Record<string, LoadFigures> = {};
  for (const [name, list] of runs) {
    const requests = list.reduce((sum, run) => sum + run.requests, 0);
    figures[name] = {
      rps: requests / list.reduce((sum, run) => sum + run.seconds, 0),
      p50: median(list.map((run) => run.p50)),
      p99: median(list.map((run) => run.p99)),
      serverCpuMs: list.reduce((sum, run) => sum + run.serverCpu, 0) / Math.max(1, requests),
      postgresCpuMs: list.reduce((sum, run) => sum + run.backendCpu, 0) / Math.max(1, requests),
    };
  }
  return figures;
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

/** What every suite shares: the seeded register, the two API instances, and where results and targets go. */
interface Bench {
  profileName: string;
  profile: (typeof PROFILES)[string];
  db: DataSource;
  databaseUrl: string;
  seeded: Awaited<ReturnType<typeof seedLargeRegister>>;
  url: string;
  apiPid: number;
  apiEnv: Record<string, string>;
  adminToken: string;
  certificate: ReturnType<typeof makeCertificate>;
  children: ChildProcess[];
  results: Record<string, unknown>;
  /** [key, value, target, met]: met null when there is no target yet. */
  targets: [string, string, string, boolean | null][];
  /** The incident with the most exposures (recorded first if no suite did yet). */
  largestIncident(): Promise<{ id: string; exposures: number }>;
  settleDatabase(): Promise<void>;
}

/**
 * Before a read is measured: the register just seeded and written, so VACUUM ANALYZE (statistics, hint bits,
 * visibility map), then wait (up to a minute) for autovacuum workers on this database to finish, so the
 * sides measured do not share the cores with them.
 */
async function settleDatabase(db: DataSource): Promise<void> {
  await db.query('VACUUM ANALYZE');
  for (const started = Date.now(); Date.now() - started < 60000;) {
    const [{ workers }] = await db.query(
      `SELECT count(*)::int AS workers FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'autovacuum worker'`,
    );
    if (!workers) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** One part of the benchmark; `npm run bench -- --suite NAME` runs one (or a comma-separated list). */
interface Suite {
  name: string;
  /** Part of a plain `npm run bench`; the others run only when named (--suite, --peer). */
  byDefault: boolean;
  run(bench: Bench): Promise<void>;
}

async function recordSuite(bench: Bench): Promise<void> {
  const { profile, db, seeded, url, adminToken, results, targets } = bench;
  say(`recordIncident on the largest supplier, ${profile.runs} runs each:`);
  const apiTimes: number[] = [];
  const sqlTimes: number[] = [];
  for (let run = 0; run < profile.runs; run += 1) {
    sqlTimes.push(await exposureSqlOnce(db, seeded.largestSupplierId));
    apiTimes.push(await recordIncidentOnce(url, adminToken, seeded.largestSupplierId));
  }
  const { exposures } = await bench.largestIncident();
  say(
    `  API ${median(apiTimes).toFixed(0)} ms, SQL ${median(sqlTimes).toFixed(0)} ms (median), ${exposures} exposures per incident`,
  );
  Object.assign(results, {
    recordIncident_ms: round(median(apiTimes)),
    exposureSql_ms: round(median(sqlTimes)),
    recordIncident_ratio: round(median(apiTimes) / median(sqlTimes), 2),
  });
  targets.push(
    [
      'recordIncident_ms',
      `${results.recordIncident_ms}`,
      '< 2000 (100k contracts)',
      Number(results.recordIncident_ms) < 2000,
    ],
    [
      'recordIncident_ratio',
      `${results.recordIncident_ratio}`,
      '≤ 1.5',
      Number(results.recordIncident_ratio) <= 1.5,
    ],
  );
}

function nestedReadBody(incidentId: string): string {
  return JSON.stringify({
    query: NESTED_READ,
    variables: { id: encodeGlobalId('Incident', incidentId) },
    operationName: 'NestedRead',
  });
}

/** A third API instance with the planner off: the level-by-level path, measured in the same run. */
async function startLevelByLevelApi(bench: Bench): Promise<ChildProcess> {
  const api = startProcess('dist/src/main.js', {
    ...bench.apiEnv,
    PORT: '4804',
    METRICS_PORT: '4805',
    NESTED_READ_PLANNING: 'false',
  });
  bench.children.push(api);
  await waitForHttp('http://127.0.0.1:4804/readyz');
  return api;
}

async function insightSuite(bench: Bench): Promise<void> {
  const { profile, db, seeded, url, adminToken, results } = bench;
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
  Object.assign(results, insight);
}

async function readSuite(bench: Bench): Promise<void> {
  const { profile, db, databaseUrl, url, adminToken, results, targets } = bench;
  const { id: incidentId } = await bench.largestIncident();
  await settleDatabase(db);
  say(
    `Nested read at concurrency 32, ${profile.readRounds} rounds of ${profile.readSeconds} s alternating with the floor and the level-by-level path: incident → exposures(first: 100) → client → contracts → supplier`,
  );
  const probe = await gql(url, adminToken, NESTED_READ, { id: encodeGlobalId('Incident', incidentId) });
  const floor = startProcess('dist/bench/floor-server.js', {
    DATABASE_URL: databaseUrl,
    PORT: '4803',
    BENCH_INCIDENT_ID: incidentId,
  });
  bench.children.push(floor);
  const levelByLevel = await startLevelByLevelApi(bench);
  await waitForHttp('http://127.0.0.1:4803/');
  const levelProbe = await gql('http://127.0.0.1:4804', adminToken, NESTED_READ, {
    id: encodeGlobalId('Incident', incidentId),
  });
  const body = nestedReadBody(incidentId);
  const headers = { authorization: `Bearer ${adminToken}` };
  const reads = await loadAlternating(
    [
      { name: 'api', url: `${url}/graphql`, body, headers, pid: bench.apiPid },
      { name: 'levelByLevel', url: 'http://127.0.0.1:4804/graphql', body, headers, pid: levelByLevel.pid },
      { name: 'floor', url: 'http://127.0.0.1:4803/', body: '{}', headers: {}, pid: floor.pid },
    ],
    profile.readRounds,
    profile.readSeconds,
    32,
    db,
  );
  const { api: nested, floor: floorRun, levelByLevel: level } = reads;
  const rssMb = peakRssMb(bench.apiPid);
  const cpu = (f: LoadFigures) => `${f.serverCpuMs.toFixed(1)} + ${f.postgresCpuMs.toFixed(1)} ms CPU`;
  say(
    `  API ${nested.rps.toFixed(0)} req/s (p50 ${nested.p50} ms, p99 ${nested.p99} ms, ${probe.sqlStatements} SQL statements, ${cpu(nested)} per request)`,
  );
  say(
    `  level by level ${level.rps.toFixed(0)} req/s (${levelProbe.sqlStatements} SQL statements, ${cpu(level)}); floor ${floorRun.rps.toFixed(0)} req/s (${cpu(floorRun)})`,
  );
  Object.assign(results, {
    nestedRead_rps: round(nested.rps),
    nestedRead_p50_ms: nested.p50,
    nestedRead_p99_ms: nested.p99,
    nestedRead_sql_per_request: probe.sqlStatements,
    nestedRead_cpu_ms: { server: round(nested.serverCpuMs, 2), postgres: round(nested.postgresCpuMs, 2) },
    levelByLevel_rps: round(level.rps),
    levelByLevel_sql_per_request: levelProbe.sqlStatements,
    levelByLevel_cpu_ms: { server: round(level.serverCpuMs, 2), postgres: round(level.postgresCpuMs, 2) },
    nestedRead_vs_levelByLevel: round(nested.rps / level.rps, 2),
    floor_rps: round(floorRun.rps),
    floor_cpu_ms: { server: round(floorRun.serverCpuMs, 2), postgres: round(floorRun.postgresCpuMs, 2) },
    nestedRead_floor_ratio: round(floorRun.rps / nested.rps, 2),
    rss_mb: round(rssMb),
  });
  targets.push(
    [
      'nestedRead_floor_ratio',
      `${results.nestedRead_floor_ratio}`,
      '≤ 3 (stretch 2)',
      Number(results.nestedRead_floor_ratio) <= 3,
    ],
    [
      'nestedRead_sql_per_request',
      `${results.nestedRead_sql_per_request}`,
      '≤ 2',
      Number(results.nestedRead_sql_per_request) <= 2,
    ],
    ['nestedRead_vs_levelByLevel', `${results.nestedRead_vs_levelByLevel}`, 'no target (planner off)', null],
    ['rss_mb', `${results.rss_mb}`, '≤ 300', Number(results.rss_mb) <= 300],
  );
}

/** What bench/alerts.ts and bench/scale.ts borrow from this file. */
const alertTools = {
  say,
  startProcess,
  stopProcess,
  waitForHttp,
  peakRssMb,
  recordIncident: (bench: Bench) => (url: string) =>
    recordIncidentOnce(url, bench.adminToken, bench.seeded.largestSupplierId),
};

/** Alerts against their floor: the profile's subscribers over 2 instances, and 10 times as many over 4. */
function alertsOver(instances: number, times: number) {
  return (bench: Bench) =>
    alertSuite(
      bench,
      { ...alertTools, recordIncident: alertTools.recordIncident(bench) },
      {
        subscribers: bench.profile.subscribers * times,
        instances,
        rounds: Math.min(bench.profile.runs, instances === 2 ? 5 : 2),
        key: times === 1 ? 'alert' : 'alertLarge',
        running: [
          { url: bench.url, pid: bench.apiPid },
          { url: 'http://127.0.0.1:4802', pid: bench.children[1].pid! },
        ],
      },
    ).then(() => undefined);
}

async function webhooksSuite(bench: Bench): Promise<void> {
  const { profile, db, databaseUrl, url, adminToken, seeded, results, targets } = bench;
  const { id: incidentId } = await bench.largestIncident();
  const clientRows: { client_id: string }[] = await db.query(
    `SELECT client_id FROM exposure WHERE incident_id = $1 ORDER BY client_id LIMIT $2`,
    [incidentId, profile.subscribers],
  );
  say(`Webhooks: ${clientRows.length} endpoints, one per exposed client, over 2 instances (https, signed)`);
  const hooks = await webhookLatency({
    apiUrl: url,
    databaseUrl,
    adminToken,
    clientIds: clientRows.map((r) => r.client_id),
    tls: bench.certificate,
    recordIncident: () => recordIncidentOnce(url, adminToken, seeded.largestSupplierId),
    say,
  });
  // Later measurements run without endpoints to deliver to.
  await db.query(`DELETE FROM webhook_endpoint`);
  say(
    `  ${hooks.received}/${hooks.endpoints} received (${hooks.verified} signatures verified); p50 ${hooks.p50.toFixed(0)} ms, p99 ${hooks.p99.toFixed(0)} ms`,
  );
  Object.assign(results, {
    webhook_endpoints: hooks.endpoints,
    webhook_received: hooks.received,
    webhook_p50_ms: round(hooks.p50),
    webhook_p99_ms: round(hooks.p99),
  });
  targets.push(['webhook_p99_ms', `${results.webhook_p99_ms}`, 'no target yet', null]);
  // Against the same fan-out over subscriptions: what HTTP, TLS, signing and the per-endpoint cursor cost.
  if (typeof results.alert_p99_ms === 'number') {
    results.webhook_subscription_ratio = round(hooks.p99 / results.alert_p99_ms, 2);
    targets.push([
      'webhook_subscription_ratio',
      `${results.webhook_subscription_ratio}`,
      'no target yet',
      null,
    ]);
  }
}

async function registerIoSuite(bench: Bench): Promise<void> {
  say('Register to and from a workbook (bench/register-io.ts):');
  const io = await registerIoBench(bench.db, bench.databaseUrl, say);
  bench.results.registerIo = io;
  bench.targets.push(
    [
      'import_copy_ratio',
      `${io.import_copy_ratio}`,
      '≤ 5',
      io.import_copy_ratio === null ? null : io.import_copy_ratio <= 5,
    ],
    ['import_peak_rss_mb', `${io.import_peak_rss_mb}`, '< 400', io.import_peak_rss_mb < 400],
  );
}

async function denseSuite(bench: Bench): Promise<void> {
  const { profile, db, results, targets } = bench;
  say(
    `Dense supply chain: ${profile.dense.suppliers} suppliers in one strongly connected component, one incident inside it`,
  );
  const dense = await denseGraph(db, profile.dense, profile.runs);
  say(
    `  ${dense.links} links, ${dense.reached} suppliers reached; engine ${dense.engineMs.toFixed(0)} ms, plain TypeScript BFS ${dense.floorMs.toFixed(0)} ms (median)`,
  );
  Object.assign(results, {
    denseGraph: { suppliers: dense.suppliers, links: dense.links },
    denseGraph_ms: round(dense.engineMs),
    denseGraphFloor_ms: round(dense.floorMs),
    denseGraph_floor_ratio: round(dense.engineMs / dense.floorMs, 2),
  });
  targets.push(['denseGraph_floor_ratio', `${results.denseGraph_floor_ratio}`, 'no target yet', null]);
}

const SUITES: Suite[] = [
  { name: 'record', byDefault: true, run: recordSuite },
  {
    name: 'write',
    byDefault: true,
    run: async ({ db, url, adminToken, seeded, profile, results, targets }) => {
      say('The write against its floor, and an unrelated update during an incident (bench/write-floor.ts):');
      const f = await writeFloor({
        db,
        url,
        adminToken,
        supplierId: seeded.largestSupplierId,
        runs: profile.runs,
        say,
      });
      Object.assign(results, { write: f });
      targets.push(
        ['writeFloor_ratio', `${f.writeFloor_ratio}`, '≤ 1.5', f.writeFloor_ratio <= 1.5],
        [
          'unrelatedUpdate_duringIncident_ms',
          `${f.unrelatedUpdate_duringIncident_ms}`,
          '≤ 1000',
          f.unrelatedUpdate_duringIncident_ms <= 1000,
        ],
      );
    },
  },
  { name: 'insight', byDefault: true, run: insightSuite },
  { name: 'read', byDefault: true, run: readSuite },
  { name: 'alerts', byDefault: true, run: alertsOver(2, 1) },
  { name: 'alertsLarge', byDefault: true, run: alertsOver(4, 10) },
  { name: 'webhooks', byDefault: true, run: webhooksSuite },
  { name: 'registerIo', byDefault: true, run: registerIoSuite },
  { name: 'dense', byDefault: true, run: denseSuite },
  {
    name: 'scale',
    byDefault: true,
    run: (bench) =>
      scaleSuite(bench, {
        ...alertTools,
        engineOnce: exposureSqlOnce,
        recordIncident: recordIncidentOnce,
        gql,
      }),
  },
  {
    name: 'peer',
    byDefault: false,
    run: (bench) =>
      peerSuite(bench, {
        say,
        waitForHttp,
        loadAlternating,
        nestedReadBody,
        ourAnswer: async (incidentId) =>
          (
            await gql(bench.url, bench.adminToken, NESTED_READ, {
              id: encodeGlobalId('Incident', incidentId),
            })
          ).body.data,
      }),
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      ci: { type: 'boolean', default: false },
      webhooks: { type: 'boolean', default: false },
      peer: { type: 'boolean', default: false },
      suite: { type: 'string', multiple: true },
    },
  });
  const profileName = values.webhooks ? 'webhooks' : values.ci ? 'ci' : values.quick ? 'quick' : 'full';
  const profile = PROFILES[profileName];
  const named = [
    ...(values.suite ?? []).flatMap((name) => name.split(',')),
    ...(values.peer ? ['peer'] : []),
  ];
  const unknown = named.filter((name) => !SUITES.some((suite) => suite.name === name));
  if (unknown.length)
    throw new Error(`No suite ${unknown.join(', ')}; the suites are ${SUITES.map((s) => s.name).join(', ')}`);
  const suites = named.length
    ? SUITES.filter((s) => named.includes(s.name))
    : SUITES.filter((s) => s.byDefault);
  const benchStarted = Date.now();
  say(
    `Benchmark (${profileName}; ${suites.map((s) => s.name).join(', ')}): ${profile.size.suppliers} suppliers, ${profile.size.clients} clients, ${profile.size.contracts} contracts`,
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
      // The daily jobs' first run (contracts that started while an incident is open) recomputes at start-up
      // and would share the first minute's cores with whichever suite runs first; the benchmark measures
      // requests, so they are off.
      DAILY_JOBS_INTERVAL_MS: '0',
    };
    // A second benchmark on the same machine (not under `flock /tmp/bench.lock`) holds these ports: our
    // instances would fail to start and every request would go to the other benchmark's register.
    for (const port of [4801, 4802, 4803, 4804, 4806, 4807])
      if (await portInUse(port))
        throw new Error(
          `port ${port} is in use: another benchmark is running? Run benchmarks one at a time (flock /tmp/bench.lock npm run bench …)`,
        );
    const api = startProcess('dist/src/main.js', { ...apiEnv, PORT: '4801', METRICS_PORT: '4811' });
    const api2 = startProcess('dist/src/main.js', { ...apiEnv, PORT: '4802', METRICS_PORT: '4812' });
    children.push(api, api2);
    const url = 'http://127.0.0.1:4801';
    await Promise.all([
      waitForChild(api, `${url}/readyz`),
      waitForChild(api2, 'http://127.0.0.1:4802/readyz'),
    ]);
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
    const results: Record<string, unknown> = { profile: profileName, suites: suites.map((s) => s.name) };
    const bench: Bench = {
      profileName,
      profile,
      db,
      databaseUrl,
      seeded,
      url,
      apiPid: api.pid!,
      apiEnv,
      adminToken,
      certificate,
      children,
      results,
      targets: [],
      settleDatabase: () => settleDatabase(db),
      async largestIncident() {
        const find = () =>
          db.query(
            `SELECT incident_id AS id, count(*)::int AS exposures FROM exposure GROUP BY incident_id ORDER BY count(*) DESC LIMIT 1`,
          ) as Promise<{ id: string; exposures: number }[]>;
        let [largest] = await find();
        if (!largest) {
          await recordIncidentOnce(url, adminToken, seeded.largestSupplierId);
          [largest] = await find();
        }
        return largest;
      },
    };
    // A suite that fails (a process of its own died, a connection it listens on was terminated) is
    // reported and the others still run: its row in the table says it failed, and the benchmark exits 1.
    const failed: string[] = [];
    for (const suite of suites)
      try {
        await suite.run(bench);
      } catch (error) {
        failed.push(suite.name);
        say(`  suite ${suite.name} FAILED: ${error instanceof Error ? error.message : String(error)}`);
        bench.targets.push([`suite_${suite.name}`, 'failed', 'runs to the end', false]);
      }
    if (failed.length) results.failedSuites = failed;

    const [{ server_version: version }] = await db.query(`SHOW server_version`);
    const largest = await bench.largestIncident();
    Object.assign(results, {
      size: {
        ...profile.size,
        agreements: seeded.agreements,
        largestSupplierContracts: seeded.largestSupplierContracts,
        exposuresPerIncident: largest.exposures,
      },
      machine: {
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        memory_gb: round(os.totalmem() / 2 ** 30),
        node: process.version,
        postgres: version,
        loadavg: os.loadavg().map((l) => round(l, 2)),
      },
      measuredAt: new Date().toISOString(),
      seconds: round((Date.now() - benchStarted) / 1000),
    });
    fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    say('\nResult                       Value        Target                    Met');
    for (const [name, value, target, met] of bench.targets)
      say(
        `${name.padEnd(28)} ${value.padEnd(12)} ${target.padEnd(25)} ${met === null ? '-' : met ? 'yes' : 'NO'}`,
      );
    printIssue18(bench.targets, say);
    if (results.nestedRead_rps !== undefined)
      say(
        `\nnestedRead ${results.nestedRead_rps} req/s vs floor ${results.floor_rps} req/s; p50 ${results.nestedRead_p50_ms} ms, p99 ${results.nestedRead_p99_ms} ms`,
      );
    say(
      `Machine load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')} (${os.cpus().length} cores)`,
    );
    say(`Written to bench/results.json (${results.seconds} s in all).`);
    if (failed.length) {
      say(`Suites that failed: ${failed.join(', ')}`);
      process.exitCode = 1;
    }
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

main()
  // Explicitly: a suite that failed may leave a socket open that would keep the process alive.
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error) => {
    process.stderr.write(`Benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
