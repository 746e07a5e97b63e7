import { DataSource, EntityManager } from 'typeorm';

export interface RegisterSize {
  clients: number;
  suppliers: number;
  contracts: number;
}

export interface SeedSummary extends RegisterSize {
  agreements: number;
  largestSupplierId: string;
  largestSupplierContracts: number;
  largestSupplierClients: number;
  seconds: number;
}

/** The tables the seed fills that carry an audit trigger (migrations/*-AuditTrail.ts). */
const AUDITED_TABLES = [
  'supplier',
  'client',
  'contract',
  'data_processing_agreement',
  'supplier_subprocessor',
  'agreement_subprocessor',
];

/** The tables the seed fills in bulk, whose foreign keys and secondary indexes it drops and puts back. */
const BULK_TABLES = ['contract', 'data_processing_agreement', 'agreement_subprocessor'];

/**
 * Drops the foreign keys of `tables` and their indexes that back no constraint (the primary keys stay),
 * inside the caller's transaction; returns the statements that put them back as they were.
 */
async function dropForBulkLoad(manager: EntityManager, tables: string[]): Promise<string[]> {
  const foreignKeys: { tbl: string; name: string; def: string }[] = await manager.query(
    `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::regclass[])`,
    [tables],
  );
  const indexes: { name: string; def: string }[] = await manager.query(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i
      WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [tables],
  );
  for (const fk of foreignKeys) await manager.query(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT "${fk.name}"`);
  for (const index of indexes) await manager.query(`DROP INDEX ${index.name}`);
  // Room for the index builds and the foreign keys' validating joins, for this transaction only.
  await manager.query(`SET LOCAL maintenance_work_mem = '256MB'`);
  await manager.query(`SET LOCAL work_mem = '64MB'`);
  return [
    ...indexes.map((index) => index.def),
    ...foreignKeys.map((fk) => `ALTER TABLE ${fk.tbl} ADD CONSTRAINT "${fk.name}" ${fk.def}`),
  ];
}

/**
 * Fills an empty register with a realistic shape, generated inside PostgreSQL (INSERT … SELECT over
 * generate_series: no rows travel through Node, so 100,000 contracts take seconds):
 * - 5 strategic suppliers take half of all contracts, the first of them the most (thousands of clients);
 *   the rest is a long tail;
 * - supplier-level sub-processor chains 2 to 4 deep behind the strategic suppliers, including a cycle;
 * - most contracts have one agreement (some two, some none), categories skewed towards contact and
 *   identity data with some health and children's data, people counts spread over orders of magnitude;
 * - a tenth of agreements name an agreement-level cloud sub-processor.
 * setseed() makes the same sizes produce the same register.
 */
export async function seedLargeRegister(
  db: DataSource,
  size: RegisterSize,
  progress: (line: string) => void = () => undefined,
): Promise<SeedSummary> {
  const started = Date.now();
  const steps: [string, string, unknown[]][] = [
    ['random seed', `SELECT setseed(0.42)`, []],
    [
      'suppliers',
      `INSERT INTO supplier (name, country, tier, strategic)
      SELECT 'Bench supplier ' || lpad(g::text, 6, '0'), CASE WHEN g % 17 = 0 THEN 'IE' ELSE 'GB' END,
             CASE WHEN g <= 5 THEN 'STRATEGIC' WHEN g <= 50 THEN 'CRITICAL' WHEN g <= 300 THEN 'IMPORTANT' ELSE 'STANDARD' END, g <= 5
      FROM generate_series(1, $1::int) g`,
      [size.suppliers],
    ],
    [
      'clients',
      `INSERT INTO client (name, reference, sector)
      SELECT 'Bench client ' || lpad(g::text, 6, '0'), 'BENCH-C-' || lpad(g::text, 6, '0'),
             (ARRAY['CENTRAL_GOVERNMENT','LOCAL_GOVERNMENT','HEALTH','EDUCATION','DEFENCE','FINANCIAL_SERVICES','PRIVATE','OTHER'])[1 + g % 8]
      FROM generate_series(1, $1::int) g`,
      [size.clients],
    ],
    [
      'numbering',
      `CREATE TEMP TABLE bench_supplier ON COMMIT DROP AS SELECT id, row_number() OVER (ORDER BY name)::int AS n FROM supplier;
      CREATE TEMP TABLE bench_client ON COMMIT DROP AS SELECT id, row_number() OVER (ORDER BY name)::int AS n FROM client;
      CREATE UNIQUE INDEX ON bench_supplier (n); CREATE UNIQUE INDEX ON bench_client (n)`,
      [],
    ],
    [
      'contracts',
      `INSERT INTO contract (client_id, supplier_id, reference, title, value_amount, value_currency, starts_on, ends_on, criticality)
      SELECT c.id, s.id, 'BENCH-' || g, 'Bench service ' || g, round((random() * 5000000)::numeric, 2), 'GBP',
             DATE '2015-01-01' + (random() * 3000)::int,
             CASE WHEN random() < 0.3 THEN NULL ELSE DATE '2023-06-01' + (random() * 2500)::int END,
             (ARRAY['CRITICAL','IMPORTANT','STANDARD','STANDARD'])[1 + (random() * 3)::int]
      FROM (SELECT g,
                   -- half of all contracts go to the 5 strategic suppliers, skewed towards the first
                   CASE WHEN random() < 0.5 THEN 1 + floor(power(random(), 2) * least(5, $3::int))::int
                        ELSE 1 + floor(random() * $3::int)::int END AS sn,
                   -- a client holds at most one contract per strategic supplier reference, so spread them
                   1 + ((g::bigint * 7919) % $2::int)::int AS cn
            FROM generate_series(1, $1::int) g) pick
      JOIN bench_supplier s ON s.n = pick.sn
      JOIN bench_client c ON c.n = pick.cn`,
      [size.contracts, size.clients, size.suppliers],
    ],
    [
      'agreements',
      `INSERT INTO data_processing_agreement (contract_id, reference, data_categories, data_subject_count, processing_locations, data_retained_until)
      SELECT k.id, 'DPA-' || k.reference || '-' || copy,
             CASE WHEN r < 0.05 THEN ARRAY['BASIC_IDENTITY','HEALTH']
                  WHEN r < 0.10 THEN ARRAY['BASIC_IDENTITY','CHILDREN','EDUCATION']
                  WHEN r < 0.30 THEN ARRAY['BASIC_IDENTITY','CONTACT','FINANCIAL','GOVERNMENT_ID']
                  WHEN r < 0.35 THEN ARRAY['EMPLOYMENT','CRIMINAL_OFFENCE']
                  ELSE ARRAY['BASIC_IDENTITY','CONTACT'] END,
             (power(10, 1 + random() * 5))::int,
             ARRAY['GB'],
             CASE WHEN k.ends_on IS NOT NULL AND random() < 0.3 THEN k.ends_on + 365 END
      FROM (SELECT c.*, random() AS r, random() AS has FROM contract c) k
      CROSS JOIN LATERAL generate_series(1, CASE WHEN k.has < 0.1 THEN 0 WHEN k.has < 0.85 THEN 1 ELSE 2 END) copy`,
      [],
    ],
    [
      'sub-processor chains',
      `INSERT INTO supplier_subprocessor (supplier_id, subprocessor_id)
      SELECT a.id, b.id FROM (VALUES (1, 101), (101, 102), (102, 103), (103, 101), (2, 102), (3, 104), (104, 105), (4, 105), (5, 106), (106, 107), (107, 108))
        AS link(f, t)
      JOIN bench_supplier a ON a.n = link.f JOIN bench_supplier b ON b.n = link.t`,
      [],
    ],
    [
      'agreement sub-processors',
      `INSERT INTO agreement_subprocessor (agreement_id, subprocessor_id)
      SELECT a.id, (SELECT id FROM bench_supplier WHERE n = least(109, (SELECT max(n) FROM bench_supplier)))
      FROM data_processing_agreement a JOIN contract c ON c.id = a.contract_id
      WHERE random() < 0.1 AND c.supplier_id <> (SELECT id FROM bench_supplier WHERE n = least(109, (SELECT max(n) FROM bench_supplier)))`,
      [],
    ],
    ['statistics', `ANALYZE`, []],
  ];
  await db.transaction(async (manager) => {
    // Bulk load of generated, consistent rows: the per-row audit triggers (one jsonb audit row per
    // register row, which would double the work) are switched off for this transaction only. The tables'
    // owner may do that (no superuser needed): ALTER TABLE is transactional and holds its lock to the
    // commit, so no other session ever writes while they are off, and they are back on when it commits.
    for (const table of AUDITED_TABLES)
      await manager.query(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_audit`);
    // PostgreSQL's recipe for populating a database: without its foreign keys and secondary indexes,
    // a million contracts load without a foreign-key lookup per row and key and an index update per row
    // and index; both come back before the commit, each built or checked in one pass (a foreign key added
    // back is validated against every row), so what commits is checked as a row-by-row load would be.
    const restore = await dropForBulkLoad(manager, BULK_TABLES);
    for (const [index, [label, sql, params]] of steps.entries()) {
      const stepStarted = Date.now();
      if (label === 'statistics') continue;
      await manager.query(sql, params);
      progress(
        `  [${String(index + 1).padStart(2)}/${steps.length}] ${label.padEnd(26)} ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`,
      );
    }
    const restoreStarted = Date.now();
    for (const statement of restore) await manager.query(statement);
    progress(`  indexes and foreign keys back      ${((Date.now() - restoreStarted) / 1000).toFixed(1)} s`);
    for (const table of AUDITED_TABLES)
      await manager.query(`ALTER TABLE ${table} ENABLE TRIGGER ${table}_audit`);
  });
  await db.query('ANALYZE');
  const [largest] = await db.query(
    `SELECT supplier_id AS id, count(*)::int AS contracts, count(DISTINCT client_id)::int AS clients FROM contract GROUP BY supplier_id ORDER BY count(*) DESC LIMIT 1`,
  );
  const [{ agreements }] = await db.query(
    `SELECT count(*)::int AS agreements FROM data_processing_agreement`,
  );
  const [{ contracts }] = await db.query(`SELECT count(*)::int AS contracts FROM contract`);
  return {
    ...size,
    contracts,
    agreements,
    largestSupplierId: largest.id,
    largestSupplierContracts: largest.contracts,
    largestSupplierClients: largest.clients,
    seconds: (Date.now() - started) / 1000,
  };
}
