import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { Unzip, UnzipInflate, UnzipPassThrough, Zip, ZipDeflate, zipSync } from 'fflate';
import { CellValue, SheetWriter } from './register-io.export';
import { SHEETS, SheetName } from './register-sheets';

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const ZIP_CONTENT_TYPE = 'application/zip';
export type FileFormat = 'xlsx' | 'zip';

/** One thing wrong with the file: where (sheet, row, column), the value found, and what to do about it. */
export interface ImportProblem {
  sheet: string | null;
  row: number | null;
  column: string | null;
  value: string | null;
  message: string;
}

/** A file refused before any row is read (empty, not a workbook, too big once unpacked). */
export class FileRefused extends Error {
  constructor(readonly problem: ImportProblem) {
    super(problem.message);
  }
}

const refuse = (message: string): FileRefused =>
  new FileRefused({ sheet: null, row: null, column: null, value: null, message });

/** The rows of one sheet as read: the header, then each row with its number in the sheet (header = 1). */
export interface ReadSheet {
  name: string;
  header: string[];
  rows: { row: number; cells: CellValue[] }[];
}

export interface UnpackLimits {
  /** Bytes all entries may unpack to together: an xlsx is a zip, and a small one can unpack to gigabytes. */
  maxUnpackedBytes: number;
  maxEntries: number;
}

/** Waits for the stream to take more when its buffer is full: a slow receiver holds the export back. */
async function drained(out: Writable): Promise<void> {
  if (out.writableNeedDrain) await once(out, 'drain');
}

// ---------------------------------------------------------------------------------------------- writing

/** The workbook, streamed: exceljs's WorkbookWriter commits each row as it is added (nothing is kept). */
export async function writeXlsx(
  out: Writable,
  produce: (writer: SheetWriter) => Promise<void>,
): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  await produce({
    async sheet(name, batches) {
      const worksheet = workbook.addWorksheet(name);
      worksheet.columns = SHEETS[name].map((column) => ({
        header: column.name,
        key: column.name,
        width: Math.max(12, column.name.length + 2),
        ...(column.type === 'date' ? { style: { numFmt: 'yyyy-mm-dd' } } : {}),
        ...(column.type === 'money' ? { style: { numFmt: '0.00' } } : {}),
      }));
      const formatted: [number, string][] = SHEETS[name].flatMap((column, index): [number, string][] =>
        column.type === 'date'
          ? [[index + 1, 'yyyy-mm-dd']]
          : column.type === 'money'
            ? [[index + 1, '0.00']]
            : [],
      );
      for await (const rows of batches) {
        for (const values of rows) {
          const row = worksheet.addRow(values);
          for (const [position, numFmt] of formatted)
            if (values[position - 1] !== null) row.getCell(position).numFmt = numFmt;
          row.commit();
        }
        await drained(out);
      }
      worksheet.commit();
    },
  });
  await workbook.commit();
}

const csvCell = (value: CellValue): string =>
  value === null ? '' : value instanceof Date ? value.toISOString().slice(0, 10) : String(value);

/** One CSV file per sheet (`suppliers.csv`, …) in a zip, deflated and written as the rows come (fflate). */
export async function writeCsvZip(
  out: Writable,
  produce: (writer: SheetWriter) => Promise<void>,
): Promise<void> {
  let failure: Error | null = null;
  const zip = new Zip((error, chunk, final) => {
    if (error) failure = error;
    else out.write(chunk);
    if (final) out.end();
  });
  await produce({
    async sheet(name, batches) {
      const file = new ZipDeflate(`${name}.csv`, { level: 6 });
      zip.add(file);
      file.push(Buffer.from(stringify([SHEETS[name].map((column) => column.name)])), false);
      for await (const rows of batches) {
        file.push(Buffer.from(stringify(rows.map((row) => row.map(csvCell)))), false);
        if (failure) throw failure;
        await drained(out);
      }
      file.push(new Uint8Array(0), true);
    },
  });
  zip.end();
  if (failure) throw failure;
}

// ---------------------------------------------------------------------------------------------- reading

/**
 * Unpacks a zip with every entry's real size counted as it inflates (sizes in the headers can lie), and
 * refuses it the moment the total passes the limit: a zip bomb costs at most that many bytes of work. Only
 * the entries `keep` asks for are held; the others are inflated only to be measured.
 */
