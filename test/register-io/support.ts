import ExcelJS from 'exceljs';
import { strToU8, zipSync } from 'fflate';
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
  return { status: response.status, body: await response.json() };
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
