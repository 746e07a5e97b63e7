import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { FieldValue, parseCell, shownValue } from './register-io.cells';
import { FileRefused, ImportProblem, ReadSheet } from './register-io.formats';
import { SHEETS, SHEET_NAMES, SheetName } from './register-sheets';

export type ImportMode = 'merge' | 'replace';

export interface SheetCounts {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
}

export type Counts = Record<SheetName, SheetCounts>;

/** A row the import would remove (mode=replace), named by its natural key: listed before anything is removed. */
export interface Removal {
  sheet: SheetName;
  key: string;
}

type Fields = Record<string, FieldValue>;

interface FileRow {
  sheet: SheetName;
  row: number;
  fields: Fields;
}

interface SupplierRecord {
  id: string;
  name: string;
  company_number: string | null;
  lei: string | null;
  country: string;
  tier: string;
  strategic: boolean;
}
interface ClientRecord {
  id: string;
  reference: string;
  name: string;
  sector: string;
  country: string;
  regimes: string[] | null;
}
interface ContractRecord {
  id: string;
  client_id: string;
  supplier_id: string;
  reference: string;
  title: string;
  value_amount: string | null;
  value_currency: string | null;
  starts_on: string;
  ends_on: string | null;
  criticality: string;
}
interface AgreementRecord {
  id: string;
  contract_id: string;
  reference: string;
  data_categories: string[];
  data_subject_count: number;
  processing_locations: string[];
  data_retained_until: string | null;
}

interface SupplierLink {
  supplier_id: string;
  subprocessor_id: string;
}
interface AgreementLink {
  agreement_id: string;
  subprocessor_id: string;
}

/** What later sheets need of a contract: what they resolve and check against. */
type ContractKey = Pick<ContractRecord, 'id' | 'client_id' | 'supplier_id' | 'reference' | 'starts_on'>;
/** What the links sheet needs of an agreement. */
type AgreementKey = Pick<AgreementRecord, 'id' | 'contract_id' | 'reference'>;

const CHUNK = 5000;
/**
 * Rows spilled to a temporary table at a time: the parameter is a JSON text of about 300 bytes a row, and
 * pg copies it into a message buffer; at 1,000 rows these stay small allocations (at 5,000, blocks of 2 MB
 * each time, which the allocator kept: docs/performance.md, "The import's peak RSS").
 */
const SPILL = 1000;

/**
 * The rows the import will write to one table (new or changed), as the planner finds them: held up to a
 * chunk, then spilled to a temporary table of the transaction a chunk at a time, so that a large file's rows
 * are not all in memory until they are written; a dry run keeps none (it writes nothing), only the count.
 */
export class PlannedRows<T extends object> {
  private held: T[] = [];
  /** Chunks of SPILL rows spilled to the temporary table so far (each row there carries its chunk's number). */
  private spilled = 0;
  length = 0;

  constructor(
    private readonly manager: EntityManager | null,
    private readonly table: string,
    /** The columns as jsonb_to_recordset reads them (and the temporary table holds them). */
    private readonly columns: string,
  ) {}

  async push(row: T): Promise<void> {
    this.length++;
    if (!this.manager) return;
    this.held.push(row);
    if (this.held.length >= SPILL) await this.spill(this.manager);
  }

  private async spill(manager: EntityManager): Promise<void> {
    if (!this.spilled)
      await manager.query(
        `CREATE TEMPORARY TABLE ${this.table} (${this.columns}, chunk integer) ON COMMIT DROP`,
      );
    await manager.query(
      `INSERT INTO ${this.table} SELECT *, $2 FROM jsonb_to_recordset($1::jsonb) AS r(${this.columns})`,
      [JSON.stringify(this.held), this.spilled++],
    );
    this.held = [];
  }

  /**
   * Runs `statement` over the rows, reading them as `r`, one statement per chunk of 5,000 (from the temporary
   * table when they were spilled, else through jsonb_to_recordset): each statement stays short however large
   * the file, well inside the statement timeout on a busy machine (one statement over 100,000 contracts took
   * 8 to over 15 s with their triggers), and progress moves chunk by chunk.
   */
  async write(statement: (source: string) => string, done: (n: number) => void): Promise<void> {
    if (!this.manager || this.length === 0) return;
    if (this.spilled) {
      if (this.held.length) await this.spill(this.manager);
      const names = this.columns
        .split(',')
        .map((column) => column.trim().split(' ')[0])
        .join(', ');
      const perStatement = CHUNK / SPILL;
      for (let chunk = 0; chunk < this.spilled; chunk += perStatement) {
        const rows = Math.min(CHUNK, this.length - chunk * SPILL);
        const where = `chunk >= ${chunk} AND chunk < ${chunk + perStatement}`;
        await this.manager.query(statement(`(SELECT ${names} FROM ${this.table} WHERE ${where}) r`));
        done(rows);
      }
      return;
    }
    for (let start = 0; start < this.held.length; start += CHUNK) {
      const chunk = this.held.slice(start, start + CHUNK);
      await this.manager.query(statement(`jsonb_to_recordset($1::jsonb) AS r(${this.columns})`), [
        JSON.stringify(chunk),
      ]);
      done(chunk.length);
    }
  }
}

const SUPPLIER_COLUMNS = `id uuid, name text, company_number text, lei text, country text, tier text, strategic boolean`;
const CLIENT_COLUMNS = `id uuid, reference text, name text, sector text, country text, regimes text[]`;
const CONTRACT_COLUMNS = `id uuid, client_id uuid, supplier_id uuid, reference text, title text, value_amount numeric, value_currency text, starts_on date, ends_on date, criticality text`;
const AGREEMENT_COLUMNS = `id uuid, contract_id uuid, reference text, data_categories text[], data_subject_count integer, processing_locations text[], data_retained_until date`;

/** What a valid file changes: rows to insert and update per table, links to add, rows to remove. */
export interface ImportPlan {
  suppliers: { insert: PlannedRows<SupplierRecord>; update: PlannedRows<SupplierRecord>; archive: string[] };
  clients: { insert: PlannedRows<ClientRecord>; update: PlannedRows<ClientRecord>; remove: string[] };
  contracts: { insert: PlannedRows<ContractRecord>; update: PlannedRows<ContractRecord>; archive: string[] };
  agreements: {
    insert: PlannedRows<AgreementRecord>;
    update: PlannedRows<AgreementRecord>;
    archive: string[];
  };
  supplierLinks: { insert: PlannedRows<SupplierLink>; remove: [string, string][] };
  agreementLinks: { insert: PlannedRows<AgreementLink>; remove: [string, string][] };
  /** Clients whose exposures the changes can move; null: every client's (a supplier or a supplier-level link changed). */
  touchedClients: string[] | null;
  changed: boolean;
}

