import { once } from 'node:events';
import { Readable, Writable, pipeline } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { crc32 } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { Unzip, UnzipInflate, UnzipPassThrough, Zip, ZipDeflate, unzipSync } from 'fflate';
import { CellValue, SheetWriter } from './register-io.export';
import { SHEETS, SHEET_NAMES, SheetName } from './register-sheets';

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

/** One non-blank row as read, with its number in the sheet (header = 1). */
export interface ReadRow {
  row: number;
  cells: CellValue[];
}

/**
 * One sheet as it is read: its name, its header, and its rows as they come (read them before asking for the
 * next sheet). Sheets come in the import's order (suppliers, clients, contracts, agreements, subprocessors,
 * then unknown ones); `position` is the sheet's place in the file, where its problems are listed.
 */
export interface ReadSheet {
  name: string;
  position: number;
  header: string[];
  rows: AsyncIterable<ReadRow>;
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

/** One entry of an archive as measured while unpacking: its real size and CRC-32 (for packing it again). */
interface EntryInfo {
  size: number;
  crc: number;
}

/** Compressed bytes handed to the inflater at a time: what is held unpacked at once is a few times this. */
const SLICE = 64 * 1024;

/**
 * Unpacks a zip with every entry's real size counted as it inflates (sizes in the headers can lie), and
 * refuses it the moment the total passes the limit: a zip bomb costs at most that many bytes of work. Only
 * the entries `keep` asks for are held (small ones); the others are inflated only to be measured, and read
 * again, streamed, when their turn comes (inflateEntry).
 */
export function unpackZip(
  data: Uint8Array,
  limits: UnpackLimits,
  keep: (name: string) => boolean,
): { names: string[]; kept: Map<string, Uint8Array>; entries: Map<string, EntryInfo> } {
  if (data.length < 4 || data[0] !== 0x50 || data[1] !== 0x4b || data[2] !== 0x03 || data[3] !== 0x04)
    throw refuse(
      'This is not a workbook: an .xlsx file (or a zip of CSV files) is a zip archive, and this file is not one',
    );
  refuseByDirectory(data, limits);
  const names: string[] = [];
  const kept = new Map<string, Uint8Array>();
  const entries = new Map<string, EntryInfo>();
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
    const info: EntryInfo = { size: 0, crc: 0 };
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
      info.size += chunk.length;
      info.crc = crc32(chunk, info.crc);
      if (holding) chunks.push(chunk);
      if (final) {
        if (!entries.has(file.name)) entries.set(file.name, info);
        if (holding) kept.set(file.name, Buffer.concat(chunks));
      }
    };
    try {
      file.start();
    } catch (error) {
      broken = error as Error;
    }
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  // Handed over a slice at a time, as inflateEntry does: pushed whole, each entry came out inflated in one
  // piece (47 MB for the contracts sheet at 100,000 contracts), and such short-lived large blocks leave the
  // allocator holding more memory for the rest of the import (docs/performance.md, "The import's peak RSS").
  try {
    for (let at = 0; at < data.length; at += SLICE)
      unzip.push(data.subarray(at, at + SLICE), at + SLICE >= data.length);
  } catch (error) {
    broken = error as Error;
  }
  if (names.length > limits.maxEntries) throw tooManyFiles(limits);
  if (tooBig) throw unpacksTooBig(limits);
  if (broken) throw refuse(`The archive is damaged and cannot be unpacked (${(broken as Error).message})`);
  return { names, kept, entries };
}

const tooManyFiles = (limits: UnpackLimits): FileRefused =>
  refuse(`The archive holds more than ${limits.maxEntries} files; a register workbook holds a few dozen`);

const unpacksTooBig = (limits: UnpackLimits): FileRefused =>
  refuse(
    `The archive unpacks to more than ${limits.maxUnpackedBytes} bytes (IMPORT_MAX_UNPACKED_BYTES): refused unread. Split the register into smaller files`,
  );

/**
 * Honest headers give every entry's size before a byte is inflated: the archive's central directory (at its
 * end) lists them all, so a bomb that says what it is is refused without inflating any entry. fflate's
 * unzipSync reads that directory and inflates only what the filter accepts (nothing here). An archive
 * without a readable directory goes on to unpackZip's streamed pass, which reports it as damaged.
 */
function refuseByDirectory(data: Uint8Array, limits: UnpackLimits): void {
  let declared = 0;
  let count = 0;
  try {
    unzipSync(data, {
      filter: (file) => {
        count++;
        declared += file.originalSize;
        return false;
      },
    });
  } catch {
    return;
  }
  if (count > limits.maxEntries) throw tooManyFiles(limits);
  if (declared > limits.maxUnpackedBytes) throw unpacksTooBig(limits);
}

/**
 * One entry of an archive (already measured by unpackZip), inflated a slice at a time as the reader asks
 * for more: the entry is never held whole.
 */
