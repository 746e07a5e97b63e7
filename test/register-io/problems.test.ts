import { ClientSector, SupplierTier } from '../../src/common/enums';
import { TestApp, startTestApp } from '../support/app';
import { createClient, createSupplier } from '../support/factories';
import { Cell, XLSX, ZIP, csvZip, lyingZipBomb, tableCounts, upload, workbook, zipBomb } from './support';

const SUPPLIERS = ['name', 'companyNumber', 'lei', 'country', 'tier', 'strategic'];
const CLIENTS = ['reference', 'name', 'sector', 'country', 'regimes'];
const CONTRACTS = [
  'clientReference',
  'reference',
  'supplierCompanyNumber',
  'title',
  'valueAmount',
  'valueCurrency',
  'startsOn',
  'endsOn',
  'criticality',
];
const contract = (overrides: Partial<Record<string, Cell>> = {}): Cell[] => {
  const row: Record<string, Cell> = {
    clientReference: 'E07000071',
    reference: 'K-1',
    supplierCompanyNumber: '02081330',
    title: 'Revenues',
    valueAmount: '100.00',
    valueCurrency: 'GBP',
    startsOn: '2020-01-01',
    endsOn: null,
    criticality: 'CRITICAL',
    ...overrides,
  };
  return CONTRACTS.map((column) => row[column]);
};

/**
 * Each kind of problem the issue names, in a file of its own: a real run (not a dry run) answers 422 with
 * the problem's sheet, row, column, value and message, and writes nothing (not even an audit row); the dry
 * run answers the same report.
 */