export interface PlanResult {
  counts: Counts;
  problems: ProblemList;
  removals: Removal[];
  plan: ImportPlan;
  rows: number;
}

export const emptyCounts = (): Counts =>
  Object.fromEntries(
    SHEET_NAMES.map((sheet) => [sheet, { created: 0, updated: 0, unchanged: 0, removed: 0 }]),
  ) as Counts;

const problem = (
  sheet: string | null,
  row: number | null,
  column: string | null,
  value: string | null,
  message: string,
): ImportProblem => ({ sheet, row, column, value, message });

/**
 * Keeps the first row of each key of a sheet: true for it; false for a later row with the same key, with a
 * problem naming both rows (the caller skips that row).
 */
function firstOfKey(
  rowOf: Map<string, number>,
  key: string,
  row: number,
  problems: ProblemList,
  at: { sheet: SheetName; column: string; value: string },
  sameAs: string,
): boolean {
  const earlier = rowOf.get(key);
  if (earlier === undefined) {
    rowOf.set(key, row);
    return true;
  }
  problems.push(
    problem(
      at.sheet,
      row,
      at.column,
      at.value,
      `Duplicate key: rows ${earlier} and ${row} ${sameAs}; keep one`,
    ),
  );
  return false;
}

/**
 * A key of several parts (a client's id and a contract's reference, …), one string: joined, not built with
 * `+` or a template, which make a rope (a ConsString of the parts) that a Map keeps as its key on top of the
 * flat copy its hashing makes. The planner keeps one such key per contract and agreement in the file: at
 * 100,000 contracts the ropes alone were 17 MB of the planner's 136 MB (docs/performance.md).
 */
const joinKey = (...parts: string[]) => parts.join('\u0000');

const sameSet = (a: readonly string[] | null, b: readonly string[] | null) =>
  JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());

/** Problems are listed up to this many (they are all counted in the message of the last one). */
export const MAX_PROBLEMS_SHOWN = 1000;

/**
 * Problems as they are found: the first MAX_PROBLEMS_SHOWN kept, the rest only counted (a file of 100,000
 * bad rows costs a count, not 100,000 objects).
 */
export class ProblemList {
  readonly kept: ImportProblem[] = [];
  count = 0;

  push(...problems: ImportProblem[]): void {
    for (const found of problems) {
      this.count++;
      if (this.kept.length < MAX_PROBLEMS_SHOWN) this.kept.push(found);
    }
  }
}

/** The problems of several lists in their order, the first MAX_PROBLEMS_SHOWN listed and the rest counted. */
export function listProblems(lists: ProblemList[]): ImportProblem[] {
  const total = lists.reduce((sum, list) => sum + list.count, 0);
  const shown = lists.flatMap((list) => list.kept).slice(0, MAX_PROBLEMS_SHOWN);
  if (total <= MAX_PROBLEMS_SHOWN) return shown;
  return [
    ...shown,
    problem(
      null,
      null,
      null,
      null,
      `${total - MAX_PROBLEMS_SHOWN} more problems are not listed: fix these and import again`,
    ),
  ];
}

const turnOf = (name: string) => {
  const turn = (SHEET_NAMES as readonly string[]).indexOf(name);
  return turn === -1 ? SHEET_NAMES.length : turn;
};

/**
 * The file's shape, sheet by sheet as it is read: known sheets, each once; known columns, each once; every
 * required column present; then each row's cells read for their column's type. Rows are handed on as they
 * come and never kept; what is kept is the problems, listed by the sheet's place in the file (its header's
 * first, then its cells'). The sheets arrive in the planner's order (readRegisterFile sees to it).
 */
export class SheetReader {
  private readonly sheets: AsyncIterator<ReadSheet>;
  private pending: ReadSheet | null | undefined;
  private readonly seen = new Set<string>();
  private readonly bySheet: { position: number; problems: ProblemList }[] = [];
  /** Non-blank rows read, in every sheet. */
  rows = 0;

  constructor(sheets: AsyncIterable<ReadSheet>) {
    this.sheets = sheets[Symbol.asyncIterator]();
  }

  /** The structure and cell problems, in the file's order of sheets. */
  get problems(): ProblemList[] {
    return [...this.bySheet].sort((a, b) => a.position - b.position).map((sheet) => sheet.problems);
  }

  private async next(): Promise<ReadSheet | null> {
    if (this.pending === undefined) {
      const next = await this.sheets.next();
      this.pending = next.done ? null : next.value;
    }
    return this.pending;
  }

  private problemsOf(sheet: ReadSheet): ProblemList {
    const problems = new ProblemList();
    this.bySheet.push({ position: sheet.position, problems });
    return problems;
  }

  /** The rows of the sheet of this name, parsed; none when the file has no such sheet. */
  async *rowsOf(name: SheetName): AsyncGenerator<FileRow> {
    for (
      let sheet = await this.next();
      sheet && turnOf(sheet.name) <= turnOf(name);
      sheet = await this.next()
    ) {
      this.pending = undefined;
      if (this.seen.has(sheet.name)) {
        this.problemsOf(sheet).push(
          problem(sheet.name, null, null, null, `The sheet ${sheet.name} appears twice`),
        );
        continue;
      }
      // Sorted by readRegisterFile; a sheet met after its turn would have been read too late.
      if (sheet.name !== name)
        throw new FileRefused(
          problem(
            sheet.name,
            null,
            null,
            null,
            `The sheet ${sheet.name} could not be read in its turn; save the workbook again and retry`,
          ),
        );
      this.seen.add(name);
      yield* this.parsed(name, sheet);
    }
  }

