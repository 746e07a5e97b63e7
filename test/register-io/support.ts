import ExcelJS from 'exceljs';
import { deflateSync, strToU8, zipSync } from 'fflate';
import { crc32 } from 'node:zlib';
import { DataSource } from 'typeorm';
import { TestApp } from '../support/app';

export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const ZIP = 'application/zip';

export type Cell = string | number | boolean | Date | null;
export type Sheets = Record<string, Cell[][]>;

export async function download(
  app: TestApp,
  token: string,
  format: 'xlsx' | 'zip',
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(`${app.url}/exports/register.${format}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    body: Buffer.from(await response.arrayBuffer()),
    headers: response.headers,
  };
}

export async function upload(
  app: TestApp,
  data: Uint8Array,
  contentType: string,
  query = '',
  token = app.adminToken,
  fileName = 'register.xlsx',
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}/imports${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': contentType,
      'content-disposition': `attachment; filename="${fileName}"`,
    },
    body: data,
  });
  const body = await response.json();
  if (process.env.DEBUG_IMPORT && response.status >= 400) console.log(JSON.stringify(body).slice(0, 3000));
  return { status: response.status, body };
}

/** A workbook built in memory (first row of each sheet: the header). */
export async function workbook(sheets: Sheets): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = book.addWorksheet(name);
    for (const row of rows) sheet.addRow(row);
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

export function csvZip(files: Record<string, string>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([n, t]) => [n, strToU8(t)]))));
}

/** Every sheet of a workbook as rows of plain values (dates as YYYY-MM-DD), for comparing two exports. */
export async function sheetsOf(data: Buffer): Promise<Sheets> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(data as unknown as ArrayBuffer);
  const sheets: Sheets = {};
  book.eachSheet((sheet) => {
    const rows: Cell[][] = [];
    sheet.eachRow((row) =>
      rows.push(
        (row.values as Cell[])
          .slice(1)
          .map((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : (v ?? null))),
      ),
    );
    sheets[sheet.name] = rows;
  });
  return sheets;
}

/** How many rows each table holds, the audit trail and alerts included: "nothing written" compares two of these. */
export async function tableCounts(db: DataSource): Promise<Record<string, number>> {
  const [row] = await db.query(
    `SELECT (SELECT count(*) FROM supplier)::int AS supplier, (SELECT count(*) FROM supplier_subprocessor)::int AS supplier_subprocessor,
            (SELECT count(*) FROM client)::int AS client, (SELECT count(*) FROM contract)::int AS contract,
            (SELECT count(*) FROM data_processing_agreement)::int AS agreement,
            (SELECT count(*) FROM agreement_subprocessor)::int AS agreement_subprocessor,
            (SELECT count(*) FROM exposure_revision)::int AS exposure_revision, (SELECT count(*) FROM exposure_alert)::int AS alert,
            (SELECT count(*) FROM audit_event)::int AS audit_event,
            (SELECT max(updated_at) FROM supplier)::text AS supplier_updated, (SELECT max(updated_at) FROM contract)::text AS contract_updated`,
  );
  return row;
}

/**
 * A zip bomb: `entries` files of `entryBytes` zeros each, deflated once and repeated, with honest headers
 * (1 GiB from about 1 MB with the defaults). Built by hand so the test does not deflate a gigabyte.
 */
export function zipBomb(entries = 16, entryBytes = 64 * 1024 * 1024): Buffer {
  const data = Buffer.from(deflateSync(new Uint8Array(entryBytes), { level: 9 }));
  const crc = crc32(Buffer.alloc(entryBytes));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < entries; i++) {
    const name = Buffer.from(`xl/worksheets/sheet${i + 1}.xml`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(entryBytes, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(entryBytes, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The same bomb with headers that lie (sizes of 1 byte): only counting the real inflated bytes catches it. */
export function lyingZipBomb(entries: number, entryBytes: number): Buffer {
  const zip = zipBomb(entries, entryBytes);
  for (let i = 0; i + 4 <= zip.length; i++) {
    const signature = zip.readUInt32LE(i);
    if (signature === 0x04034b50) zip.writeUInt32LE(1, i + 22);
    else if (signature === 0x02014b50) zip.writeUInt32LE(1, i + 24);
  }
  return zip;
}