async function* inflateEntry(data: Uint8Array, name: string): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let found = false;
  let done = false;
  let broken: Error | null = null;
  const unzip = new Unzip((file) => {
    if (found || file.name !== name) return; // not started: skipped unread
    found = true;
    file.ondata = (error, chunk, final) => {
      if (error) broken = error;
      else if (chunk.length) queue.push(chunk);
      if (final) done = true;
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  for (let at = 0; at < data.length && !done; at += SLICE) {
    unzip.push(data.subarray(at, at + SLICE), at + SLICE >= data.length);
    if (broken) throw refuse(`The archive is damaged and cannot be unpacked (${(broken as Error).message})`);
    while (queue.length) yield queue.shift()!;
  }
}

/** A zip entry's local header for a stored (uncompressed) entry whose size and CRC are known. */
function storedHeader(name: string, info: EntryInfo): Buffer {
  const fileName = Buffer.from(name, 'utf8');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4); // version needed
  header.writeUInt16LE(0x0800, 6); // names in UTF-8
  header.writeUInt16LE(0, 8); // stored
  header.writeUInt32LE(0, 10); // time and date
  header.writeUInt32LE(info.crc >>> 0, 14);
  header.writeUInt32LE(info.size, 18);
  header.writeUInt32LE(info.size, 22);
  header.writeUInt16LE(fileName.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, fileName]);
}

/** An empty central directory: the end of the archive (the streaming reader reads local headers only). */
const END_OF_ARCHIVE = (() => {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  return end;
})();

/** What a cell holds, whatever the spreadsheet made of it (formulas give their result, rich text its text). */
function plainCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  // The XML parser's strings are slices of the chunk they were read from, and a slice kept keeps its whole
  // chunk: copied, a kept cell costs its own length (100,000 rows of slices held the sheets' text twice over).
  if (typeof value === 'string') return (' ' + value).slice(1);
  if (typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
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

const WORKSHEET = /^xl\/worksheets\/sheet(\d+)\.xml$/;

/** Where a sheet of this name is read: the import's order (suppliers first), unknown names last. */
const turnOf = (name: string) => {
  const turn = (SHEET_NAMES as readonly string[]).indexOf(name);
  return turn === -1 ? SHEET_NAMES.length : turn;
};

/** Orders a file's sheets for reading: known sheets in the import's order, the file's order kept among equals. */
function inImportOrder<T>(items: T[], nameOf: (item: T) => string): T[] {
  return items
    .map((item, position) => ({ item, position, turn: turnOf(nameOf(item)) }))
    .sort((a, b) => a.turn - b.turn || a.position - b.position)
    .map(({ item }) => item);
}

/** Reads a worksheet's first row as its header (when it is row 1), then yields the other non-blank rows. */
async function headed(
  name: string,
  position: number,
  rows: AsyncIterator<{ row: number; cells: CellValue[] }>,
): Promise<ReadSheet> {
  const first = await rows.next();
  const header =
    !first.done && first.value.row === 1
      ? first.value.cells.map((value) => (value === null ? '' : String(value).trim()))
      : [];
  async function* rest(): AsyncGenerator<ReadRow> {
    if (!first.done && first.value.row !== 1 && !isBlank(first.value.cells)) yield first.value;
    for (let next = await rows.next(); !next.done; next = await rows.next())
      if (!isBlank(next.value.cells)) yield next.value;
  }
  return { name, position, header, rows: rest() };
}

/**
 * An xlsx workbook's sheets, one after the other and row by row, through exceljs's streaming reader (after
 * the size check above). The archive is handed to it packed again (stored, not compressed) and streamed in
 * the order it reads without temporary files: the small parts first (READ_FIRST), then the worksheets in
 * the import's order, each inflated from the file as the reader asks for more. No sheet is held whole.
 */
export function readXlsx(data: Uint8Array, limits: UnpackLimits): AsyncIterable<ReadSheet> {
  const { names, kept, entries } = unpackZip(data, limits, (name) => !WORKSHEET.test(name));
  if (!names.includes('xl/workbook.xml'))
    throw refuse(
      'This zip archive is not an .xlsx workbook (it has no xl/workbook.xml); send CSV files as application/zip',
    );
  const sheetNames = worksheetNames(kept);
  const small = [
    ...READ_FIRST.filter((name) => kept.has(name)),
    ...[...kept.keys()].filter((name) => !READ_FIRST.includes(name)),
  ].filter((name) => kept.get(name)!.length > 0); // folders and empty parts: nothing for the reader
  const worksheets = [...entries.keys()].filter(
    (name) => WORKSHEET.test(name) && entries.get(name)!.size > 0,
  );
  const ordered = inImportOrder(worksheets, (name) => sheetNames.byFile.get(WORKSHEET.exec(name)![1]) ?? '');
  async function* archive(): AsyncGenerator<Uint8Array> {
    for (const name of small) {
      yield storedHeader(name, { size: kept.get(name)!.length, crc: crc32(kept.get(name)!) });
      yield kept.get(name)!;
    }
    for (const name of ordered) {
      yield storedHeader(name, entries.get(name)!);
      yield* inflateEntry(data, name);
    }
    yield END_OF_ARCHIVE;
  }
  return (async function* () {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(archive()), {
      worksheets: 'emit',
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      styles: 'cache',
      entries: 'ignore',
    });
    // A workbook without shared strings (ours: inline strings) never sets them, and the reader parks every
    // sheet until it has them: start from none. The model and properties likewise, for workbooks whose
    // workbook.xml is missing parts; the sheets are named from our own reading of it.
    Object.assign(reader, { model: { sheets: [] }, properties: {}, sharedStrings: [] });
    let read = 0;
    for await (const worksheet of reader) {
      const { id, name } = worksheet as unknown as { id: string | number; name: string };
      // Named by exceljs when it had met the workbook's own files (id: the sheetId), else `Sheet<n>` (id: the file's n).
      const named = sheetNames.bySheetId.get(String(id)) === name;
      const rows = (async function* () {
        for await (const row of worksheet)
          yield { row: row.number, cells: (row.values as unknown[]).slice(1).map(plainCell) };
      })();
      // The reader meets the worksheets in the order they were packed: the k-th is ordered[k].
      const position = worksheets.indexOf(ordered[read++]);
      const sheet = await headed(named ? name : (sheetNames.byFile.get(String(id)) ?? name), position, rows);
      yield sheet;
      // A sheet the import skipped (unknown, or there twice) is read to its end before the next one.
      for await (const _ of sheet.rows);
    }
  })();
}