export function unpackZip(
  data: Uint8Array,
  limits: UnpackLimits,
  keep: (name: string) => boolean,
): { names: string[]; kept: Map<string, Uint8Array> } {
  if (data.length < 4 || data[0] !== 0x50 || data[1] !== 0x4b || data[2] !== 0x03 || data[3] !== 0x04)
    throw refuse(
      'This is not a workbook: an .xlsx file (or a zip of CSV files) is a zip archive, and this file is not one',
    );
  const names: string[] = [];
  const kept = new Map<string, Uint8Array>();
  let unpacked = 0;
  let declared = 0;
  let tooBig = false;
  let broken: Error | null = null;
  const unzip = new Unzip((file) => {
    names.push(file.name);
    if (names.length > limits.maxEntries || tooBig) {
      tooBig = true;
      return;
    }
    // Honest headers give the sizes before a byte is inflated: refuse at once. Lying ones are caught below.
    declared += file.originalSize ?? 0;
    if (declared > limits.maxUnpackedBytes) {
      tooBig = true;
      return;
    }
    const chunks: Uint8Array[] = [];
    const holding = keep(file.name);
    file.ondata = (error, chunk, final) => {
      if (error) {
        broken = error;
        return;
      }
      unpacked += chunk.length;
      if (unpacked > limits.maxUnpackedBytes) {
        tooBig = true;
        file.terminate();
        return;
      }
      if (holding) chunks.push(chunk);
      if (final && holding) kept.set(file.name, Buffer.concat(chunks));
    };
    try {
      file.start();
    } catch (error) {
      broken = error as Error;
    }
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  try {
    unzip.push(data, true);
  } catch (error) {
    broken = error as Error;
  }
  if (names.length > limits.maxEntries)
    throw refuse(
      `The archive holds more than ${limits.maxEntries} files; a register workbook holds a few dozen`,
    );
  if (tooBig)
    throw refuse(
      `The archive unpacks to more than ${limits.maxUnpackedBytes} bytes (IMPORT_MAX_UNPACKED_BYTES): refused unread. Split the register into smaller files`,
    );
  if (broken) throw refuse(`The archive is damaged and cannot be unpacked (${(broken as Error).message})`);
  return { names, kept };
}

/** What a cell holds, whatever the spreadsheet made of it (formulas give their result, rich text its text). */
function plainCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value instanceof Date
  )
    return value;
  if (typeof value === 'object') {
    const cell = value as Record<string, unknown>;
    if (Array.isArray(cell.richText))
      return cell.richText.map((part: { text?: string }) => part.text ?? '').join('');
    if ('result' in cell) return plainCell(cell.result);
    if ('text' in cell) return plainCell(cell.text);
    if ('error' in cell) return String(cell.error);
  }
  return String(value);
}

const isBlank = (cells: CellValue[]) => cells.every((cell) => cell === null || cell === '');

const xmlText = (value: string) =>
  value.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, entity: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[entity]!,
  );

/**
 * Sheet names from the workbook and its relationships: by the number of their file (xl/worksheets/sheetN.xml)
 * and by their sheetId, the two ids exceljs's streaming reader may give a sheet.
 */
function worksheetNames(files: Map<string, Uint8Array>): {
  byFile: Map<string, string>;
  bySheetId: Map<string, string>;
} {
  const workbook = Buffer.from(files.get('xl/workbook.xml') ?? new Uint8Array()).toString('utf8');
  const rels = Buffer.from(files.get('xl/_rels/workbook.xml.rels') ?? new Uint8Array()).toString('utf8');
  const targets = new Map<string, string>();
  for (const [tag] of rels.matchAll(/<Relationship\b[^>]*>/g)) {
    const id = /\bId="([^"]*)"/.exec(tag)?.[1];
    const file = /\bTarget="[^"]*sheet(\d+)\.xml"/.exec(tag)?.[1];
    if (id && file) targets.set(id, file);
  }
  const byFile = new Map<string, string>();
  const bySheetId = new Map<string, string>();
  for (const [tag] of workbook.matchAll(/<(?:\w+:)?sheet\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    const rid = /\br:id="([^"]*)"/.exec(tag)?.[1];
    const sheetId = /\bsheetId="([^"]*)"/.exec(tag)?.[1];
    const file = rid ? targets.get(rid) : undefined;
    if (name === undefined) continue;
    if (file) byFile.set(file, xmlText(name));
    if (sheetId) bySheetId.set(sheetId, xmlText(name));
  }
  return { byFile, bySheetId };
}

/**
 * The entries exceljs's streaming reader must meet before any worksheet. Met after one (our own export writes
 * workbook.xml and its relationships last, as exceljs's streaming writer does; Excel often writes
 * sharedStrings.xml after the sheets), it parks each worksheet in a temporary file and reads them back at the
 * end, and that path lost the last sheet's rows now and then (the round-trip property test caught it: an
 * import read no sub-processor links from a file whose sheet held three).
 */
