import { DataSource } from 'typeorm';
import { decodeIdOf, encodeGlobalId } from '../src/common/global-id';

/**
 * Issue 18, targets 3 and 4 (the lock): the write against its physical floor, and what a register write for
 * a client the incident does not reach waits while a large incident is being computed.
 *
 * Floor: recordIncident at the largest supplier writes N exposures, N revisions and N alerts. After one
 * recordIncident through the API, its rows are copied into three plain (logged) tables with no index
 * (write_floor_*: the "prepared" rows, read sequentially). The floor then inserts the same rows into the
 * real tables (exposure, exposure_revision, exposure_alert: the same definitions, the same indexes, the
 * same foreign keys and triggers, at the same size, growing alike) with one statement of three
 * INSERT … SELECT, for a new incident (CLOSED, so no register write recomputes it), and commits: timed
 * from the incident's insert to the commit. recordIncident runs and floor runs alternate; the ratio is of
 * their medians.
 *
 * Wait: the contract of a client with no exposure to the largest supplier's incident is updated (its
 * criticality toggled) through the API, alone (baseline) and 300 ms after a recordIncident at the largest
 * supplier was sent (while it computes). Reported: the update's latency in both cases, and how long the
 * incident still ran after the update was sent, which is what the update waited before the engine's lock
 * was narrowed (every recompute held one global lock for its whole statement).
 */
export interface WriteFloorFigures {
  exposures: number;
  recordIncident_ms: number;
  writeFloor_ms: number;
  writeFloor_ratio: number;
  unrelatedUpdate_alone_ms: number;
  unrelatedUpdate_duringIncident_ms: number;
  incidentRunningAfterUpdateSent_ms: number;
}

export interface WriteFloorOptions {
  db: DataSource;
  url: string;
  adminToken: string;
  supplierId: string;
  runs: number;
  say: (line: string) => void;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number) => Number(value.toFixed(1));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a GraphQL answer, read field by field
  const body = (await response.json()) as { data: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data;
}

/** recordIncident at the supplier through the API: its id and wall time (HTTP to answer, after commit). */
async function recordIncident(
  options: WriteFloorOptions,
): Promise<{ id: string; ms: number; endedAt: number }> {
  const started = performance.now();
  const data = await gql(
    options.url,
    options.adminToken,
    `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id } userErrors { message } } }`,
    {
      input: {
        supplierId: encodeGlobalId('Supplier', options.supplierId),
        title: 'Benchmark incident',
        kind: 'CYBER_ATTACK',
        status: 'CONFIRMED',
        startedAt: '2024-01-01T00:00:00Z',
        detectedAt: '2024-01-10T00:00:00Z',
        exfiltration: 'SUSPECTED',
      },
    },
  );
  if (data.recordIncident.userErrors.length) throw new Error(JSON.stringify(data.recordIncident.userErrors));
  const endedAt = performance.now();
  const id = decodeIdOf('Incident', data.recordIncident.incident.id)!;
  return { id, ms: endedAt - started, endedAt };
}

/** The columns of `table` except `excluded`, quoted, in table order. */
async function columnsOf(db: DataSource, table: string, excluded: string[]): Promise<string[]> {
  const rows: { name: string }[] = await db.query(
    `SELECT column_name AS name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 AND NOT column_name = ANY($2::text[])
     ORDER BY ordinal_position`,
    [table, excluded],
  );
  return rows.map((r) => `"${r.name}"`);
}

/** Copies incident `id`'s rows into the prepared tables and returns the floor's one statement. */
async function prepareFloor(db: DataSource, incidentId: string): Promise<string> {
  await db.query(`DROP TABLE IF EXISTS write_floor_exposure, write_floor_revision, write_floor_alert`);
  await db.query(`CREATE TABLE write_floor_exposure AS SELECT * FROM exposure WHERE incident_id = $1`, [
    incidentId,
  ]);
  await db.query(
    `CREATE TABLE write_floor_revision AS SELECT r.* FROM exposure_revision r JOIN write_floor_exposure e ON e.id = r.exposure_id`,
  );
  await db.query(
    `CREATE TABLE write_floor_alert AS SELECT a.* FROM exposure_alert a JOIN write_floor_exposure e ON e.id = a.exposure_id`,
  );
  await db.query(`ANALYZE write_floor_exposure, write_floor_revision, write_floor_alert`);
  const exposure = await columnsOf(db, 'exposure', ['id', 'incident_id']);
  const revision = await columnsOf(db, 'exposure_revision', ['id', 'exposure_id']);
  const alert = await columnsOf(db, 'exposure_alert', ['id', 'exposure_id', 'incident_id', 'client_seq']);
  const from = (alias: string, columns: string[]) => columns.map((c) => `${alias}.${c}`).join(', ');
  // $1 the new incident; $2 added to the prepared client_seq, so the (client, number) key stays unique.
  return `
    WITH ex AS (
      INSERT INTO exposure (incident_id, ${exposure.join(', ')})
      SELECT $1, ${from('p', exposure)} FROM write_floor_exposure p
      RETURNING id, client_id
    ),
    rev AS (
      INSERT INTO exposure_revision (exposure_id, ${revision.join(', ')})
      SELECT ex.id, ${from('p', revision)}
      FROM write_floor_revision p JOIN write_floor_exposure pe ON pe.id = p.exposure_id JOIN ex ON ex.client_id = pe.client_id
    )
    INSERT INTO exposure_alert (exposure_id, incident_id, client_seq, ${alert.join(', ')})
    SELECT ex.id, $1, p.client_seq + $2::bigint, ${from('p', alert)}
    FROM write_floor_alert p JOIN write_floor_exposure pe ON pe.id = p.exposure_id JOIN ex ON ex.client_id = pe.client_id`;
}

