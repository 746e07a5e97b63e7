import { EntityManager } from 'typeorm';
import { Viewer, clientScope, requireRole } from '../../auth/viewer';
import { SHEETS, SHEET_NAMES, SheetName } from './register-sheets';

/** A cell as the workbook holds it: text, a number, a boolean, a date (whole UTC day) or empty. */
export type CellValue = string | number | boolean | Date | null;

/** Rows are read from PostgreSQL in batches of this many through a cursor, so memory stays flat. */
export const EXPORT_BATCH_ROWS = 5000;

/** The suppliers a client-role export shows: those its live contracts use, their agreement-level sub-processors, and every supplier-level chain behind them. */
const USED_SUPPLIERS = `
  WITH RECURSIVE used(id) AS (
      SELECT c.supplier_id FROM contract c WHERE c.removed_at IS NULL AND c.client_id = $1
    UNION
      SELECT l.subprocessor_id FROM agreement_subprocessor l
        JOIN data_processing_agreement a ON a.id = l.agreement_id AND a.removed_at IS NULL
        JOIN contract c ON c.id = a.contract_id AND c.removed_at IS NULL AND c.client_id = $1
    UNION
      SELECT s.subprocessor_id FROM supplier_subprocessor s JOIN used u ON u.id = s.supplier_id
  )`;

const SUPPLIER_ORDER = `s.name, s.country, coalesce(s.company_number, ''), coalesce(s.lei, '')`;
/** A supplier's country and identifiers as one sortable text (ties on name broken by natural keys only). */
const keyOf = (alias: string) =>
  `${alias}.country || '|' || coalesce(${alias}.company_number, '') || '|' || coalesce(${alias}.lei, '')`;

/**
 * One SELECT per sheet, its columns named and ordered as register-sheets.ts says, in an order that depends
 * only on the natural keys (so two registers holding the same facts export the same workbook). `$1` is the
 * client a client-role viewer may see, null for admin and analyst.
 */
function sheetSql(sheet: SheetName, scoped: boolean): string {
  const usedFilter = scoped ? `AND s.id IN (SELECT id FROM used)` : '';
  const clientFilter = scoped ? `AND c.client_id = $1` : '';
  switch (sheet) {
    case 'suppliers':
      return `${scoped ? USED_SUPPLIERS : ''}
        SELECT s.name, s.company_number AS "companyNumber", s.lei, s.country, s.tier, s.strategic
          FROM supplier s WHERE s.removed_at IS NULL ${usedFilter} ORDER BY ${SUPPLIER_ORDER}`;
    case 'clients':
      return `SELECT k.reference, k.name, k.sector, k.country, array_to_string(k.regimes, ',') AS regimes
          FROM client k ${scoped ? 'WHERE k.id = $1' : ''} ORDER BY k.reference`;
    case 'contracts':
      return `SELECT k.reference AS "clientReference", c.reference,
                     s.company_number AS "supplierCompanyNumber", s.lei AS "supplierLei", s.name AS "supplierName",
                     s.country AS "supplierCountry", c.title, c.value_amount::text AS "valueAmount",
                     c.value_currency AS "valueCurrency", c.starts_on AS "startsOn", c.ends_on AS "endsOn", c.criticality
                FROM contract c JOIN client k ON k.id = c.client_id JOIN supplier s ON s.id = c.supplier_id
               WHERE c.removed_at IS NULL ${clientFilter}
               ORDER BY k.reference, c.reference`;
    case 'agreements':
      return `SELECT k.reference AS "clientReference", c.reference AS "contractReference", a.reference,
                     array_to_string(a.data_categories, ',') AS "dataCategories", a.data_subject_count AS "dataSubjectCount",
                     array_to_string(a.processing_locations, ',') AS "processingLocations",
                     a.data_retained_until AS "dataRetainedUntil"
                FROM data_processing_agreement a JOIN contract c ON c.id = a.contract_id JOIN client k ON k.id = c.client_id
               WHERE a.removed_at IS NULL AND c.removed_at IS NULL ${clientFilter}
               ORDER BY k.reference, c.reference, a.reference`;
    case 'subprocessors':
      // Supplier-level links first (both ends in the register), then agreement-level ones.
      return `${scoped ? USED_SUPPLIERS : ''}
        SELECT * FROM (
          SELECT s.company_number AS "supplierCompanyNumber", s.lei AS "supplierLei", s.name AS "supplierName",
                 s.country AS "supplierCountry", p.company_number AS "subprocessorCompanyNumber", p.lei AS "subprocessorLei",
                 p.name AS "subprocessorName", p.country AS "subprocessorCountry",
                 NULL::text AS "clientReference", NULL::text AS "contractReference", NULL::text AS "agreementReference",
                 0 AS level, s.name AS o1, ${keyOf('s')} AS o2, p.name AS o3, ${keyOf('p')} AS o4
            FROM supplier_subprocessor l JOIN supplier s ON s.id = l.supplier_id JOIN supplier p ON p.id = l.subprocessor_id
           WHERE s.removed_at IS NULL AND p.removed_at IS NULL ${usedFilter}
          UNION ALL
          SELECT s.company_number, s.lei, s.name, s.country, p.company_number, p.lei, p.name, p.country,
                 k.reference, c.reference, a.reference,
                 1, k.reference, c.reference, a.reference, p.name || '|' || ${keyOf('p')}
            FROM agreement_subprocessor l JOIN data_processing_agreement a ON a.id = l.agreement_id
            JOIN contract c ON c.id = a.contract_id JOIN client k ON k.id = c.client_id
            JOIN supplier s ON s.id = c.supplier_id JOIN supplier p ON p.id = l.subprocessor_id
           WHERE a.removed_at IS NULL AND c.removed_at IS NULL AND p.removed_at IS NULL ${clientFilter}
        ) links ORDER BY level, o1, o2, o3, o4`;
  }
}

