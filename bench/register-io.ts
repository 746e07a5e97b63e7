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

/** How many times the import and COPY each run, in turns (import, COPY, import, COPY, …). */
const ROUNDS = 2;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The register exported as a workbook (streamed to a file), imported into an empty register, and the same
 * live rows loaded with PostgreSQL COPY into another empty register with the same triggers on (audit
 * included), in the same run. Targets (issue 15): import within 5× of COPY, memory under 400 MB. The two
 * run in turns, each into a fresh database, ROUNDS times, and the ratio is of the medians: timed one after
 * the other, once each, the ratio followed whichever phase of a shared machine each happened to fall in
 * (2.74 to 5.23 for the same code within ten minutes, docs/performance.md).
 */
export async function registerIoBench(source: DataSource, databaseUrl: string, say: (line: string) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-io-bench-'));
  fs.chmodSync(dir, 0o777);
  const file = path.join(dir, 'register.xlsx');
  try {
    const exported = await withPeakRss(async () => {
      const out = fs.createWriteStream(file);
      await createServices(source).registerIo.export(ADMIN, 'xlsx', out);
      await finished(out);
    });
    const bytes = fs.statSync(file).size;
    say(
      `  export: ${(bytes / 2 ** 20).toFixed(1)} MB workbook in ${exported.seconds.toFixed(1)} s (peak RSS ${exported.peakMb.toFixed(0)} MB)`,
    );

    // COPY through files the server reads itself (the bench runs as a superuser on a local server).
    let copyFiles = true;
    try {
      for (const [table, select] of COPY_TABLES)
        await source.query(`COPY (${select}) TO '${path.join(dir, `${table}.copy`)}'`);
    } catch (error) {
      copyFiles = false;
      say(`  COPY floor skipped: ${(error as Error).message}`);
    }

    const imports: { seconds: number; peakMb: number; report: ImportReport }[] = [];
    const copies: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const importTarget = await emptyRegister(databaseUrl, `register_bench_import_${process.pid}`);
      try {
        const imported = await importInItsOwnProcess(file, importTarget.url);
        const report = imported.value;
        if (report.problems.length) say(`  import refused: ${JSON.stringify(report.problems.slice(0, 3))}`);
        imports.push({ seconds: imported.seconds, peakMb: imported.peakMb, report });
        say(
          `  round ${round}: import of ${createdRows(report)} rows in ${imported.seconds.toFixed(1)} s (peak RSS ${imported.peakMb.toFixed(0)} MB)`,
        );
      } finally {
        await importTarget.drop();
      }
      if (!copyFiles) continue;
      const copyTarget = await emptyRegister(databaseUrl, `register_bench_copy_${process.pid}`);
      try {
        const started = Date.now();
        await copyTarget.db.transaction(async (manager) => {
          for (const [table] of COPY_TABLES)
            await manager.query(`COPY ${table} FROM '${path.join(dir, `${table}.copy`)}'`);
        });
        copies.push((Date.now() - started) / 1000);
        say(`  round ${round}: COPY of the same live rows, triggers on: ${copies.at(-1)!.toFixed(1)} s`);
      } finally {
        await copyTarget.drop();
      }
    }

    const importSeconds = median(imports.map((i) => i.seconds));
    const copySeconds = copies.length ? median(copies) : null;
    const peakMb = Math.max(...imports.map((i) => i.peakMb));
    const ratio = copySeconds ? importSeconds / copySeconds : null;
    say(
      `  import ÷ COPY (medians of ${ROUNDS}): ${ratio === null ? 'n/a' : ratio.toFixed(2)} (target ≤ 5); ` +
        `largest peak RSS of an import ${peakMb.toFixed(0)} MB (target < 400)`,
    );
    return {
      workbook_mb: Number((bytes / 2 ** 20).toFixed(1)),
      export_s: Number(exported.seconds.toFixed(2)),
      export_peak_rss_mb: Math.round(exported.peakMb),
      import_rows: createdRows(imports[0].report),
      import_applied: imports.every((i) => i.report.applied),
      import_s: Number(importSeconds.toFixed(2)),
      import_rounds_s: imports.map((i) => Number(i.seconds.toFixed(2))),
      import_peak_rss_mb: Math.round(peakMb),
      import_rounds_peak_rss_mb: imports.map((i) => Math.round(i.peakMb)),
      copy_s: copySeconds === null ? null : Number(copySeconds.toFixed(2)),
      copy_rounds_s: copies.map((seconds) => Number(seconds.toFixed(2))),
      import_copy_ratio: ratio === null ? null : Number(ratio.toFixed(2)),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function createdRows(report: ImportReport): number {
  return Object.values(report.counts).reduce((sum, c) => sum + c.created, 0);
}