  /** Reads what is left once the planner is done: unknown sheets, reported. */
  async finish(): Promise<void> {
    for (let sheet = await this.next(); sheet; sheet = await this.next()) {
      this.pending = undefined;
      for await (const _ of sheet.rows) this.rows++;
      this.problemsOf(sheet).push(
        this.seen.has(sheet.name)
          ? problem(sheet.name, null, null, null, `The sheet ${sheet.name} appears twice`)
          : problem(
              sheet.name,
              null,
              null,
              null,
              `Unknown sheet "${sheet.name}": the sheets are ${SHEET_NAMES.join(', ')}`,
            ),
      );
    }
  }

  private async *parsed(name: SheetName, sheet: ReadSheet): AsyncGenerator<FileRow> {
    const problems = this.problemsOf(sheet);
    const columns = SHEETS[name];
    const known = new Map(columns.map((column) => [column.name, column]));
    const positions = new Map<string, number>();
    // The header's problems in its order; a column without a name is one only if a row fills it in.
    const header: (ImportProblem | number)[] = [];
    sheet.header.forEach((column, index) => {
      if (column === '') header.push(index);
      if (!known.has(column)) {
        if (column !== '')
          header.push(
            problem(
              name,
              1,
              column,
              column,
              `Unknown column "${column}" in ${name}: its columns are ${columns.map((c) => c.name).join(', ')}`,
            ),
          );
      } else if (positions.has(column))
        header.push(problem(name, 1, column, column, `The column ${column} appears twice in ${name}`));
      else positions.set(column, index);
    });
    const unnamed = header.filter((entry): entry is number => typeof entry === 'number');
    const filled = new Set<number>();
    const cells = new ProblemList();
    for await (const { row, cells: values } of sheet.rows) {
      this.rows++;
      for (const index of unnamed)
        if (values[index] !== null && values[index] !== undefined) filled.add(index);
      const fields: Fields = {};
      for (const column of columns) {
        const position = positions.get(column.name);
        const raw = position === undefined ? null : (values[position] ?? null);
        const result = parseCell(column, raw);
        if ('problem' in result) cells.push(problem(name, row, column.name, shownValue(raw), result.problem));
        else fields[column.name] = result.value;
      }
      yield { sheet: name, row, fields };
    }
    for (const entry of header)
      if (typeof entry !== 'number') problems.push(entry);
      else if (filled.has(entry))
        problems.push(
          problem(
            name,
            1,
            null,
            null,
            `Unknown column "" in ${name}: its columns are ${columns.map((c) => c.name).join(', ')}`,
          ),
        );
    for (const column of columns)
      if (column.required && !positions.has(column.name))
        problems.push(
          problem(
            name,
            1,
            column.name,
            null,
            `The sheet ${name} needs a column ${column.name}: ${column.description}`,
          ),
        );
    problems.push(...cells.kept);
    problems.count += cells.count - cells.kept.length;
  }
}

/** The register as it is, read once inside the import's transaction. */
async function loadRegister(manager: EntityManager) {
  const [
    suppliers,
    clients,
    contracts,
    agreements,
    supplierLinks,
    agreementLinks,
    openIncidentSuppliers,
    clientsWithContracts,
  ] = await Promise.all([
    manager.query(
      `SELECT id, name, company_number, lei, country, tier, strategic FROM supplier WHERE removed_at IS NULL`,
    ) as Promise<SupplierRecord[]>,
    manager.query(`SELECT id, reference, name, sector, country, regimes FROM client`) as Promise<
      ClientRecord[]
    >,
    manager.query(
      `SELECT id, client_id, supplier_id, reference, title, value_amount::text AS value_amount, value_currency, starts_on, ends_on, criticality
           FROM contract WHERE removed_at IS NULL`,
    ) as Promise<ContractRecord[]>,
    manager.query(
      `SELECT a.id, a.contract_id, a.reference, a.data_categories, a.data_subject_count, a.processing_locations, a.data_retained_until
           FROM data_processing_agreement a JOIN contract c ON c.id = a.contract_id AND c.removed_at IS NULL
          WHERE a.removed_at IS NULL`,
    ) as Promise<AgreementRecord[]>,
    manager.query(
      `SELECT l.supplier_id, l.subprocessor_id FROM supplier_subprocessor l
           JOIN supplier s ON s.id = l.supplier_id AND s.removed_at IS NULL
           JOIN supplier p ON p.id = l.subprocessor_id AND p.removed_at IS NULL`,
    ) as Promise<{ supplier_id: string; subprocessor_id: string }[]>,
    manager.query(
      `SELECT l.agreement_id, l.subprocessor_id FROM agreement_subprocessor l
           JOIN data_processing_agreement a ON a.id = l.agreement_id AND a.removed_at IS NULL
           JOIN contract c ON c.id = a.contract_id AND c.removed_at IS NULL`,
    ) as Promise<{ agreement_id: string; subprocessor_id: string }[]>,
    manager.query(`SELECT DISTINCT supplier_id FROM incident WHERE status <> 'CLOSED'`) as Promise<
      { supplier_id: string }[]
    >,
    manager.query(`SELECT DISTINCT client_id FROM contract`) as Promise<{ client_id: string }[]>,
  ]);
  return {
    suppliers,
    clients,
    contracts,
    agreements,
    supplierLinks,
    agreementLinks,
    openIncidentSuppliers: new Set(openIncidentSuppliers.map((r) => r.supplier_id)),
    clientsWithContracts: new Set(clientsWithContracts.map((r) => r.client_id)),
  };
}

const str = (value: FieldValue | undefined) =>
  value === undefined || value === null ? null : (value as string);
const list = (value: FieldValue | undefined) => (Array.isArray(value) ? value : []);

const supplierLabel = (s: {
  name: string;
  country: string;
  company_number: string | null;
  lei: string | null;
}) => s.company_number ?? s.lei ?? `${s.name} (${s.country})`;

/**
 * Checks every row against the file and the register and works out what would change, writing nothing.
 * Rows refer to each other by natural keys; in mode=replace only the file counts (whatever is not in it goes),
 * otherwise the file and the register together.
 */
