import { randomUUID } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MultiBar, Presets, SingleBar } from 'cli-progress';
import { createDataSource } from '../../ormconfig';
import { IMPORT_HEAP_GROWING_PERCENT, heapGrowingPercent } from '../config';
import { limitHeapGrowth } from '../heap-growth';
import { Viewer } from '../auth/viewer';
import { ImportReport } from '../modules/register-io/register-io.service';
import { SHEET_NAMES, SheetName } from '../modules/register-io/register-sheets';
import { createServices } from '../services';

/**
 * npm run import -- FILE [--dry-run] [--replace]: the same import as POST /imports, on the same service,
 * run as an admin named after the local user. FILE is an .xlsx workbook, a .zip of CSV files, or a folder
 * of CSV files (suppliers.csv, clients.csv, …). The report (the JSON POST /imports answers) goes to stdout,
 * a progress bar per sheet to stderr; exit status 0 when applied (or valid in a dry run), 1 with problems.
 */
export const USAGE = `Usage: npm run import -- FILE [--dry-run] [--replace]

  FILE        an .xlsx workbook, a .zip of CSV files, or a folder of CSV files (docs/import.md)
  --dry-run   check the file and say what would change; write nothing
  --replace   rows of the register missing from the file are removed (listed in the report first)

Connects to DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).`;

async function main(): Promise<number> {
  // A tighter bound on the heap's growth than the server's: most of what an import allocates is soon garbage.
  limitHeapGrowth(heapGrowingPercent(process.env, IMPORT_HEAP_GROWING_PERCENT));
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'dry-run': { type: 'boolean', default: false }, replace: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const file = path.resolve(positionals[0]);
  const info = await stat(file).catch(() => null);
  if (!info) {
    console.error(`${file}: no such file or folder\n\n${USAGE}`);
    return 2;
  }
  const db = createDataSource(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', {
    poolMax: 2,
  });
  await db.initialize();
  try {
    const services = createServices(db);
    const viewer: Viewer = { subject: `cli:${userInfo().username}`, role: 'admin', clientId: null };
    const bars = new MultiBar(
      { format: ' {sheet} [{bar}] {value}/{total} rows', clearOnComplete: false, hideCursor: true },
      Presets.shades_classic,
    );
    const bar = new Map<SheetName, SingleBar>();
    const options = {
      fileName: path.basename(file),
      dryRun: values['dry-run'] ?? false,
      mode: values.replace ? ('replace' as const) : ('merge' as const),
      requestId: randomUUID(),
      onProgress: (sheet: SheetName, done: number, total: number) => {
        if (!bar.has(sheet)) bar.set(sheet, bars.create(total, 0, { sheet: sheet.padEnd(13) }));
        bar.get(sheet)!.update(done);
      },
    };
    let report: ImportReport;
    if (info.isDirectory()) {
      const files = new Map<string, Uint8Array>();
      for (const name of await readdir(file))
        if (name.toLowerCase().endsWith('.csv')) files.set(name, await readFile(path.join(file, name)));
      report = await services.registerIo.importCsvFolder(viewer, files, options);
    } else {
      const format = file.toLowerCase().endsWith('.zip') ? 'zip' : 'xlsx';
      report = await services.registerIo.importFile(viewer, await readFile(file), format, options);
    }
    bars.stop();
    console.log(JSON.stringify(report, null, 2));
    const changed = SHEET_NAMES.map((sheet) => {
      const c = report.counts[sheet];
      return `${sheet}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.removed} removed`;
    });
    console.error(
      report.problems.length
        ? `${report.problems.length} problem(s): nothing was written.`
        : `${report.applied ? 'Applied' : 'Valid (dry run, nothing written)'}.\n  ${changed.join('\n  ')}`,
    );
    return report.problems.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
