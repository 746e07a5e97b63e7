import fs from 'node:fs';
import path from 'node:path';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { DataSource } from 'typeorm';

/**
 * `npm run bench -- --peer`: the nested read against PostGraphile 5, the peer the issue measures us by.
 * PostGraphile and a Node 22 runtime are installed from the npm registry into bench/peer/ (its own
 * package.json and lockfile; never a dependency of the API), pointed at the benchmark's database, and
 * asked the equivalent query; its answer is checked equal to ours value by value (there are no ids in the
 * query: PostGraphile's node ids differ). Then, in alternating rounds at concurrency 8 and 32: this API on
 * Node 20 (the engines floor), this API on Node 22, and PostGraphile on Node 22, with requests per second
 * and CPU per request (server process + the database's PostgreSQL backends, from /proc).
 */
const PEER_DIR = path.resolve(__dirname, '..', '..', 'bench', 'peer');
const NODE_22 = path.join(PEER_DIR, 'node_modules', 'node', 'bin', 'node');

/** The same read in PostGraphile's schema (Amber preset): open exposures by score, live contracts by reference. */
const PEER_READ = `query PeerRead($id: UUID!) { incidentByRowId(rowId: $id) { title
  exposuresByIncidentId(first: 100, orderBy: [SCORE_DESC, ROW_ID_DESC], condition: { resolvedAt: null }) { edges { node {
    score level clientByClientId { name
      contractsByClientId(first: 5, orderBy: [REFERENCE_ASC, ROW_ID_ASC], condition: { removedAt: null }) {
        edges { node { reference supplierBySupplierId { name } } } } } } } } } }`;

/** PostGraphile's field names → ours, so the two answers can be compared as they are. */
const RENAMES: Record<string, string> = {
  incidentByRowId: 'node',
  exposuresByIncidentId: 'exposures',
  clientByClientId: 'client',
  contractsByClientId: 'contracts',
  supplierBySupplierId: 'supplier',
};

function renamed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renamed);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [RENAMES[key] ?? key, renamed(v)]));
  return value;
}

interface LoadTarget {
  name: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  pid?: number;
}

interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  serverCpuMs: number;
  postgresCpuMs: number;
}

/** What the peer suite borrows from bench/run.ts (passed in, so the two files do not import each other). */
export interface PeerTools {
  say(line: string): void;
  waitForHttp(url: string, timeoutMs?: number): Promise<void>;
  loadAlternating(
    targets: LoadTarget[],
    rounds: number,
    secondsPerRound: number,
    connections: number,
    db?: DataSource,
  ): Promise<Record<string, LoadFigures>>;
  nestedReadBody(incidentId: string): string;
  ourAnswer(incidentId: string): Promise<unknown>;
}

export interface PeerBench {
  profile: { readRounds: number; readSeconds: number };
  db: DataSource;
  databaseUrl: string;
  url: string;
  apiPid: number;
  apiEnv: Record<string, string>;
  adminToken: string;
  children: ChildProcess[];
  results: Record<string, unknown>;
  targets: [string, string, string, boolean | null][];
  largestIncident(): Promise<{ id: string; exposures: number }>;
  settleDatabase(): Promise<void>;
}

/** Installs the peer from its lockfile when it is missing or older than the lockfile. */
function installPeer(say: (line: string) => void): void {
  const marker = path.join(PEER_DIR, 'node_modules', '.package-lock.json');
  const lock = path.join(PEER_DIR, 'package-lock.json');
  if (
    fs.existsSync(NODE_22) &&
    fs.existsSync(marker) &&
    fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs
  )
    return;
  say('  installing PostGraphile 5 and Node 22 into bench/peer/ (npm ci)');
  const installed = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: PEER_DIR,
    stdio: 'inherit',
  });
  if (installed.status !== 0 || !fs.existsSync(NODE_22))
    throw new Error(`npm ci in bench/peer failed (exit ${installed.status})`);
}