export async function planImport(
  manager: EntityManager,
  rowsOf: (sheet: SheetName) => AsyncIterable<FileRow>,
  mode: ImportMode,
  onProgress: (sheet: SheetName, done: number, total: number) => void = () => undefined,
  /** False for a dry run: the rows to write are only counted. */
  keepRows = true,
): Promise<PlanResult> {
  const db = await loadRegister(manager);
  const problems = new ProblemList();
  const counts = emptyCounts();
  const removals: Removal[] = [];
  const replace = mode === 'replace';
  const dbSupplierById = new Map(db.suppliers.map((s) => [s.id, s]));
  const dbClientById = new Map(db.clients.map((c) => [c.id, c]));
  const dbContractById = new Map(db.contracts.map((c) => [c.id, c]));
  /** Rows read per sheet: each sheet is read once, in this order, as the planner comes to it. */
  const read = Object.fromEntries(SHEET_NAMES.map((sheet) => [sheet, 0])) as Record<SheetName, number>;
  async function* rowsOfSheet(sheet: SheetName): AsyncGenerator<FileRow> {
    for await (const row of rowsOf(sheet)) {
      read[sheet]++;
      yield row;
    }
  }
  const rowsFor = <T extends object>(table: string, columns: string) =>
    new PlannedRows<T>(keepRows ? manager : null, `import_${table}`, columns);
  const plan: ImportPlan = {
    suppliers: {
      insert: rowsFor('supplier_insert', SUPPLIER_COLUMNS),
      update: rowsFor('supplier_update', SUPPLIER_COLUMNS),
      archive: [],
    },
    clients: {
      insert: rowsFor('client_insert', CLIENT_COLUMNS),
      update: rowsFor('client_update', CLIENT_COLUMNS),
      remove: [],
    },
    contracts: {
      insert: rowsFor('contract_insert', CONTRACT_COLUMNS),
      update: rowsFor('contract_update', CONTRACT_COLUMNS),
      archive: [],
    },
    agreements: {
      insert: rowsFor('agreement_insert', AGREEMENT_COLUMNS),
      update: rowsFor('agreement_update', AGREEMENT_COLUMNS),
      archive: [],
    },
    supplierLinks: {
      insert: rowsFor('supplier_link_insert', 'supplier_id uuid, subprocessor_id uuid'),
      remove: [],
    },
    agreementLinks: {
      insert: rowsFor('agreement_link_insert', 'agreement_id uuid, subprocessor_id uuid'),
      remove: [],
    },
    touchedClients: [],
    changed: false,
  };
  const touched = new Set<string>();
  let everyClient = false;

  // ------------------------------------------------------------------ suppliers
  const dbByCn = new Map(db.suppliers.filter((s) => s.company_number).map((s) => [s.company_number!, s]));
  const dbByLei = new Map(db.suppliers.filter((s) => s.lei).map((s) => [s.lei!, s]));
  const dbByNameCountry = new Map<string, SupplierRecord[]>();
  for (const s of db.suppliers) {
    const key = `${s.name}\u0000${s.country}`;
    dbByNameCountry.set(key, [...(dbByNameCountry.get(key) ?? []), s]);
  }
  /** The suppliers after the import, each with the file row that states it (none: kept from the register). */
  const finalSuppliers = new Map<string, { record: SupplierRecord; row: number | null }>();
  const fileSupplierRow = new Map<string, number>();
  const seenCn = new Map<string, number>();
  const seenLei = new Map<string, number>();
  const seenNameCountry = new Map<string, number>();
  for await (const { row, fields } of rowsOfSheet('suppliers')) {
    const cn = str(fields.companyNumber);
    const lei = str(fields.lei);
    const name = str(fields.name);
    const country = str(fields.country);
    // A row with a cell problem is reported for it and taken no further.
    if (Object.keys(fields).length < SHEETS.suppliers.length) continue;
    if (name === null || country === null) continue;
    const nameCountry = `${name}\u0000${country}`;
    let duplicate = false;
    for (const [seen, key, column] of [
      [seenCn, cn, 'companyNumber'],
      [seenLei, lei, 'lei'],
      [seenNameCountry, !cn && !lei ? nameCountry : null, 'name'],
    ] as const) {
      if (key === null) continue;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        duplicate = true;
        problems.push(
          problem(
            'suppliers',
            row,
            column,
            column === 'name' ? name : key,
            `Duplicate key: rows ${earlier} and ${row} are the same supplier (${column === 'name' ? `${name}, ${country}` : key}); keep one`,
          ),
        );
      } else seen.set(key, row);
    }
    if (duplicate) continue;
    let match: SupplierRecord | undefined = (cn && dbByCn.get(cn)) || (lei && dbByLei.get(lei)) || undefined;
    if (!match) {
      const candidates = dbByNameCountry.get(nameCountry) ?? [];
      if (candidates.length > 1) {
        problems.push(
          problem(
            'suppliers',
            row,
            'name',
            name,
            `${candidates.length} suppliers in the register are called ${name} (${country}): add the company number or LEI to say which`,
          ),
        );
        continue;
      }
      match = candidates[0];
    }
    if (match && fileSupplierRow.has(match.id)) {
      problems.push(
        problem(
          'suppliers',
          row,
          cn ? 'companyNumber' : lei ? 'lei' : 'name',
          cn ?? lei ?? name,
          `Duplicate key: rows ${fileSupplierRow.get(match.id)} and ${row} both describe the register's supplier ${supplierLabel(match)}`,
        ),
      );
      continue;
    }
    const record: SupplierRecord = {
      id: match?.id ?? randomUUID(),
      name,
      company_number: cn,
      lei,
      country,
      tier: fields.tier as string,
      strategic: (fields.strategic as boolean | null) ?? false,
    };
    fileSupplierRow.set(record.id, row);
    finalSuppliers.set(record.id, { record, row });
    if (!match) {
      await plan.suppliers.insert.push(record);
      counts.suppliers.created++;
    } else if (
      match.name !== record.name ||
      match.company_number !== record.company_number ||
      match.lei !== record.lei ||
      match.country !== record.country ||
      match.tier !== record.tier ||
      match.strategic !== record.strategic
    ) {
      await plan.suppliers.update.push(record);
      counts.suppliers.updated++;
    } else counts.suppliers.unchanged++;
  }
  for (const s of db.suppliers) {
    if (finalSuppliers.has(s.id)) continue;
    if (!replace) finalSuppliers.set(s.id, { record: s, row: null });
    else if (db.openIncidentSuppliers.has(s.id))
      problems.push(
        problem(
          'suppliers',
          null,
          null,
          supplierLabel(s),
          `mode=replace would remove the supplier ${s.name} (${supplierLabel(s)}), which is not in the file, but it has an incident that is not CLOSED: keep it in the file or close the incident`,
        ),
      );
    else {
      plan.suppliers.archive.push(s.id);
      counts.suppliers.removed++;
      removals.push({ sheet: 'suppliers', key: supplierLabel(s) });
    }
  }
  // Identifiers stay unique across the suppliers that remain (a file row may take one a register row holds).
  const finalByCn = new Map<string, SupplierRecord>();
  const finalByLei = new Map<string, SupplierRecord>();
  const finalByNameCountry = new Map<string, SupplierRecord[]>();
  for (const { record, row } of finalSuppliers.values()) {
    for (const [map, key, column] of [
      [finalByCn, record.company_number, 'companyNumber'],
      [finalByLei, record.lei, 'lei'],
    ] as const) {
      if (!key) continue;
      const holder = map.get(key);
      if (holder && row !== null)
        problems.push(
          problem(
            'suppliers',
            row,
            column,
            key,
            `${column} ${key} belongs to another supplier in the register (${holder.name}): give it to one supplier only`,
          ),
        );
      map.set(key, record);
    }
    const nameCountry = `${record.name}\u0000${record.country}`;
    finalByNameCountry.set(nameCountry, [...(finalByNameCountry.get(nameCountry) ?? []), record]);
  }
  onProgress('suppliers', read.suppliers, read.suppliers);
  const where = replace ? 'in the suppliers sheet' : 'in the suppliers sheet or the register';

  /** The supplier a row names by company number, LEI, or name and country (the first filled in). */
  const resolveSupplier = (
    sheet: SheetName,
    row: number,
    fields: Fields,
    prefix: 'supplier' | 'subprocessor',
    required: boolean,
  ): SupplierRecord | null | undefined => {
    const cn = str(fields[`${prefix}CompanyNumber`]);
    const lei = str(fields[`${prefix}Lei`]);
    const name = str(fields[`${prefix}Name`]);
    const country = str(fields[`${prefix}Country`]);
    if (cn) {
      const found = finalByCn.get(cn);
      if (!found)
        problems.push(
          problem(
            sheet,
            row,
            `${prefix}CompanyNumber`,
            cn,
            `Dangling reference: no supplier with companyNumber ${cn} ${where}`,
          ),
        );
      return found ?? undefined;
    }
    if (lei) {
      const found = finalByLei.get(lei);
      if (!found)
        problems.push(
          problem(
            sheet,
            row,
            `${prefix}Lei`,
            lei,
            `Dangling reference: no supplier with lei ${lei} ${where}`,
          ),
        );
      return found ?? undefined;
    }
    if (name && country) {
      const found = finalByNameCountry.get(`${name}\u0000${country}`) ?? [];
      if (found.length === 1) return found[0];
      problems.push(
        problem(
          sheet,
          row,
          `${prefix}Name`,
          name,
          found.length
            ? `${found.length} suppliers are called ${name} (${country}): name it by ${prefix}CompanyNumber or ${prefix}Lei`
            : `Dangling reference: no supplier called ${name} in ${country} ${where}`,
        ),
      );
      return undefined;
    }
    if (required || name || country)
      problems.push(
        problem(
          sheet,
          row,
          `${prefix}CompanyNumber`,
          name ?? country,
          `Say which supplier: fill in ${prefix}CompanyNumber, ${prefix}Lei, or ${prefix}Name with ${prefix}Country`,
        ),
      );
    return required || name || country ? undefined : null;
  };

  // ------------------------------------------------------------------ clients
  const dbClientByRef = new Map(db.clients.map((c) => [c.reference, c]));
  const finalClients = new Map<string, ClientRecord>();
  const clientRowOf = new Map<string, number>();
  for await (const { row, fields } of rowsOfSheet('clients')) {
    const reference = str(fields.reference);
    if (reference === null || Object.keys(fields).length < SHEETS.clients.length) continue;
    const at = { sheet: 'clients', column: 'reference', value: reference } as const;
    if (!firstOfKey(clientRowOf, reference, row, problems, at, `have the reference ${reference}`)) continue;
    const match = dbClientByRef.get(reference);
    const regimes = list(fields.regimes);
    const record: ClientRecord = {
      id: match?.id ?? randomUUID(),
      reference,
      name: fields.name as string,
      sector: fields.sector as string,
      country: str(fields.country) ?? 'GB',
      regimes: regimes.length ? regimes : null,
    };
    finalClients.set(reference, record);
    if (!match) {
      await plan.clients.insert.push(record);
      counts.clients.created++;
    } else if (
      match.name !== record.name ||
      match.sector !== record.sector ||
      match.country !== record.country ||
      !sameSet(match.regimes, record.regimes)
    ) {
      await plan.clients.update.push(record);
      counts.clients.updated++;
      touched.add(record.id);
    } else counts.clients.unchanged++;
  }
  for (const c of db.clients) {
    if (finalClients.has(c.reference)) continue;
    if (!replace) finalClients.set(c.reference, c);
    // A client whose contracts (even removed ones) are on record stays: removed contracts name it (rule 10).
    else if (!db.clientsWithContracts.has(c.id)) {
      plan.clients.remove.push(c.id);
      counts.clients.removed++;
      removals.push({ sheet: 'clients', key: c.reference });
    }
  }
  onProgress('clients', read.clients, read.clients);
  const clientWhere = replace ? 'in the clients sheet' : 'in the clients sheet or the register';
  const resolveClient = (sheet: SheetName, row: number, column: string, reference: string | null) => {
    if (reference === null) return undefined;
    const found = finalClients.get(reference);
    if (!found)
      problems.push(
        problem(
          sheet,
          row,
          column,
          reference,
          `Dangling reference: no client with the reference ${reference} ${clientWhere}`,
        ),
      );
    return found;
  };

  // ------------------------------------------------------------------ contracts
  const clientById = new Map([...finalClients.values()].map((c) => [c.id, c]));
  const contractKey = (clientId: string, reference: string) => joinKey(clientId, reference);
  const dbContracts = new Map(db.contracts.map((c) => [contractKey(c.client_id, c.reference), c]));
  const finalContracts = new Map<string, ContractKey>();
  const contractRowOf = new Map<string, number>();
  for await (const { row, fields } of rowsOfSheet('contracts')) {
    const client = resolveClient('contracts', row, 'clientReference', str(fields.clientReference));
    const supplier = resolveSupplier('contracts', row, fields, 'supplier', true);
    const reference = str(fields.reference);
    if (
      !client ||
      !supplier ||
      reference === null ||
      // A cell with a problem of its own is reported once, not again as what follows from it.
      ['title', 'startsOn', 'endsOn', 'criticality', 'valueAmount', 'valueCurrency'].some(
        (column) => fields[column] === undefined,
      )
    )
      continue;
    const key = contractKey(client.id, reference);
    const at = { sheet: 'contracts', column: 'reference', value: reference } as const;
    const sameAs = `are both the contract ${reference} of client ${client.reference}`;
    if (!firstOfKey(contractRowOf, key, row, problems, at, sameAs)) continue;
    const amount = str(fields.valueAmount);
    const currency = str(fields.valueCurrency);
    if ((amount === null) !== (currency === null)) {
      problems.push(
        problem(
          'contracts',
          row,
          amount === null ? 'valueAmount' : 'valueCurrency',
          amount ?? currency,
          'valueAmount and valueCurrency go together: fill in both or neither',
        ),
      );
      continue;
    }
    const startsOn = fields.startsOn as string;
    const endsOn = str(fields.endsOn);
    if (endsOn !== null && endsOn < startsOn) {
      problems.push(
        problem(
          'contracts',
          row,
          'endsOn',
          endsOn,
          `endsOn (${endsOn}) must not be before startsOn (${startsOn})`,
        ),
      );
      continue;
    }
    const match = dbContracts.get(key);
    const record: ContractRecord = {
      id: match?.id ?? randomUUID(),
      client_id: client.id,
      supplier_id: supplier.id,
      reference,
      title: fields.title as string,
      value_amount: amount,
      value_currency: currency,
      starts_on: startsOn,
      ends_on: endsOn,
      criticality: fields.criticality as string,
    };
    finalContracts.set(key, {
      id: record.id,
      client_id: record.client_id,
      supplier_id: record.supplier_id,
      reference,
      starts_on: startsOn,
    });
    if (!match) {
      await plan.contracts.insert.push(record);
      counts.contracts.created++;
      touched.add(client.id);
    } else if (
      (
        [
          'supplier_id',
          'title',
          'value_amount',
          'value_currency',
          'starts_on',
          'ends_on',
          'criticality',
        ] as const
      ).some((column) => match[column] !== record[column])
    ) {
      await plan.contracts.update.push(record);
      counts.contracts.updated++;
      touched.add(client.id);
    } else counts.contracts.unchanged++;
  }
  const archivedContracts = new Set<string>();
  for (const [key, c] of dbContracts) {
    if (finalContracts.has(key)) continue;
    // A contract whose client goes (mode=replace) goes with it; otherwise it stays unless replace says so.
    if (!replace && clientById.has(c.client_id)) finalContracts.set(key, c);
    else {
      plan.contracts.archive.push(c.id);
      archivedContracts.add(c.id);
      counts.contracts.removed++;
      touched.add(c.client_id);
      const client = dbClientById.get(c.client_id);
      removals.push({ sheet: 'contracts', key: `${client?.reference ?? c.client_id} / ${c.reference}` });
    }
  }
  onProgress('contracts', read.contracts, read.contracts);

  // ------------------------------------------------------------------ agreements
  const contractWhere = replace ? 'in the contracts sheet' : 'in the contracts sheet or the register';
  const contractById = new Map([...finalContracts.values()].map((c) => [c.id, c]));
  const agreementKey = (contractId: string, reference: string) => joinKey(contractId, reference);
  const dbAgreements = new Map(db.agreements.map((a) => [agreementKey(a.contract_id, a.reference), a]));
  const finalAgreements = new Map<string, AgreementKey>();
  const agreementRowOf = new Map<string, number>();
  const resolveContract = (
    sheet: SheetName,
    row: number,
    clientReference: string | null,
    reference: string | null,
  ) => {
    const client = resolveClient(sheet, row, 'clientReference', clientReference);
    if (!client || reference === null) return undefined;
    const found = finalContracts.get(contractKey(client.id, reference));
    if (!found)
      problems.push(
        problem(
          sheet,
          row,
          'contractReference',
          reference,
          `Dangling reference: client ${client.reference} has no contract ${reference} ${contractWhere}`,
        ),
      );
    return found;
  };
  for await (const { row, fields } of rowsOfSheet('agreements')) {
    const contract = resolveContract(
      'agreements',
      row,
      str(fields.clientReference),
      str(fields.contractReference),
    );
    const reference = str(fields.reference);
    if (
      !contract ||
      reference === null ||
      ['dataCategories', 'dataSubjectCount', 'processingLocations', 'dataRetainedUntil'].some(
        (column) => fields[column] === undefined,
      )
    )
      continue;
    const key = agreementKey(contract.id, reference);
    const at = { sheet: 'agreements', column: 'reference', value: reference } as const;
    const sameAs = `are both the agreement ${reference} of contract ${contract.reference}`;
    if (!firstOfKey(agreementRowOf, key, row, problems, at, sameAs)) continue;
    const retainedUntil = str(fields.dataRetainedUntil);
    if (retainedUntil !== null && retainedUntil < contract.starts_on) {
      problems.push(
        problem(
          'agreements',
          row,
          'dataRetainedUntil',
          retainedUntil,
          `dataRetainedUntil (${retainedUntil}) must not be before the contract starts (${contract.starts_on})`,
        ),
      );
      continue;
    }
    const match = dbAgreements.get(key);
    const record: AgreementRecord = {
      id: match?.id ?? randomUUID(),
      contract_id: contract.id,
      reference,
      data_categories: list(fields.dataCategories),
      data_subject_count: fields.dataSubjectCount as number,
      processing_locations: list(fields.processingLocations),
      data_retained_until: retainedUntil,
    };
    finalAgreements.set(key, { id: record.id, contract_id: contract.id, reference });
    if (!match) {
      await plan.agreements.insert.push(record);
      counts.agreements.created++;
      touched.add(contract.client_id);
    } else if (
      !sameSet(match.data_categories, record.data_categories) ||
      match.data_subject_count !== record.data_subject_count ||
      !sameSet(match.processing_locations, record.processing_locations) ||
      match.data_retained_until !== record.data_retained_until
    ) {
      await plan.agreements.update.push(record);
      counts.agreements.updated++;
      touched.add(contract.client_id);
    } else counts.agreements.unchanged++;
  }
  for (const [key, a] of dbAgreements) {
    if (finalAgreements.has(key)) continue;
    if (!replace && contractById.has(a.contract_id)) finalAgreements.set(key, a);
    else if (!archivedContracts.has(a.contract_id)) {
      plan.agreements.archive.push(a.id);
      counts.agreements.removed++;
      const contract = dbContractById.get(a.contract_id)!;
      touched.add(contract.client_id);
      removals.push({ sheet: 'agreements', key: `${contract.reference} / ${a.reference}` });
    } else counts.agreements.removed++; // archived with its contract
  }
  onProgress('agreements', read.agreements, read.agreements);

  // ------------------------------------------------------------------ sub-processor links
  const dbSupplierLinks = new Set(db.supplierLinks.map((l) => joinKey(l.supplier_id, l.subprocessor_id)));
  const dbAgreementLinks = new Set(db.agreementLinks.map((l) => joinKey(l.agreement_id, l.subprocessor_id)));
  const fileLinks = new Map<string, number>();
  for await (const { row, fields } of rowsOfSheet('subprocessors')) {
    const clientReference = str(fields.clientReference);
    const contractReference = str(fields.contractReference);
    const agreementReference = str(fields.agreementReference);
    const agreementLevel = [clientReference, contractReference, agreementReference].filter(
      (v) => v !== null,
    ).length;
    if (agreementLevel !== 0 && agreementLevel !== 3) {
      problems.push(
        problem(
          'subprocessors',
          row,
          clientReference === null
            ? 'clientReference'
            : contractReference === null
              ? 'contractReference'
              : 'agreementReference',
          null,
          'An agreement-level link needs clientReference, contractReference and agreementReference; a supplier-level link none of them',
        ),
      );
      continue;
    }
    const subprocessor = resolveSupplier('subprocessors', row, fields, 'subprocessor', true);
    const supplier = resolveSupplier('subprocessors', row, fields, 'supplier', agreementLevel === 0);
    if (!subprocessor || supplier === undefined) continue;
    let key: string;
    if (agreementLevel === 3) {
      const contract = resolveContract('subprocessors', row, clientReference, contractReference);
      if (!contract) continue;
      const agreement = finalAgreements.get(agreementKey(contract.id, agreementReference!));
      if (!agreement) {
        problems.push(
          problem(
            'subprocessors',
            row,
            'agreementReference',
            agreementReference,
            `Dangling reference: contract ${contract.reference} has no agreement ${agreementReference} ${replace ? 'in the agreements sheet' : 'in the agreements sheet or the register'}`,
          ),
        );
        continue;
      }
      if (supplier && supplier.id !== contract.supplier_id) {
        problems.push(
          problem(
            'subprocessors',
            row,
            'supplierName',
            supplier.name,
            `The agreement's contract ${contract.reference} is with another supplier: leave the supplier columns empty or name the contract's supplier`,
          ),
        );
        continue;
      }
      if (subprocessor.id === contract.supplier_id) {
        problems.push(
          problem(
            'subprocessors',
            row,
            'subprocessorName',
            subprocessor.name,
            "The contract's own supplier cannot be a sub-processor of its agreement",
          ),
        );
        continue;
      }
      key = joinKey('a', agreement.id, subprocessor.id);
      if (!fileLinks.has(key)) {
        if (dbAgreementLinks.has(joinKey(agreement.id, subprocessor.id))) counts.subprocessors.unchanged++;
        else {
          await plan.agreementLinks.insert.push({
            agreement_id: agreement.id,
            subprocessor_id: subprocessor.id,
          });
          counts.subprocessors.created++;
          touched.add(contract.client_id);
        }
      }
    } else {
      if (supplier!.id === subprocessor.id) {
        problems.push(
          problem(
            'subprocessors',
            row,
            'subprocessorName',
            subprocessor.name,
            'A supplier cannot be its own sub-processor',
          ),
        );
        continue;
      }
      key = joinKey('s', supplier!.id, subprocessor.id);
      if (!fileLinks.has(key)) {
        if (dbSupplierLinks.has(joinKey(supplier!.id, subprocessor.id))) counts.subprocessors.unchanged++;
        else {
          await plan.supplierLinks.insert.push({
            supplier_id: supplier!.id,
            subprocessor_id: subprocessor.id,
          });
          counts.subprocessors.created++;
          everyClient = true;
        }
      }
    }
    const at = { sheet: 'subprocessors', column: 'subprocessorName', value: subprocessor.name } as const;
    if (!firstOfKey(fileLinks, key, row, problems, at, 'are the same link')) continue;
  }
  if (replace) {
    const archivedSuppliers = new Set(plan.suppliers.archive);
    for (const l of db.supplierLinks)
      if (!fileLinks.has(joinKey('s', l.supplier_id, l.subprocessor_id))) {
        plan.supplierLinks.remove.push([l.supplier_id, l.subprocessor_id]);
        counts.subprocessors.removed++;
        everyClient = true;
        const a = dbSupplierById.get(l.supplier_id)!;
        const b = dbSupplierById.get(l.subprocessor_id)!;
        if (!archivedSuppliers.has(a.id) && !archivedSuppliers.has(b.id))
          removals.push({ sheet: 'subprocessors', key: `${supplierLabel(a)} → ${supplierLabel(b)}` });
      }
    const archivedAgreements = new Set(plan.agreements.archive);
    const liveAgreements = new Map([...finalAgreements.values()].map((a) => [a.id, a]));
    for (const l of db.agreementLinks)
      if (
        !fileLinks.has(joinKey('a', l.agreement_id, l.subprocessor_id)) &&
        liveAgreements.has(l.agreement_id) &&
        !archivedAgreements.has(l.agreement_id)
      ) {
        plan.agreementLinks.remove.push([l.agreement_id, l.subprocessor_id]);
        counts.subprocessors.removed++;
        const agreement = liveAgreements.get(l.agreement_id)!;
        const contract = contractById.get(agreement.contract_id)!;
        touched.add(contract.client_id);
        const subprocessor = dbSupplierById.get(l.subprocessor_id);
        removals.push({
          sheet: 'subprocessors',
          key: `${dbClientById.get(contract.client_id)?.reference} / ${contract.reference} / ${agreement.reference} → ${subprocessor ? supplierLabel(subprocessor) : l.subprocessor_id}`,
        });
      }
  }
  onProgress('subprocessors', read.subprocessors, read.subprocessors);

  if (plan.suppliers.insert.length || plan.suppliers.update.length || plan.suppliers.archive.length)
    everyClient = true;
  plan.changed =
    Object.values(counts).some((c) => c.created + c.updated + c.removed > 0) ||
    plan.clients.remove.length > 0;
  plan.touchedClients = everyClient ? null : [...touched];
  const rows = Object.values(read).reduce((sum, n) => sum + n, 0);
  return { counts, problems, removals, plan, rows };
}

