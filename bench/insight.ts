import 'reflect-metadata';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { mintToken } from '../src/auth/jwt';
import { Viewer } from '../src/auth/viewer';
import { encodeGlobalId } from '../src/common/global-id';
import { TransactionalConnection } from '../src/db/transactional-connection';
import { ConcentrationService } from '../src/modules/concentration/concentration.service';
import { ExposureEngine } from '../src/modules/exposure/exposure.engine';
import { seedLargeRegister } from './large-register';

/**
 * simulateIncident and concentration through the API (HTTP, auth, GraphQL, the service) against their raw
 * SQL run directly on the same database in the same run: the engine's simulation statement in its read-only
 * transaction (ExposureEngine.simulate), and the concentration statement (ConcentrationService.rank, no
 * count). Alternating API and SQL runs, medians, as ratios (the machine is shared: absolute times drift).
 *
 * Hooked from bench/run.ts (`insightTimings`), and runnable alone on an already built tree:
 * `flock /tmp/bench.lock node dist/bench/insight.js [--contracts 100000] [--runs 5] [--giant-scc]` (fresh
 * database on DATABASE_URL's server, the API on port 4804). `--giant-scc` replaces the seeded supplier-level
 * links with one strongly connected component over every supplier (a ring plus three chords each: four
 * links a supplier), the case that condensing components in `concentration` is for.
 */
export interface InsightTimings {
  simulateIncident_ms: number;
  simulateSql_ms: number;
  simulateIncident_ratio: number;
  simulateIncident_exposures: number;
  concentration_ms: number;
  concentrationSql_ms: number;
  concentration_ratio: number;
}

const BENCH_ADMIN: Viewer = { subject: 'bench', role: 'admin', clientId: null };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const msSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

const FACTS = {
  startedAt: '2024-01-01T00:00:00Z',
  detectedAt: '2024-01-10T00:00:00Z',
  exfiltration: 'SUSPECTED',
};

const SIMULATE = `mutation($input: SimulateIncidentInput!) { simulateIncident(input: $input) {
  clientsExposed userErrors { message } exposures(first: 20) { edges { node { score level client { name } } } } } }`;
const CONCENTRATION = `{ concentration(first: 20) { edges { node { supplier { name } clientsReached directClients
  contracts criticalServiceShare specialCategoryClients peopleRange { low high } } } } }`;

async function post(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const started = process.hrtime.bigint();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: { simulateIncident?: { clientsExposed: number } };
    errors?: unknown[];
  };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return { ms: msSince(started), data: body.data };
}

export async function insightTimings(options: {
  url: string;
  token: string;
  db: DataSource;
  supplierId: string;
  runs: number;
}): Promise<InsightTimings> {
  const { url, token, db, supplierId, runs } = options;
  const connection = new TransactionalConnection(db);
  const engine = new ExposureEngine();
  const concentration = new ConcentrationService(connection);
  const input = {
    supplierId: encodeGlobalId('Supplier', supplierId),
    title: 'Benchmark what-if',
    kind: 'CYBER_ATTACK',
    status: 'CONFIRMED',
    ...FACTS,
  };
  const facts = {
    supplierId,
    startedAt: new Date(FACTS.startedAt),
    detectedAt: new Date(FACTS.detectedAt),
    containedAt: null,
    clientsNotifiedAt: null,
    dataCategoriesAffected: null,
    exfiltration: FACTS.exfiltration,
    shareOfDataAffected: null,
  };
  // One of each first, not counted: plans cached, graphql-jit compiled, pools filled.
  const warm = await post(url, token, SIMULATE, { input });
  await post(url, token, CONCENTRATION);
  const api = { simulate: [] as number[], concentration: [] as number[] };
  const sql = { simulate: [] as number[], concentration: [] as number[] };
  for (let run = 0; run < runs; run += 1) {
    let started = process.hrtime.bigint();
    await engine.simulate(connection, facts);
    sql.simulate.push(msSince(started));
    api.simulate.push((await post(url, token, SIMULATE, { input })).ms);
    started = process.hrtime.bigint();
    await concentration.rank(BENCH_ADMIN, null, { first: 20 });
    sql.concentration.push(msSince(started));
    api.concentration.push((await post(url, token, CONCENTRATION)).ms);
  }
  return {
    simulateIncident_ms: round(median(api.simulate)),
    simulateSql_ms: round(median(sql.simulate)),
    simulateIncident_ratio: round(median(api.simulate) / median(sql.simulate), 2),
    simulateIncident_exposures: warm.data?.simulateIncident?.clientsExposed ?? 0,
    concentration_ms: round(median(api.concentration)),
    concentrationSql_ms: round(median(sql.concentration)),
    concentration_ratio: round(median(api.concentration) / median(sql.concentration), 2),
  };
}