const READ_FIRST = ['xl/_rels/workbook.xml.rels', 'xl/workbook.xml', 'xl/sharedStrings.xml', 'xl/styles.xml'];

/** An xlsx workbook's sheets, row by row, through exceljs's streaming reader (after the size check above). */
export async function readXlsx(data: Uint8Array, limits: UnpackLimits): Promise<ReadSheet[]> {
  // Every entry is kept: the archive is packed again (stored, not compressed) in the order the reader wants.
  const { names, kept } = unpackZip(data, limits, () => true);
  const sheetNames = worksheetNames(kept);
  if (!names.includes('xl/workbook.xml'))
    throw refuse(
      'This zip archive is not an .xlsx workbook (it has no xl/workbook.xml); send CSV files as application/zip',
    );
  const ordered: Record<string, Uint8Array> = {};
  for (const name of READ_FIRST) if (kept.has(name)) ordered[name] = kept.get(name)!;
  for (const [name, content] of kept) if (!(name in ordered)) ordered[name] = content;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(
    Readable.from(Buffer.from(zipSync(ordered, { level: 0 }))),
    {
      worksheets: 'emit',
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      styles: 'cache',
      entries: 'ignore',
    },
  );
  // A workbook without shared strings (ours: inline strings) never sets them, and the reader parks every
  // sheet until it has them: start from none. The model and properties likewise, for workbooks whose
  // workbook.xml is missing parts; the sheets are named from our own reading of it.
  Object.assign(reader, { model: { sheets: [] }, properties: {}, sharedStrings: [] });
  const sheets: ReadSheet[] = [];
  for await (const worksheet of reader) {
    const { id, name } = worksheet as unknown as { id: string | number; name: string };
    // Named by exceljs when it had met the workbook's own files (id: the sheetId), else `Sheet<n>` (id: the file's n).
    const named = sheetNames.bySheetId.get(String(id)) === name;
    const sheet: ReadSheet = {
      name: named ? name : (sheetNames.byFile.get(String(id)) ?? name),
      header: [],
      rows: [],
    };
    for await (const row of worksheet) {
      const values = (row.values as unknown[]).slice(1).map(plainCell);
      if (sheet.header.length === 0 && sheet.rows.length === 0 && row.number === 1) {
        sheet.header = values.map((value) => (value === null ? '' : String(value).trim()));
        continue;
      }
      if (!isBlank(values)) sheet.rows.push({ row: row.number, cells: values });
    }
    sheets.push(sheet);
  }
  return sheets;
}

/** Sheets from CSV texts (a zip's entries, or a folder's files), named after the file without `.csv`. */
export function readCsvFiles(files: Map<string, Uint8Array>): ReadSheet[] {
  return [...files].map(([fileName, content]) => {
    const name = fileName.replace(/^.*\//, '').replace(/\.csv$/i, '');
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parseCsv(Buffer.from(content), {
        bom: true,
        info: true,
        relax_column_count: true,
      }) as unknown as {
        record: string[];
        info: { lines: number };
      }[];
    } catch (error) {
      throw new FileRefused({
        sheet: name,
        row: null,
        column: null,
        value: null,
        message: `${fileName} is not readable CSV: ${(error as Error).message}`,
      });
    }
    const [header, ...rows] = records;
    return {
      name,
      header: header ? header.record.map((cell) => cell.trim()) : [],
      rows: rows
        .map(({ record, info }) => ({
          row: info.lines,
          cells: record.map((cell) => (cell === '' ? null : cell)),
        }))
        .filter(({ cells }) => !isBlank(cells)),
    };
  });
}

/** A zip of CSV files: `<sheet>.csv` entries (in any folder of the archive); other entries are reported unknown. */
export function readCsvZip(data: Uint8Array, limits: UnpackLimits): ReadSheet[] {
  const { names, kept } = unpackZip(data, limits, (name) => !name.endsWith('/'));
  if (names.includes('xl/workbook.xml'))
    throw refuse(`This is an .xlsx workbook: send it with the content type ${XLSX_CONTENT_TYPE}`);
  return readCsvFiles(kept);
}

/** Reads a file of either format into its sheets; an empty file is refused here. */
export async function readRegisterFile(
  data: Uint8Array,
  format: FileFormat,
  limits: UnpackLimits,
): Promise<ReadSheet[]> {
  if (data.length === 0) throw refuse('The file is empty: send an .xlsx workbook or a zip of CSV files');
  return format === 'xlsx' ? readXlsx(data, limits) : readCsvZip(data, limits);
}

export type { SheetName };