async function chunked<T>(rows: T[], work: (chunk: T[]) => Promise<unknown>, done: (n: number) => void) {
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    await work(chunk);
    done(chunk.length);
  }
}

/**
 * Writes a valid plan, set-based: each table's new and changed rows (from the planner's temporary tables,
 * or in chunks of 5,000 through jsonb_to_recordset when there were few), then the removals of mode=replace.
 */
export async function applyPlan(
  manager: EntityManager,
  plan: ImportPlan,
  onProgress: (sheet: SheetName, done: number) => void = () => undefined,
): Promise<void> {
  const json = (rows: unknown[]) => [JSON.stringify(rows)];
  const progress = (sheet: SheetName) => (n: number) => onProgress(sheet, n);
  await plan.suppliers.insert.write(
    (source) =>
      `INSERT INTO supplier (id, name, company_number, lei, country, tier, strategic) SELECT * FROM ${source}`,
    progress('suppliers'),
  );
  await plan.suppliers.update.write(
    (source) =>
      `UPDATE supplier s SET name = r.name, company_number = r.company_number, lei = r.lei, country = r.country,
              tier = r.tier, strategic = r.strategic, updated_at = now()
         FROM ${source} WHERE s.id = r.id`,
    progress('suppliers'),
  );
  await plan.clients.insert.write(
    (source) => `INSERT INTO client (id, reference, name, sector, country, regimes) SELECT * FROM ${source}`,
    progress('clients'),
  );
  await plan.clients.update.write(
    (source) =>
      `UPDATE client k SET name = r.name, sector = r.sector, country = r.country, regimes = r.regimes, updated_at = now()
         FROM ${source} WHERE k.id = r.id`,
    progress('clients'),
  );
  await plan.contracts.insert.write(
    (source) =>
      `INSERT INTO contract (id, client_id, supplier_id, reference, title, value_amount, value_currency, starts_on, ends_on, criticality)
       SELECT * FROM ${source}`,
    progress('contracts'),
  );
  await plan.contracts.update.write(
    (source) =>
      `UPDATE contract c SET supplier_id = r.supplier_id, title = r.title, value_amount = r.value_amount,
              value_currency = r.value_currency, starts_on = r.starts_on, ends_on = r.ends_on,
              criticality = r.criticality, updated_at = now()
         FROM ${source} WHERE c.id = r.id`,
    progress('contracts'),
  );
  await plan.agreements.insert.write(
    (source) =>
      `INSERT INTO data_processing_agreement (id, contract_id, reference, data_categories, data_subject_count, processing_locations, data_retained_until)
       SELECT * FROM ${source}`,
    progress('agreements'),
  );
  await plan.agreements.update.write(
    (source) =>
      `UPDATE data_processing_agreement a SET data_categories = r.data_categories, data_subject_count = r.data_subject_count,
              processing_locations = r.processing_locations, data_retained_until = r.data_retained_until, updated_at = now()
         FROM ${source} WHERE a.id = r.id`,
    progress('agreements'),
  );
  await plan.supplierLinks.insert.write(
    (source) => `INSERT INTO supplier_subprocessor (supplier_id, subprocessor_id) SELECT * FROM ${source}`,
    progress('subprocessors'),
  );
  await plan.agreementLinks.insert.write(
    (source) => `INSERT INTO agreement_subprocessor (agreement_id, subprocessor_id) SELECT * FROM ${source}`,
    progress('subprocessors'),
  );

  // mode=replace: links first (a supplier relied on cannot go), then agreements, contracts, suppliers, clients.
  await chunked(
    plan.supplierLinks.remove,
    (rows) =>
      manager.query(
        `DELETE FROM supplier_subprocessor l USING jsonb_array_elements($1::jsonb) r
        WHERE l.supplier_id = (r->>0)::uuid AND l.subprocessor_id = (r->>1)::uuid`,
        json(rows),
      ),
    progress('subprocessors'),
  );
  await chunked(
    plan.agreementLinks.remove,
    (rows) =>
      manager.query(
        `DELETE FROM agreement_subprocessor l USING jsonb_array_elements($1::jsonb) r
        WHERE l.agreement_id = (r->>0)::uuid AND l.subprocessor_id = (r->>1)::uuid`,
        json(rows),
      ),
    progress('subprocessors'),
  );
  await chunked(
    plan.agreements.archive,
    (ids) =>
      manager.query(
        `UPDATE data_processing_agreement SET removed_at = now(), updated_at = now() WHERE id = ANY($1::uuid[])`,
        [ids],
      ),
    progress('agreements'),
  );
  // Rule 10: a removed contract's agreements are archived with it, at the same instant.
  await chunked(
    plan.contracts.archive,
    (ids) =>
      manager.query(
        `WITH archived AS (UPDATE contract SET removed_at = now(), updated_at = now() WHERE id = ANY($1::uuid[]) RETURNING id)
       UPDATE data_processing_agreement SET removed_at = now(), updated_at = now()
        WHERE contract_id IN (SELECT id FROM archived) AND removed_at IS NULL`,
        [ids],
      ),
    progress('contracts'),
  );
  await chunked(
    plan.suppliers.archive,
    (ids) =>
      manager.query(`UPDATE supplier SET removed_at = now(), updated_at = now() WHERE id = ANY($1::uuid[])`, [
        ids,
      ]),
    progress('suppliers'),
  );
  await chunked(
    plan.clients.remove,
    (ids) => manager.query(`DELETE FROM client WHERE id = ANY($1::uuid[])`, [ids]),
    progress('clients'),
  );
}
