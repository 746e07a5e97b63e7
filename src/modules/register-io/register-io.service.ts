import { refreshObligationClocks } from '../obligation/obligation.clock';
import { Writable } from 'node:stream';
import { Viewer, requireRole } from '../../auth/viewer';
import { TransactionalConnection } from '../../db/transactional-connection';
import { REGISTER_TABLES } from '../../common/mutation';
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
  ProblemList,
  Removal,
  SheetReader,
  applyPlan,
  emptyCounts,
  listProblems,
  planImport,
} from './register-io.import';
import { SheetName } from './register-sheets';
import { ImportJob, ImportJobStatus } from './import-job.type';

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
  /** Once the file is checked: how many rows there are to write (a dry run: rows checked). */
  onPlanned?: (rows: number) => void;
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JOB_HEARTBEAT_MS = 1000;
/** A RUNNING job not heard of for this long lost its instance (it rolled back with it): shown as FAILED. */
const JOB_LOST_AFTER_MS = 60_000;

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

  /**
   * Opens a file in either format, its sheets to be read as the import asks for them; a refusal (empty, not a
   * workbook, a zip bomb) is a report.
   */
  read(data: Uint8Array, format: FileFormat): AsyncIterable<ReadSheet> | ImportProblem {
    try {
      return readRegisterFile(data, format, this.options.unpack);
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
    return this.importSheets(viewer, readCsvFiles(files), options);
  }

  /**
   * A large file: recorded as a RUNNING job and imported after the caller has its jobId (importJob(id) in
   * GraphQL follows it). The work is the same importFile; the job row only carries progress and the report.
   */
  async startJob(
    viewer: Viewer,
    data: Uint8Array,
    format: FileFormat,
    options: ImportOptions,
  ): Promise<string> {
    requireRole(viewer, 'admin');
    const [{ id }] = await this.connection.manager.query(
      `INSERT INTO import_job (status, file_name, dry_run, mode, created_by) VALUES ('RUNNING', $1, $2, $3, $4) RETURNING id`,
      [options.fileName, options.dryRun, options.mode, viewer.subject],
    );
    void this.runJob(viewer, id, data, format, options);
    return id;
  }

  private async runJob(
    viewer: Viewer,
    id: string,
    data: Uint8Array,
    format: FileFormat,
    options: ImportOptions,
  ): Promise<void> {
    const done = new Map<SheetName, number>();
    let total: number | null = null;
    let written = -1;
    const save = async () => {
      const rows = [...done.values()].reduce((sum, n) => sum + n, 0);
      if (rows === written) {
        await this.connection.manager.query(`UPDATE import_job SET updated_at = now() WHERE id = $1`, [id]);
        return;
      }
      written = rows;
      await this.connection.manager.query(
        `UPDATE import_job SET rows_done = $2, rows_total = $3, updated_at = now() WHERE id = $1`,
        [id, rows, total],
      );
    };
    // Progress goes to the job row at most once a second (and says the job is alive); never per row.
    const heartbeat = setInterval(() => void save().catch(() => undefined), JOB_HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const report = await this.importFile(viewer, data, format, {
        ...options,
        onPlanned: (rows) => {
          total = rows;
        },
        onProgress: (sheet, sheetDone) => {
          done.set(sheet, sheetDone);
        },
      });
      clearInterval(heartbeat);
      await this.connection.manager.query(
        `UPDATE import_job SET status = $2, report = $3, rows_total = $4, rows_done = $4, finished_at = now(), updated_at = now() WHERE id = $1`,
        [id, report.problems.length ? 'REFUSED' : 'SUCCEEDED', JSON.stringify(report), total ?? 0],
      );
    } catch (error) {
      clearInterval(heartbeat);
      await this.connection.manager
        .query(
          `UPDATE import_job SET status = 'FAILED', error = $2, finished_at = now(), updated_at = now() WHERE id = $1`,
          [id, `The import failed and wrote nothing: ${(error as Error).message}`],
        )
        .catch(() => undefined);
    }
  }

  /** An import job, admin only; an id that is not one answers null. */
  async job(viewer: Viewer, id: string): Promise<ImportJob | null> {
    requireRole(viewer, 'admin');
    if (!UUID.test(id)) return null;
    const [row] = await this.connection.manager.query(
      `SELECT *, updated_at < now() - make_interval(secs => $2::int / 1000.0) AS lost FROM import_job WHERE id = $1`,
      [id, JOB_LOST_AFTER_MS],
    );
    if (!row) return null;
    const lost = row.status === 'RUNNING' && row.lost;
    const report = row.report as ImportReport | null;
    return {
      id: row.id,
      status: lost ? ImportJobStatus.FAILED : row.status,
      fileName: row.file_name,
      dryRun: row.dry_run,
      mode: row.mode,
      rowsDone: row.rows_done,
      rowsTotal: row.rows_total,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      error: lost
        ? 'The instance running this import stopped before it finished; nothing was written'
        : row.error,
      report: report && {
        ...report,
        counts: Object.entries(report.counts).map(([sheet, counts]) => ({ sheet, ...counts })),
      },
    };
  }

  async importFile(
    viewer: Viewer,
    data: Uint8Array,
    format: FileFormat,
    options: ImportOptions,
  ): Promise<ImportReport> {
    requireRole(viewer, 'admin');
    return this.importSheets(viewer, this.read(data, format), options);
  }

  /**
   * Reads the sheets as it plans (one pass over the file, no sheet held whole), inside the import's
   * transaction: the planner keeps what the register will hold, the reader only the problems.
   */
  async importSheets(
    viewer: Viewer,
    sheets: AsyncIterable<ReadSheet> | ImportProblem,
    options: ImportOptions,
  ): Promise<ImportReport> {
    requireRole(viewer, 'admin');
    const refused = (problems: ImportProblem[]): ImportReport => ({
      dryRun: options.dryRun,
      applied: false,
      counts: emptyCounts(),
      problems,
      removed: [],
    });
    if (!(Symbol.asyncIterator in sheets)) return refused([sheets]);
    const file = sheets;
    try {
      return await this.connection.transaction(async (manager) => {
        if (options.dryRun) await manager.query(`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
        // The plan is made against the register as it is: no other write may change it until this commits
        // (reads go on; the exposure engine's lock comes later, for the recomputation). Not EXCLUSIVE: the
        // foreign keys of exposures a recomputation adds under the engine's lock take ROW SHARE on the client
        // table (test (t)). A mutation's row lock comes after its table's write lock (lockForUpdate), so
        // no row this import writes is held by a mutation that still has to wait for these locks (test (r)).
        else await manager.query(`LOCK TABLE ${REGISTER_TABLES.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
        // No JIT for this transaction: the planner's and writer's statements over a large file pass
        // jit_above_cost, and PostgreSQL compiled each of them before running it, as it did the exposure
        // engine's (docs/performance.md, "The import against COPY, in turns").
        await manager.query(`SELECT set_config('jit', 'off', true)`);
        const reader = new SheetReader(file);
        let planned: Awaited<ReturnType<typeof planImport>>;
        try {
          planned = await planImport(
            manager,
            (sheet) => reader.rowsOf(sheet),
            options.mode,
            (sheet, done, total) => (options.dryRun ? options.onProgress?.(sheet, done, total) : undefined),
            !options.dryRun,
          );
          await reader.finish();
        } catch (error) {
          if (error instanceof FileRefused) throw new RolledBack(refused([error.problem]));
          throw error;
        }
        const structure = reader.problems;
        if (reader.rows === 0 && structure.every((list) => list.count === 0))
          throw new RolledBack(
            refused([
              {
                sheet: null,
                row: null,
                column: null,
                value: null,
                message: 'The file holds no rows: nothing to import',
              },
            ]),
          );
        const lists: ProblemList[] = [...structure, planned.problems];
        const problems = listProblems(lists);
        const report: ImportReport = {
          dryRun: options.dryRun,
          applied: false,
          counts: planned.counts,
          problems,
          removed: planned.removals,
        };
        if (problems.length) throw new RolledBack(report);
        if (options.dryRun) options.onPlanned?.(planned.rows);
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
        options.onPlanned?.(
          Object.values(planned.counts).reduce((sum, c) => sum + c.created + c.updated + c.removed, 0),
        );
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
        if (planned.plan.touchedClients === null || planned.plan.touchedClients.length) {
          await this.exposure.recomputeOpenIncidents(manager, planned.plan.touchedClients);
          // A client's sector, country or regimes decide which clocks run, and a recompute that changed no
          // exposure leaves its stored clock alone: refresh the touched clients' clocks, as updateClient does.
          const exposures: { id: string }[] = await manager.query(
            planned.plan.touchedClients === null
              ? `SELECT id FROM exposure`
              : `SELECT id FROM exposure WHERE client_id = ANY($1::uuid[])`,
            planned.plan.touchedClients === null ? [] : [planned.plan.touchedClients],
          );
          await refreshObligationClocks(
            manager,
            exposures.map((e) => e.id),
            new Date(),
          );
        }
        return { ...report, applied: true };
      });
    } catch (error) {
      if (error instanceof RolledBack) return error.report;
      throw error;
    }
  }
}
