import pino from 'pino';
import { TestApp, startTestApp } from '../support/app';
import { ZIP, csvZip, tableCounts, upload } from './support';

/** More rows than the planner holds in memory (5,000 per table): they are staged and written chunk by chunk. */
const ROWS = 12_001;

const csv = (rows: (string | number)[][]) => rows.map((row) => row.join(',')).join('\n') + '\n';

function register(title: (i: number) => string): Buffer {
  const numbers = Array.from({ length: ROWS }, (_, i) => i);
  return csvZip({
    'suppliers.csv': csv([
      ['name', 'companyNumber', 'country', 'tier'],
      ['Capita plc', '02081330', 'GB', 'CRITICAL'],
    ]),
    'clients.csv': csv([
      ['reference', 'name', 'sector'],
      ['A', 'Council A', 'LOCAL_GOVERNMENT'],
    ]),
    'contracts.csv': csv([
      ['clientReference', 'reference', 'supplierCompanyNumber', 'title', 'startsOn', 'criticality'],
      ...numbers.map((i) => ['A', `A-${i}`, '02081330', title(i), '2020-01-01', 'STANDARD']),
    ]),
    'agreements.csv': csv([
      ['clientReference', 'contractReference', 'reference', 'dataCategories', 'dataSubjectCount'],
      ...numbers.map((i) => ['A', `A-${i}`, `A-${i}-DPA`, 'CONTACT', i]),
    ]),
  });
}

describe('an import larger than the rows held in memory', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({}, undefined, { logger: pino({ level: 'error' }) });
  });
  afterAll(() => app.stop());

  it('writes every row once, changes only what changed, and a second import of the same file changes nothing', async () => {
    const first = await upload(
      app,
      register(() => 'Service'),
      ZIP,
      '',
      app.adminToken,
      'large.zip',
    );
    expect(first.status).toBe(200);
    expect(first.body.problems).toEqual([]);
    expect(first.body.counts.contracts).toEqual({ created: ROWS, updated: 0, unchanged: 0, removed: 0 });
    expect(first.body.counts.agreements).toEqual({ created: ROWS, updated: 0, unchanged: 0, removed: 0 });
    const [written] = await app.database.db.query(
      `SELECT count(*)::int AS contracts, count(DISTINCT c.reference)::int AS references,
              sum(a.data_subject_count)::bigint::text AS people, count(a.id)::int AS agreements
         FROM contract c LEFT JOIN data_processing_agreement a ON a.contract_id = c.id`,
    );
    expect(written).toEqual({
      contracts: ROWS,
      references: ROWS,
      people: String((ROWS * (ROWS - 1)) / 2),
      agreements: ROWS,
    });

    // Every other contract retitled: 6,001 updates, more than one chunk of them.
    const retitled = register((i) => (i % 2 === 0 ? 'Service renewed' : 'Service'));
    const second = await upload(app, retitled, ZIP);
    expect(second.body.counts.contracts).toEqual({ created: 0, updated: 6001, unchanged: 6000, removed: 0 });
    expect(second.body.counts.agreements).toEqual({ created: 0, updated: 0, unchanged: ROWS, removed: 0 });
    const titles = await app.database.db.query(
      `SELECT title, count(*)::int AS n FROM contract GROUP BY title ORDER BY title`,
    );
    expect(titles).toEqual([
      { title: 'Service', n: 6000 },
      { title: 'Service renewed', n: 6001 },
    ]);

    const before = await tableCounts(app.database.db);
    const again = await upload(app, retitled, ZIP);
    expect(again.status).toBe(200);
    expect(again.body.counts.contracts).toEqual({ created: 0, updated: 0, unchanged: ROWS, removed: 0 });
    expect(await tableCounts(app.database.db)).toEqual(before);
  });
});