/** One floor run: a new (CLOSED) incident, the three INSERT … SELECT in one statement, commit. */
async function floorOnce(db: DataSource, sql: string, supplierId: string, run: number): Promise<number> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const started = performance.now();
    await runner.startTransaction();
    const [{ id }] = await runner.query(
      `INSERT INTO incident (supplier_id, title, kind, status, started_at, detected_at, exfiltration)
       VALUES ($1, 'Write floor', 'CYBER_ATTACK', 'CLOSED', '2024-01-01', '2024-01-10', 'SUSPECTED') RETURNING id`,
      [supplierId],
    );
    await runner.query(sql, [id, String(1_000_000_000 * (run + 1))]);
    await runner.commitTransaction();
    return performance.now() - started;
  } finally {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    await runner.release();
  }
}

/** Toggles the criticality of `contractId` through the API: its wall time. */
async function updateContract(
  options: WriteFloorOptions,
  contractId: string,
  flip: boolean,
): Promise<number> {
  const started = performance.now();
  const data = await gql(
    options.url,
    options.adminToken,
    `mutation($input: UpdateContractInput!) { updateContract(input: $input) { userErrors { message } } }`,
    { input: { id: encodeGlobalId('Contract', contractId), criticality: flip ? 'IMPORTANT' : 'STANDARD' } },
  );
  if (data.updateContract.userErrors.length) throw new Error(JSON.stringify(data.updateContract.userErrors));
  return performance.now() - started;
}

export async function writeFloor(options: WriteFloorOptions): Promise<WriteFloorFigures> {
  const { db, say } = options;
  const first = await recordIncident(options);
  const sql = await prepareFloor(db, first.id);
  const [{ exposures }] = await db.query(`SELECT count(*)::int AS exposures FROM write_floor_exposure`);
  say(`  write floor: ${exposures} exposures, revisions and alerts per incident, ${options.runs} runs each`);
  const apiTimes: number[] = [];
  const floorTimes: number[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    floorTimes.push(await floorOnce(db, sql, options.supplierId, run));
    apiTimes.push((await recordIncident(options)).ms);
  }

  // A live contract of a client the largest supplier's incidents do not reach.
  const [unrelated]: { id: string }[] = await db.query(
    `SELECT c.id FROM contract c
     WHERE c.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM exposure e WHERE e.incident_id = $1 AND e.client_id = c.client_id)
     ORDER BY c.id LIMIT 1`,
    [first.id],
  );
  const alone: number[] = [];
  const during: number[] = [];
  const stillRunning: number[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    alone.push(await updateContract(options, unrelated.id, run % 2 === 0));
    const incident = recordIncident(options);
    await sleep(300);
    const sentAt = performance.now();
    during.push(await updateContract(options, unrelated.id, run % 2 === 1));
    stillRunning.push((await incident).endedAt - sentAt);
  }
  await db.query(`DROP TABLE write_floor_exposure, write_floor_revision, write_floor_alert`);
  const figures: WriteFloorFigures = {
    exposures,
    recordIncident_ms: round(median(apiTimes)),
    writeFloor_ms: round(median(floorTimes)),
    writeFloor_ratio: Number((median(apiTimes) / median(floorTimes)).toFixed(2)),
    unrelatedUpdate_alone_ms: round(median(alone)),
    unrelatedUpdate_duringIncident_ms: round(median(during)),
    incidentRunningAfterUpdateSent_ms: round(median(stillRunning)),
  };
  say(
    `  recordIncident ${figures.recordIncident_ms} ms, floor ${figures.writeFloor_ms} ms (medians): ratio ${figures.writeFloor_ratio} (target ≤ 1.5: ${figures.writeFloor_ratio <= 1.5 ? 'met' : 'NOT met'})`,
  );
  say(
    `  unrelated client's contract update: ${figures.unrelatedUpdate_alone_ms} ms alone, ${figures.unrelatedUpdate_duringIncident_ms} ms while an incident computes (target ≤ 1000: ${figures.unrelatedUpdate_duringIncident_ms <= 1000 ? 'met' : 'NOT met'}); the incident ran ${figures.incidentRunningAfterUpdateSent_ms} ms more after the update was sent`,
  );
  return figures;
}
