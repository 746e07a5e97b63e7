import { Writable } from 'node:stream';
import { Viewer, requireRole } from '../../auth/viewer';
import { TransactionalConnection } from '../../db/transactional-connection';
import { ExposureEngine } from '../exposure/exposure.engine';
import { exportRegister } from './register-io.export';
import {
  FileFormat,
  FileRefused,
  ImportProblem,
  UnpackLimits,
  readCsvFiles,
  readRegisterFile,
  ReadSheet,
  writeCsvZip,
  writeXlsx,
} from './register-io.formats';
import {
  Counts,
  ImportMode,
  Removal,
  applyPlan,
  checkStructure,
  emptyCounts,
  planImport,
} from './register-io.import';
import { SheetName } from './register-sheets';

/** The answer of an import, the same over HTTP and from the command line. */
export interface ImportReport {
  dryRun: boolean;
  applied: boolean;
  counts: Counts;
  problems: ImportProblem[];
  /** mode=replace: what is (or, in a dry run, would be) removed, by natural key. */
  removed: Removal[];
}

export interface ImportOptions {
  fileName: string;
  dryRun: boolean;
  mode: ImportMode;
  /** Stamped on the audit rows with the viewer (HTTP: the request's id; CLI: a generated one). */
  requestId: string;
  /** Rows checked (dry run) or written, per sheet, as the work goes. */
  onProgress?: (sheet: SheetName, done: number, total: number) => void;
}

export const DEFAULT_UNPACK_LIMITS: UnpackLimits = { maxUnpackedBytes: 300 * 1024 * 1024, maxEntries: 1000 };

export interface RegisterIoOptions {
  /** IMPORT_MAX_BYTES: the largest file accepted. */
  maxBytes: number;
  unpack: UnpackLimits;
  /** IMPORT_JOB_THRESHOLD_BYTES: larger files are imported as a job. */
  jobThresholdBytes: number;
}

export const DEFAULT_REGISTER_IO_OPTIONS: RegisterIoOptions = {
  maxBytes: 50 * 1024 * 1024,
  unpack: DEFAULT_UNPACK_LIMITS,
  jobThresholdBytes: 2 * 1024 * 1024,
};

export function registerIoOptions(config: {
  importMaxBytes: number;
  importMaxUnpackedBytes: number;
  importJobThresholdBytes: number;
}): RegisterIoOptions {
  return {
    maxBytes: config.importMaxBytes,
    unpack: { maxUnpackedBytes: config.importMaxUnpackedBytes, maxEntries: DEFAULT_UNPACK_LIMITS.maxEntries },
    jobThresholdBytes: config.importJobThresholdBytes,
  };
}

/** Problems are listed up to this many (they are all counted in the message of the last one). */
const MAX_PROBLEMS_SHOWN = 1000;

/** Thrown inside the transaction to roll it back with the report that says why. */
class RolledBack extends Error {
  constructor(readonly report: ImportReport) {
    super('import rolled back');
  }
}

/**
 * The register from and to spreadsheets (docs/import.md): export streams what the viewer may see; import
 * checks a whole file against the register and writes it all or nothing in one transaction, then
 * recomputes the exposures of open incidents once, for the clients touched.
 */
export class RegisterIoService {
  constructor(
    private readonly connection: TransactionalConnection,
    /** Recomputes, once at the end of an import's transaction, the exposures the import can move. */
    private readonly exposure: ExposureEngine,
    readonly options: RegisterIoOptions = DEFAULT_REGISTER_IO_OPTIONS,
  ) {}

  /** Writes the viewer's register to `out` in the format asked for, streamed. */
  async export(viewer: Viewer, format: FileFormat, out: Writable): Promise<void> {
    const write = format === 'xlsx' ? writeXlsx : writeCsvZip;
    await write(out, (writer) => exportRegister((work) => this.connection.transaction(work), viewer, writer));
  }

  /** Reads a file in either format into sheets; a refusal (empty, not a workbook, a zip bomb) is a report. */
  async read(data: Uint8Array, format: FileFormat): Promise<ReadSheet[] | ImportProblem> {
    try {
      return await readRegisterFile(data, format, this.options.unpack);
    } catch (error) {
      if (error instanceof FileRefused) return error.problem;
      throw error;
    }
  }