/** One CSV file's rows, parsed as its bytes come (csv-parse's streaming parser): the header, then the rest. */
async function csvSheet(
  fileName: string,
  position: number,
  content: () => AsyncIterable<Uint8Array>,
): Promise<ReadSheet> {
  const name = fileName.replace(/^.*\//, '').replace(/\.csv$/i, '');
  const unreadable = (error: Error) =>
    new FileRefused({
      sheet: name,
      row: null,
      column: null,
      value: null,
      message: `${fileName} is not readable CSV: ${error.message}`,
    });
  const parser = parseCsv({ bom: true, info: true, relax_column_count: true });
  // A source that fails (a damaged entry) fails the parser too, and so the reading.
  pipeline(Readable.from(content()), parser, () => undefined);
  async function* records(): AsyncGenerator<ReadRow> {
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>)
        yield { row: info.lines, cells: record.map((cell) => (cell === '' ? null : cell)) };
    } catch (error) {
      if (error instanceof FileRefused) throw error;
      throw unreadable(error as Error);
    }
  }
  const iterator = records();
  const first = await iterator.next();
  async function* rest(): AsyncGenerator<ReadRow> {
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      if (!isBlank(next.value.cells)) yield next.value;
  }
  return {
    name,
    position,
    header: first.done ? [] : first.value.cells.map((cell) => String(cell ?? '').trim()),
    rows: rest(),
  };
}

/** Sheets from CSV files, in the import's order, each parsed as it is read. */
async function* csvSheets(
  fileNames: string[],
  content: (fileName: string) => AsyncIterable<Uint8Array>,
): AsyncGenerator<ReadSheet> {
  const positions = new Map(fileNames.map((name, position) => [name, position]));
  const sheetName = (fileName: string) => fileName.replace(/^.*\//, '').replace(/\.csv$/i, '');
  for (const fileName of inImportOrder(fileNames, sheetName)) {
    const sheet = await csvSheet(fileName, positions.get(fileName)!, () => content(fileName));
    yield sheet;
    for await (const _ of sheet.rows);
  }
}

/** Sheets from CSV texts (a folder's files), named after the file without `.csv`. */
export function readCsvFiles(files: Map<string, Uint8Array>): AsyncIterable<ReadSheet> {
  return csvSheets([...files.keys()], async function* (fileName) {
    yield files.get(fileName)!;
  });
}

/** A zip of CSV files: `<sheet>.csv` entries (in any folder of the archive); other entries are reported unknown. */
export function readCsvZip(data: Uint8Array, limits: UnpackLimits): AsyncIterable<ReadSheet> {
  const { names, entries } = unpackZip(data, limits, () => false);
  if (names.includes('xl/workbook.xml'))
    throw refuse(`This is an .xlsx workbook: send it with the content type ${XLSX_CONTENT_TYPE}`);
  // Entries inflated whole (measured by unpackZip); folders and entries that failed to inflate are not files.
  const files = names.filter((name, index) => !name.endsWith('/') && names.indexOf(name) === index);
  return csvSheets(
    files.filter((name) => entries.has(name)),
    (name) => inflateEntry(data, name),
  );
}

/**
 * Opens a file of either format: an empty file, one that is not an archive, or one that unpacks too big is
 * refused here, before any row is read; the sheets are then read as they are asked for.
 */
export function readRegisterFile(
  data: Uint8Array,
  format: FileFormat,
  limits: UnpackLimits,
): AsyncIterable<ReadSheet> {
  if (data.length === 0) throw refuse('The file is empty: send an .xlsx workbook or a zip of CSV files');
  return format === 'xlsx' ? readXlsx(data, limits) : readCsvZip(data, limits);
}

export type { SheetName };