/** One strongly connected component over every supplier: a ring (step 1) and chords of steps 7, 61 and 397. */
async function linkEverySupplierInOneCycle(db: DataSource): Promise<void> {
  await db.query(`DELETE FROM supplier_subprocessor`);
  const [{ links }] = await db.query(
    `WITH ranked AS (SELECT id, (row_number() OVER (ORDER BY name) - 1)::int AS n, count(*) OVER ()::int AS total FROM supplier),
     inserted AS (
       INSERT INTO supplier_subprocessor (supplier_id, subprocessor_id)
       SELECT a.id, b.id FROM ranked a CROSS JOIN (VALUES (1), (7), (61), (397)) step(k)
       JOIN ranked b ON b.n = (a.n + step.k) % a.total
       WHERE a.id <> b.id
       ON CONFLICT DO NOTHING RETURNING 1
     )
     SELECT count(*)::int AS links FROM inserted`,
  );
  await db.query(`ANALYZE supplier_subprocessor`);
  process.stdout.write(`giant strongly connected component: ${links} links\n`);
}

/** Alone: a fresh database on DATABASE_URL's server, the large register, the API as a real process. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      contracts: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '5' },
      'giant-scc': { type: 'boolean', default: false },
    },
  });
  const contracts = Number(values.contracts);
  const size = {
    contracts,
    clients: Math.max(100, contracts / 10),
    suppliers: Math.max(50, contracts / 50),
  };
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL must name a PostgreSQL server');
  const server = new PgClient({ connectionString: process.env.DATABASE_URL });
  await server.connect();
  const name = `register_insight_${process.pid}`;
  await server.query(`CREATE DATABASE ${name}`);
  const databaseUrl = new URL(process.env.DATABASE_URL);
  databaseUrl.pathname = `/${name}`;
  const db = createDataSource(databaseUrl.toString(), { statementTimeoutMs: 600000 });
  const secret = 'benchmark-secret-that-is-long-enough-0123456789';
  const root = path.resolve(__dirname, '..', '..');
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
    const seeded = await seedLargeRegister(db, size, (line) => process.stdout.write(`${line}\n`));
    if (values['giant-scc']) await linkEverySupplierInOneCycle(db);
    child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl.toString(),
        JWT_SECRET: secret,
        NODE_ENV: 'production',
        RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'warn',
        DB_STATEMENT_TIMEOUT_MS: '600000',
        PORT: '4804',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const url = 'http://127.0.0.1:4804';
    for (let tries = 0; ; tries += 1) {
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (tries > 600) throw new Error('the API did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const token = await mintToken(secret, { sub: 'bench', role: 'admin' });
    const timings = await insightTimings({
      url,
      token,
      db,
      supplierId: seeded.largestSupplierId,
      runs: Number(values.runs),
    });
    process.stdout.write(
      `${JSON.stringify({ size: { ...size, agreements: seeded.agreements }, ...timings }, null, 2)}\n`,
    );
  } finally {
    child?.kill('SIGTERM');
    await db.destroy().catch(() => undefined);
    await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.end();
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