  /** Imports CSV files read from a folder (the command line's third format). */
  importCsvFolder(
    viewer: Viewer,
    files: Map<string, Uint8Array>,
    options: ImportOptions,
  ): Promise<ImportReport> {
    let sheets: ReadSheet[] | ImportProblem;
    try {
      sheets = readCsvFiles(files);
    } catch (error) {
      if (!(error instanceof FileRefused)) throw error;
      sheets = error.problem;
    }
    return this.importSheets(viewer, sheets, options);
  }

  async startJob(
    viewer: Viewer,
    data: Uint8Array,
    format: FileFormat,
    options: ImportOptions,
  ): Promise<string> {
    void [viewer, data, format, options];
    throw new Error('not yet');
  }

  async importFile(
    viewer: Viewer,
    data: Uint8Array,
    format: FileFormat,
    options: ImportOptions,
  ): Promise<ImportReport> {
    requireRole(viewer, 'admin');
    return this.importSheets(viewer, await this.read(data, format), options);
  }

  async importSheets(
    viewer: Viewer,
    sheets: ReadSheet[] | ImportProblem,
    options: ImportOptions,
  ): Promise<ImportReport> {
    requireRole(viewer, 'admin');
    const refused = (problems: ImportProblem[]): ImportReport => ({
      dryRun: options.dryRun,
      applied: false,
      counts: emptyCounts(),
      problems: capped(problems),
      removed: [],
    });
    if (!Array.isArray(sheets)) return refused([sheets]);
    const structure = checkStructure(sheets);
    if (sheets.every((sheet) => sheet.rows.length === 0) && structure.problems.length === 0)
      return refused([
        {
          sheet: null,
          row: null,
          column: null,
          value: null,
          message: 'The file holds no rows: nothing to import',
        },
      ]);
    try {
      return await this.connection.transaction(async (manager) => {
        if (options.dryRun) await manager.query(`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
        // The plan is made against the register as it is: no other write may change it until this commits
        // (reads go on; the exposure engine's lock comes later, for the recomputation).
        else
          await manager.query(
            `LOCK TABLE supplier, client, contract, data_processing_agreement, supplier_subprocessor, agreement_subprocessor IN SHARE ROW EXCLUSIVE MODE`,
          );
        const planned = await planImport(manager, structure.rows, options.mode, (sheet, done, total) =>
          options.dryRun ? options.onProgress?.(sheet, done, total) : undefined,
        );
        const problems = [...structure.problems, ...planned.problems];
        const report: ImportReport = {
          dryRun: options.dryRun,
          applied: false,
          counts: planned.counts,
          problems: capped(problems),
          removed: planned.removals,
        };
        if (problems.length) throw new RolledBack(report);
        if (options.dryRun || !planned.plan.changed) return { ...report, applied: !options.dryRun };
        // One operation in the audit trail: every row this transaction writes carries the file name and counts.
        await manager.query(`SELECT set_config('app.audit', $1, true)`, [
          JSON.stringify({
            subject: viewer.subject,
            role: viewer.role,
            clientId: viewer.clientId,
            operation: 'importRegister',
            input: { fileName: options.fileName, mode: options.mode, counts: planned.counts },
            requestId: options.requestId,
          }),
        ]);
        const totals = Object.fromEntries(
          Object.entries(planned.counts).map(([sheet, c]) => [sheet, c.created + c.updated + c.removed]),
        ) as Record<SheetName, number>;
        const done = Object.fromEntries(Object.keys(totals).map((sheet) => [sheet, 0])) as Record<
          SheetName,
          number
        >;
        await applyPlan(manager, planned.plan, (sheet, n) => {
          done[sheet] += n;
          options.onProgress?.(sheet, Math.min(done[sheet], totals[sheet]), totals[sheet]);
        });
        // Rule 7, once for the whole file: the open incidents, for the clients the file touched.
        if (planned.plan.touchedClients === null || planned.plan.touchedClients.length)
          await this.exposure.recomputeOpenIncidents(manager, planned.plan.touchedClients);
        return { ...report, applied: true };
      });
    } catch (error) {
      if (error instanceof RolledBack) return error.report;
      throw error;
    }
  }
}

function capped(problems: ImportProblem[]): ImportProblem[] {
  if (problems.length <= MAX_PROBLEMS_SHOWN) return problems;
  return [
    ...problems.slice(0, MAX_PROBLEMS_SHOWN),
    {
      sheet: null,
      row: null,
      column: null,
      value: null,
      message: `${problems.length - MAX_PROBLEMS_SHOWN} more problems are not listed: fix these and import again`,
    },
  ];
}