describe('import problems', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    await createSupplier(app.services, {
      name: 'Capita plc',
      companyNumber: '02081330',
      tier: SupplierTier.STRATEGIC,
    });
    await createClient(app.services, {
      name: 'Colchester',
      reference: 'E07000071',
      sector: ClientSector.LOCAL_GOVERNMENT,
    });
  });
  afterAll(() => app.stop());

  async function refused(data: Buffer, contentType = XLSX) {
    const before = await tableCounts(app.database.db);
    const real = await upload(app, data, contentType);
    expect(real.status).toBe(422);
    expect(real.body.applied).toBe(false);
    expect(await tableCounts(app.database.db)).toEqual(before);
    const dry = await upload(app, data, contentType, '?dryRun=true');
    expect(dry.status).toBe(422);
    expect(dry.body.problems).toEqual(real.body.problems);
    return real.body.problems as Record<string, unknown>[];
  }

  it('a bad enum value lists the allowed ones', async () => {
    const problems = await refused(
      await workbook({ suppliers: [SUPPLIERS, ['Acme', '01234567', null, 'GB', 'GOLD', false]] }),
    );
    expect(problems).toEqual([
      {
        sheet: 'suppliers',
        row: 2,
        column: 'tier',
        value: 'GOLD',
        message: 'tier must be one of STRATEGIC, CRITICAL, IMPORTANT, STANDARD',
      },
    ]);
  });

  it('a bad date', async () => {
    const problems = await refused(
      await workbook({ contracts: [CONTRACTS, contract({ startsOn: '2023-02-30' })] }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ sheet: 'contracts', row: 2, column: 'startsOn', value: '2023-02-30' }),
    ]);
    expect(problems[0].message).toMatch(/YYYY-MM-DD/);
  });

  it('bad money', async () => {
    const problems = await refused(
      await workbook({ contracts: [CONTRACTS, contract({ valueAmount: '12.345' })] }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ sheet: 'contracts', row: 2, column: 'valueAmount', value: '12.345' }),
    ]);
    expect(problems[0].message).toMatch(/at most 2 decimals/);
  });

  it('a missing required cell', async () => {
    const problems = await refused(
      await workbook({ clients: [CLIENTS, ['E1', null, 'HEALTH', 'GB', null]] }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ sheet: 'clients', row: 2, column: 'name', value: null }),
    ]);
    expect(problems[0].message).toMatch(/^name is required/);
  });

  it('a dangling reference names the missing key', async () => {
    const problems = await refused(
      await workbook({
        contracts: [CONTRACTS, contract({ clientReference: 'NOPE', supplierCompanyNumber: '99999999' })],
      }),
    );
    expect(problems).toEqual([
      {
        sheet: 'contracts',
        row: 2,
        column: 'clientReference',
        value: 'NOPE',
        message: 'Dangling reference: no client with the reference NOPE in the clients sheet or the register',
      },
      {
        sheet: 'contracts',
        row: 2,
        column: 'supplierCompanyNumber',
        value: '99999999',
        message:
          'Dangling reference: no supplier with companyNumber 99999999 in the suppliers sheet or the register',
      },
    ]);
  });

  it('duplicate keys name both rows', async () => {
    const problems = await refused(
      await workbook({
        clients: [
          CLIENTS,
          ['E9', 'One', 'HEALTH', 'GB', null],
          ['E8', 'Two', 'HEALTH', 'GB', null],
          ['E9', 'Three', 'HEALTH', 'GB', null],
        ],
      }),
    );
    expect(problems).toEqual([
      {
        sheet: 'clients',
        row: 4,
        column: 'reference',
        value: 'E9',
        message: 'Duplicate key: rows 2 and 4 have the reference E9; keep one',
      },
    ]);
  });

  it('an unknown sheet, and an unknown column', async () => {
    const problems = await refused(
      await workbook({
        vendors: [['name'], ['X']],
        suppliers: [
          [...SUPPLIERS, 'colour'],
          ['Acme', null, null, 'GB', 'STANDARD', false, 'red'],
        ],
      }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ sheet: 'vendors', row: null, column: null }),
      expect.objectContaining({ sheet: 'suppliers', row: 1, column: 'colour' }),
    ]);
    expect(problems[0].message).toMatch(/^Unknown sheet "vendors": the sheets are suppliers, clients/);
    expect(problems[1].message).toMatch(
      /^Unknown column "colour" in suppliers: its columns are name, companyNumber/,
    );
  });

  it('an empty file', async () => {
    const problems = await refused(Buffer.alloc(0));
    expect(problems).toEqual([
      expect.objectContaining({ sheet: null, message: expect.stringMatching(/^The file is empty/) }),
    ]);
  });

  it('a file that is not a workbook', async () => {
    const problems = await refused(Buffer.from('name,country\nAcme,GB\n'));
    expect(problems[0].message).toMatch(/^This is not a workbook/);
    const notXlsx = await refused(csvZip({ 'readme.txt': 'hello' }));
    expect(notXlsx[0].message).toMatch(/not an \.xlsx workbook/);
  });

  it('a workbook that unpacks to gigabytes from a small file', async () => {
    const bomb = zipBomb();
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const problems = await refused(bomb);
    // Refused from the archive's directory, before any entry is inflated (no timing assertion: the
    // next test shows that lying headers are caught by counting what really inflates).
    expect(problems).toEqual([
      expect.objectContaining({
        sheet: null,
        message: expect.stringMatching(/unpacks to more than 314572800 bytes .*refused unread/),
      }),
    ]);
    expect((await refused(bomb, ZIP))[0].message).toMatch(/unpacks to more than/);
  });

  it('a bomb whose headers lie about its sizes is caught by counting what really inflates', async () => {
    const small = await startTestApp(
      { IMPORT_MAX_UNPACKED_BYTES: String(8 * 1024 * 1024) },
      { database: app.database },
    );
    try {
      const before = await tableCounts(app.database.db);
      const answer = await upload(small, lyingZipBomb(4, 4 * 1024 * 1024), XLSX);
      expect(answer.status).toBe(422);
      expect(answer.body.problems[0].message).toMatch(/unpacks to more than 8388608 bytes/);
      expect(await tableCounts(app.database.db)).toEqual(before);
    } finally {
      await small.stop();
    }
  });

  it('a cycle of links is fine', async () => {
    const header = ['supplierCompanyNumber', 'subprocessorCompanyNumber'];
    const file = await workbook({
      suppliers: [SUPPLIERS, ['Colo Ltd', '07654321', null, 'GB', 'STANDARD', false]],
      subprocessors: [header, ['02081330', '07654321'], ['07654321', '02081330']],
    });
    const answer = await upload(app, file, XLSX);
    expect(answer.body.problems).toEqual([]);
    expect(answer.status).toBe(200);
    expect(answer.body.counts.subprocessors).toEqual({ created: 2, updated: 0, unchanged: 0, removed: 0 });
  });

  it('answers 415 for a content type that names no format, 403 for a non-admin, 413 past IMPORT_MAX_BYTES', async () => {
    expect((await upload(app, Buffer.from('x'), 'text/csv')).status).toBe(415);
    expect((await upload(app, Buffer.from('x'), XLSX, '', app.analystToken)).status).toBe(403);
    const small = await startTestApp({ IMPORT_MAX_BYTES: '2048' }, { database: app.database });
    try {
      const answer = await upload(small, Buffer.alloc(4096, 1), XLSX);
      expect(answer.status).toBe(413);
      expect(answer.body.errors[0].message).toBe('The file is larger than 2048 bytes (IMPORT_MAX_BYTES)');
    } finally {
      await small.stop();
    }
  });
});