function start(script: string, cwd: string, env: Record<string, string>): ChildProcess {
  return spawn(NODE_22, [script], {
    cwd,
    env: { ...process.env, GRAPHILE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves when the child prints `ready` (bench/peer/server.mjs does once its schema is built). */
function waitForReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the peer was not ready within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the peer exited with ${code}`)));
  });
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return (await response.json()) as { data?: unknown; errors?: unknown[] };
}

export async function peerSuite(bench: PeerBench, tools: PeerTools): Promise<void> {
  const { say } = tools;
  say('Peer: the nested read against PostGraphile 5 (Node 22), and this API on Node 20 and Node 22');
  installPeer(say);
  const { id: incidentId } = await bench.largestIncident();
  await bench.settleDatabase();
  const root = path.resolve(PEER_DIR, '..', '..');
  const peer = start('server.mjs', PEER_DIR, { DATABASE_URL: bench.databaseUrl, PORT: '4806' });
  const api22 = start('dist/src/main.js', root, { ...bench.apiEnv, PORT: '4807', METRICS_PORT: '4808' });
  bench.children.push(peer, api22);
  api22.stdout!.resume();
  await Promise.all([waitForReady(peer, 180000), tools.waitForHttp('http://127.0.0.1:4807/readyz', 120000)]);

  const peerBody = JSON.stringify({
    query: PEER_READ,
    variables: { id: incidentId },
    operationName: 'PeerRead',
  });
  const peerAnswer = await post('http://127.0.0.1:4806/graphql', peerBody);
  if (peerAnswer.errors) throw new Error(`PostGraphile: ${JSON.stringify(peerAnswer.errors).slice(0, 500)}`);
  const ours = await tools.ourAnswer(incidentId);
  const theirs = renamed(peerAnswer.data);
  const equal = JSON.stringify(ours) === JSON.stringify(theirs);
  say(
    `  answers ${equal ? 'equal value by value' : 'DIFFER'} (${JSON.stringify(ours).length} bytes of data)`,
  );
  if (!equal) throw new Error('PostGraphile and this API answer the nested read differently');

  const body = tools.nestedReadBody(incidentId);
  const headers = { authorization: `Bearer ${bench.adminToken}` };
  const targets: LoadTarget[] = [
    { name: 'api', url: `${bench.url}/graphql`, body, headers, pid: bench.apiPid },
    { name: 'api22', url: 'http://127.0.0.1:4807/graphql', body, headers, pid: api22.pid },
    { name: 'peer', url: 'http://127.0.0.1:4806/graphql', body: peerBody, headers: {}, pid: peer.pid },
  ];
  const figures: Record<string, unknown> = {};
  for (const connections of [8, 32]) {
    const run = await tools.loadAlternating(
      targets,
      bench.profile.readRounds,
      bench.profile.readSeconds,
      connections,
      bench.db,
    );
    for (const [name, f] of Object.entries(run))
      say(
        `  c${connections} ${name.padEnd(5)} ${f.rps.toFixed(1).padStart(6)} req/s, CPU ${f.serverCpuMs.toFixed(1)} + ${f.postgresCpuMs.toFixed(1)} = ${(f.serverCpuMs + f.postgresCpuMs).toFixed(1)} ms per request (server + PostgreSQL), p99 ${f.p99} ms`,
      );
    const cpu = (f: LoadFigures) => f.serverCpuMs + f.postgresCpuMs;
    for (const ours of ['api', 'api22']) {
      const label = ours === 'api' ? 'node20' : 'node22';
      const rpsRatio = Number((run[ours].rps / run.peer.rps).toFixed(2));
      const cpuRatio = Number((cpu(run[ours]) / cpu(run.peer)).toFixed(2));
      figures[`peer_rps_ratio_c${connections}_${label}`] = rpsRatio;
      figures[`peer_cpu_ratio_c${connections}_${label}`] = cpuRatio;
      bench.targets.push(
        [`peer_rps_ratio_c${connections}_${label}`, `${rpsRatio}`, '≥ 1.0 (× PostGraphile)', rpsRatio >= 1],
        [`peer_cpu_ratio_c${connections}_${label}`, `${cpuRatio}`, '≤ 1.0 (× PostGraphile)', cpuRatio <= 1],
      );
    }
    figures[`peer_c${connections}`] = Object.fromEntries(
      Object.entries(run).map(([name, f]) => [
        name,
        {
          rps: Number(f.rps.toFixed(1)),
          server_cpu_ms: Number(f.serverCpuMs.toFixed(2)),
          postgres_cpu_ms: Number(f.postgresCpuMs.toFixed(2)),
          p99_ms: f.p99,
        },
      ]),
    );
  }
  // Peak RSS of both instances of this API over the whole run so far (issue 18: ≤ 300 MB throughout).
  const rss = { node20: peakRssMb(bench.apiPid), node22: peakRssMb(api22.pid!) };
  say(`  peak RSS of this API: ${rss.node20} MB on Node 20, ${rss.node22} MB on Node 22`);
  for (const [label, mb] of Object.entries(rss))
    bench.targets.push([`peer_rss_mb_${label}`, `${mb}`, '≤ 300', mb <= 300]);
  Object.assign(bench.results, figures, { peer_answers_equal: equal, peer_rss_mb: rss });
}

/** A process's peak resident set so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}
