import { ClientSector } from '../../src/common/enums';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { createClient, createSupplier } from '../support/factories';
import { XLSX, upload, workbook } from './support';

const JOB = `query ($id: ID!) { importJob(id: $id) { id status fileName dryRun mode rowsDone rowsTotal createdAt finishedAt error
  report { dryRun applied counts { sheet created updated unchanged removed } problems { sheet row column value message } removed { sheet key } } } }`;

describe('import jobs', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Every file is "large" here: the job path is what is tested.
    app = await startTestApp({ IMPORT_JOB_THRESHOLD_BYTES: '0' });
    await createSupplier(app.services, { name: 'Capita plc', companyNumber: '02081330' });
    await createClient(app.services, { name: 'A', reference: 'A', sector: ClientSector.HEALTH });
  });
  afterAll(() => app.stop());

  async function finished(id: string) {
    for (let i = 0; i < 200; i++) {
      const job = dataOf(await app.gql(app.adminToken, JOB, { id })).importJob;
      if (job.status !== 'RUNNING') return job;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the job did not finish');
  }

  it('answers 202 with a jobId, and importJob reports rows done and the report', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [
      'A',
      `K-${i}`,
      '02081330',
      'Service',
      '2021-01-01',
      'STANDARD',
    ]);
    const file = await workbook({
      contracts: [
        ['clientReference', 'reference', 'supplierCompanyNumber', 'title', 'startsOn', 'criticality'],
        ...rows,
      ],
    });
    const answer = await upload(app, file, XLSX, '', app.adminToken, 'big.xlsx');
    expect(answer.status).toBe(202);
    expect(Object.keys(answer.body)).toEqual(['jobId']);
    const job = await finished(answer.body.jobId);
    expect(job).toMatchObject({
      id: answer.body.jobId,
      status: 'SUCCEEDED',
      fileName: 'big.xlsx',
      dryRun: false,
      mode: 'merge',
      rowsDone: 40,
      rowsTotal: 40,
      error: null,
      report: { applied: true, problems: [], removed: [] },
    });
    expect(job.report.counts.find((c: { sheet: string }) => c.sheet === 'contracts')).toEqual({
      sheet: 'contracts',
      created: 40,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });
    const [{ n }] = await app.database.db.query(`SELECT count(*)::int AS n FROM contract`);
    expect(n).toBe(40);
  });

  it('a file with problems ends REFUSED with them, writing nothing', async () => {
    const file = await workbook({
      clients: [
        ['reference', 'name', 'sector'],
        ['Z', 'Z', 'NOPE'],
      ],
    });
    const answer = await upload(app, file, XLSX);
    const job = await finished(answer.body.jobId);
    expect(job.status).toBe('REFUSED');
    expect(job.report.problems).toEqual([
      expect.objectContaining({ sheet: 'clients', row: 2, column: 'sector', value: 'NOPE' }),
    ]);
    expect(await app.database.db.query(`SELECT 1 FROM client WHERE reference = 'Z'`)).toEqual([]);
  });

  it('is for admins only; an unknown or malformed id answers null', async () => {
    const forbidden = await app.gql(app.analystToken, JOB, { id: '00000000-0000-0000-0000-000000000000' });
    expect(forbidden.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(
      dataOf(await app.gql(app.adminToken, JOB, { id: '00000000-0000-0000-0000-000000000000' })).importJob,
    ).toBeNull();
    expect(dataOf(await app.gql(app.adminToken, JOB, { id: 'nope' })).importJob).toBeNull();
  });
});
