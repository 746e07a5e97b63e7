import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { Viewer } from '../src/auth/viewer';
import { createServices } from '../src/services';
import { ImportReport } from '../src/modules/register-io/register-io.service';

const ADMIN: Viewer = { subject: 'bench', role: 'admin', clientId: null };

/** The live register, table by table, as COPY moves it (the floor: no keys to resolve, no checks in Node). */
const COPY_TABLES: [string, string][] = [
  ['supplier', `SELECT * FROM supplier WHERE removed_at IS NULL`],
  ['client', `SELECT * FROM client`],
  ['contract', `SELECT * FROM contract WHERE removed_at IS NULL`],
  [
    'data_processing_agreement',
    `SELECT a.* FROM data_processing_agreement a JOIN contract c ON c.id = a.contract_id WHERE a.removed_at IS NULL AND c.removed_at IS NULL`,
  ],
  ['supplier_subprocessor', `SELECT * FROM supplier_subprocessor`],
  [
    'agreement_subprocessor',
    `SELECT l.* FROM agreement_subprocessor l JOIN data_processing_agreement a ON a.id = l.agreement_id WHERE a.removed_at IS NULL`,
  ],
];

async function emptyRegister(
  serverUrl: string,
  name: string,
): Promise<{ db: DataSource; url: string; drop: () => Promise<void> }> {
  const server = new PgClient({ connectionString: serverUrl });
  await server.connect();
  await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await server.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDataSource(url.toString(), { statementTimeoutMs: 600000 });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  return {
    db,
    url: url.toString(),
    drop: async () => {
      await db.destroy();
      await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.end();
    },
  };
}

/** Peak resident memory of this process while `work` runs, sampled every 50 ms. */
async function withPeakRss<T>(
  work: () => Promise<T>,
): Promise<{ value: T; peakMb: number; seconds: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = Date.now();
  try {
    const value = await work();
    return {
      value,
      peakMb: Math.max(peak, process.memoryUsage().rss) / 2 ** 20,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    clearInterval(timer);
  }
}

/**
 * `npm run import -- FILE` as a user runs it, in a process of its own: its peak resident memory is the
 * kernel's high-water mark (VmHWM in /proc/<pid>/status, read until it exits), not samples of a process
 * that also exported and seeded. The time includes starting Node and connecting.
 */
async function importInItsOwnProcess(
  file: string,
  databaseUrl: string,
): Promise<{ value: ImportReport; peakMb: number; seconds: number }> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [path.resolve(__dirname, '..', 'src', 'scripts', 'import.js'), file],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  let peakKb = 0;
  const watch = setInterval(() => {
    try {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // exited
    }
  }, 20);
  const [code] = (await once(child, 'exit')) as [number];
  clearInterval(watch);
  if (code !== 0 && code !== 1) throw new Error(`npm run import exited with ${code}`);
  return { value: JSON.parse(stdout), peakMb: peakKb / 1024, seconds: (Date.now() - started) / 1000 };
}

/**
 * The register exported as a workbook (streamed to a file), imported into an empty register, and the same
 * live rows loaded with PostgreSQL COPY into another empty register with the same triggers on (audit
 * included), in the same run. Targets (issue 15): import within 5× of COPY, memory under 400 MB.
 */
export async function registerIoBench(source: DataSource, databaseUrl: string, say: (line: string) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-io-bench-'));
  fs.chmodSync(dir, 0o777);
  const file = path.join(dir, 'register.xlsx');
  const exported = await withPeakRss(async () => {
    const out = fs.createWriteStream(file);
    await createServices(source).registerIo.export(ADMIN, 'xlsx', out);
    await finished(out);
  });
  const bytes = fs.statSync(file).size;
  say(
    `  export: ${(bytes / 2 ** 20).toFixed(1)} MB workbook in ${exported.seconds.toFixed(1)} s (peak RSS ${exported.peakMb.toFixed(0)} MB)`,
  );

  const importTarget = await emptyRegister(databaseUrl, `register_bench_import_${process.pid}`);
  const copyTarget = await emptyRegister(databaseUrl, `register_bench_copy_${process.pid}`);
  try {
    const imported = await importInItsOwnProcess(file, importTarget.url);
    const report = imported.value;
    const rows = Object.values(report.counts).reduce((sum, c) => sum + c.created, 0);
    if (report.problems.length) say(`  import refused: ${JSON.stringify(report.problems.slice(0, 3))}`);
    say(
      `  import: ${rows} rows in ${imported.seconds.toFixed(1)} s (peak RSS ${imported.peakMb.toFixed(0)} MB)`,
    );

    // COPY through files the server reads itself (the bench runs as a superuser on a local server).
    let copySeconds: number | null = null;
    try {
      for (const [table, select] of COPY_TABLES) {
        const csv = path.join(dir, `${table}.copy`);
        await source.query(`COPY (${select}) TO '${csv}'`);
      }
      const started = Date.now();
      await copyTarget.db.transaction(async (manager) => {
        for (const [table] of COPY_TABLES)
          await manager.query(`COPY ${table} FROM '${path.join(dir, `${table}.copy`)}'`);
      });
      copySeconds = (Date.now() - started) / 1000;
      say(`  COPY of the same live rows, triggers on: ${copySeconds.toFixed(1)} s`);
    } catch (error) {
      say(`  COPY floor skipped: ${(error as Error).message}`);
    }
    return {
      workbook_mb: Number((bytes / 2 ** 20).toFixed(1)),
      export_s: Number(exported.seconds.toFixed(2)),
      export_peak_rss_mb: Math.round(exported.peakMb),
      import_rows: rows,
      import_applied: report.applied,
      import_s: Number(imported.seconds.toFixed(2)),
      import_peak_rss_mb: Math.round(imported.peakMb),
      copy_s: copySeconds === null ? null : Number(copySeconds.toFixed(2)),
      import_copy_ratio: copySeconds ? Number((imported.seconds / copySeconds).toFixed(2)) : null,
    };
  } finally {
    await importTarget.drop();
    await copyTarget.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