/** A database value as the cell the format writes (dates as whole UTC days, money as exact as a cell allows). */
function cellOf(type: string, value: unknown): CellValue {
  if (value === null || value === undefined || value === '') return null;
  switch (type) {
    case 'date':
      return new Date(`${value as string}T00:00:00Z`);
    case 'money': {
      // A number when it survives a double exactly (what a person types in a spreadsheet), else the text.
      const amount = Number(value);
      return amount.toFixed(2) === value && Math.abs(amount) < 2 ** 53 / 100 ? amount : (value as string);
    }
    case 'integer':
      return Number(value);
    case 'boolean':
      return Boolean(value);
    default:
      return String(value);
  }
}

export interface SheetWriter {
  /** Called once per sheet, in SHEET_NAMES order, with its rows in batches (each row in column order). */
  sheet(name: SheetName, batches: AsyncIterable<CellValue[][]>): Promise<void>;
}

/**
 * The register the viewer may see (a client-role viewer: its own client, contracts and agreements, and the
 * suppliers they use), sheet by sheet, in one REPEATABLE READ, READ ONLY snapshot so the sheets agree with
 * each other. Each sheet is read through a server-side cursor in batches: nothing holds the whole register.
 */
export async function exportRegister(
  transaction: <T>(work: (manager: EntityManager) => Promise<T>) => Promise<T>,
  viewer: Viewer,
  writer: SheetWriter,
): Promise<void> {
  requireRole(viewer, 'admin', 'analyst', 'client');
  const scope = clientScope(viewer);
  await transaction(async (manager) => {
    await manager.query(`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    for (const sheet of SHEET_NAMES) {
      const columns = SHEETS[sheet];
      const cursor = `register_export_${sheet}`;
      await manager.query(
        `DECLARE ${cursor} NO SCROLL CURSOR FOR ${sheetSql(sheet, scope !== null)}`,
        scope ? [scope] : [],
      );
      async function* batches(): AsyncIterable<CellValue[][]> {
        for (;;) {
          const rows: Record<string, unknown>[] = await manager.query(
            `FETCH ${EXPORT_BATCH_ROWS} FROM ${cursor}`,
          );
          if (rows.length === 0) return;
          yield rows.map((row) => columns.map((column) => cellOf(column.type, row[column.name])));
          if (rows.length < EXPORT_BATCH_ROWS) return;
        }
      }
      await writer.sheet(sheet, batches());
      await manager.query(`CLOSE ${cursor}`);
    }
  });
}
