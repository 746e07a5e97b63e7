import { DataSource } from 'typeorm';

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
                   1 + ((g * 7919) % $2::int) AS cn
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
    // Bulk load of generated, consistent rows: skip the per-row audit triggers when allowed (superuser).
    await manager
      .query(`SET LOCAL session_replication_role = replica`)
      .catch(() => progress('  (audit triggers stay on: not a superuser)'));
    for (const [index, [label, sql, params]] of steps.entries()) {
      const stepStarted = Date.now();
      if (label === 'statistics') continue;
      await manager.query(sql, params);
      progress(
        `  [${String(index + 1).padStart(2)}/${steps.length}] ${label.padEnd(26)} ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`,
      );
    }
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
