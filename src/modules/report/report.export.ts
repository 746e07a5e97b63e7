/**
 * The exposure lists as CSV and XLSX, written row by row as the service reads them (csv-stringify's
 * stream, exceljs's streaming WorkbookWriter), so a long list never sits whole in memory. A cell that
 * starts like a formula is prefixed with an apostrophe: a supplier or client name someone typed as
 * `=HYPERLINK(...)` must not run when procurement opens the CSV in a spreadsheet.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import { encodeGlobalId } from '../../common/global-id';
import type { ReportedExposure } from './report.service';

export interface ExportColumn {
  header: string;
  value: (r: ReportedExposure) => string | number | boolean;
}

const iso = (d: Date | null) => (d ? d.toISOString() : '');

export const EXPORT_COLUMNS: ExportColumn[] = [
  { header: 'Incident', value: (r) => r.incident.title },
  { header: 'Incident ID', value: (r) => encodeGlobalId('Incident', r.incident.id) },
  { header: 'Exposure ID', value: (r) => encodeGlobalId('Exposure', r.exposure.id) },
  { header: 'Client', value: (r) => r.client.name },
  { header: 'Level', value: (r) => r.exposure.level },
  { header: 'Score', value: (r) => r.exposure.score },
  { header: 'People at risk (low)', value: (r) => Number(r.exposure.dataSubjectsAtRiskLow) },
  { header: 'People at risk (high)', value: (r) => Number(r.exposure.dataSubjectsAtRiskHigh) },
  { header: 'Data categories at risk', value: (r) => r.exposure.dataCategoriesAtRisk.join(' ') },
  { header: 'Special category data', value: (r) => r.exposure.specialCategoryData },
  { header: 'Supply chain', value: (r) => r.path.map((s) => s.name).join(' > ') },
  { header: 'Next due (UTC)', value: (r) => iso(r.nextDueAt) },
  {
    header: 'Next due obligations',
    value: (r) =>
      r.obligations
        .filter((o) => r.nextDueAt && o.dueAt?.getTime() === r.nextDueAt.getTime())
        .map((o) => `${o.regime} ${o.milestone}`)
        .join('; '),
  },
  {
    header: 'Overdue obligations',
    value: (r) =>
      r.obligations
        .filter((o) => o.status === 'OVERDUE')
        .map((o) => `${o.regime} ${o.milestone}`)
        .join('; '),
  },
  {
    header: 'Decisions',
    value: (r) => {
      // The decision in force per obligation is its latest.
      const latest = new Map<string, string>();
      for (const d of r.decisions) latest.set(`${d.regime} ${d.milestone}`, d.status);
      return latest.size
        ? [...latest].map(([obligation, status]) => `${obligation}: ${status}`).join('; ')
        : 'none recorded (ASSESSING)';
    },
  },
];

/** Neutralises spreadsheet formulas in text cells (OWASP "CSV injection"). */
export function safeCell(value: string | number | boolean): string | number | boolean {
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export async function writeCsv(rows: AsyncIterable<ReportedExposure>, out: Writable): Promise<void> {
  const csv = stringify({ header: true, columns: EXPORT_COLUMNS.map((c) => c.header), bom: true });
  csv.pipe(out);
  for await (const row of rows) {
    if (!csv.write(EXPORT_COLUMNS.map((c) => safeCell(c.value(row))))) await once(csv, 'drain');
  }
  csv.end();
  await once(out, 'finish');
}

export async function writeXlsx(rows: AsyncIterable<ReportedExposure>, out: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('Exposures', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = EXPORT_COLUMNS.map((c) => ({ header: c.header, width: Math.max(12, c.header.length + 2) }));
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).commit();
  // XLSX cells are typed: a text cell never runs as a formula, so no apostrophe is needed here.
  for await (const row of rows) sheet.addRow(EXPORT_COLUMNS.map((c) => c.value(row))).commit();
  sheet.commit();
  await workbook.commit();
}
