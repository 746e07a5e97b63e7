import { readFile } from 'node:fs/promises';
import { SHEETS } from '../../src/modules/register-io/register-sheets';
import { ClientSector, DataCategory, ServiceCriticality, SupplierTier } from '../../src/common/enums';
import { TestApp, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { XLSX, ZIP, download, sheetsOf, tableCounts, upload } from './support';

describe('export then import', () => {
  let source: TestApp;
  let target: TestApp;
  beforeAll(async () => {
    source = await startTestApp();
    target = await startTestApp();
    const s = source.services;
    const capita = await createSupplier(s, {
      name: 'Capita plc',
      companyNumber: '02081330',
      tier: SupplierTier.STRATEGIC,
      strategic: true,
    });
    const aws = await createSupplier(s, {
      name: 'Amazon Web Services',
      lei: '213800B1AE8YEBV2FF25',
      country: 'IE',
    });
    const colo = await createSupplier(s, { name: 'Colo Ltd' });
    await linkSubprocessor(s, capita.id, colo.id);
    await linkSubprocessor(s, colo.id, capita.id); // a cycle is fine
    const council = await createClient(s, {
      name: 'Colchester City Council',
      reference: 'E07000071',
      sector: ClientSector.LOCAL_GOVERNMENT,
    });
    const contract = await createContract(s, council.id, capita.id, {
      reference: 'CCC-REV',
      value: { amount: '1250000.50', currency: 'GBP' },
      startsOn: '2019-04-01',
      endsOn: '2026-03-31',
      criticality: ServiceCriticality.CRITICAL,
    });
    await createAgreement(s, contract.id, {
      reference: 'CCC-REV-DPA',
      dataCategories: [DataCategory.BASIC_IDENTITY, DataCategory.FINANCIAL],
      dataSubjectCount: 120000,
      processingLocations: ['GB', 'IE'],
      dataRetainedUntil: '2027-03-31',
      subprocessorIds: [aws.id],
    });
  });
  afterAll(async () => {
    await source.stop();
    await target.stop();
  });

  it('gives the same workbook back, and a second import changes nothing', async () => {
    const exported = await download(source, source.adminToken, 'xlsx');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe(XLSX);
    const first = await upload(target, exported.body, XLSX);
    expect(first.body.problems).toEqual([]);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ applied: true, dryRun: false });
    expect(first.body.counts.contracts).toEqual({ created: 1, updated: 0, unchanged: 0, removed: 0 });
    expect(first.body.counts.subprocessors.created).toBe(3);
    const again = await download(target, target.adminToken, 'xlsx');
    expect(await sheetsOf(again.body)).toEqual(await sheetsOf(exported.body));

    const before = await tableCounts(target.database.db);
    const second = await upload(target, again.body, XLSX);
    expect(second.status).toBe(200);
    expect(Object.values(second.body.counts).every((c: any) => c.created + c.updated + c.removed === 0)).toBe(
      true,
    );
    expect(await tableCounts(target.database.db)).toEqual(before);
  });

  it('reads its own zip of CSV files', async () => {
    const exported = await download(source, source.adminToken, 'zip');
    expect(exported.status).toBe(200);
    const dry = await upload(target, exported.body, ZIP, '?dryRun=true', target.adminToken, 'register.zip');
    expect(dry.body.problems).toEqual([]);
    expect(dry.body.counts.suppliers).toEqual({ created: 0, updated: 0, unchanged: 3, removed: 0 });
  });
});

describe('docs/import.md and the template workbook', () => {
  it('documents every sheet, column and enum value, and the template imports as it is', async () => {
    const doc = await readFile('docs/import.md', 'utf8');
    for (const [sheet, columns] of Object.entries(SHEETS)) {
      expect(doc).toContain(`### ${sheet}`);
      for (const column of columns) {
        expect(doc).toContain(`| \`${column.name}\` |`);
        for (const value of column.values ?? []) expect(doc).toContain(`\`${value}\``);
      }
    }
    const app = await startTestApp();
    try {
      const answer = await upload(app, await readFile('docs/register-template.xlsx'), XLSX);
      expect(answer.body.problems).toEqual([]);
      expect(answer.body.counts.subprocessors.created).toBe(1);
      expect(answer.body.counts.agreements.created).toBe(1);
    } finally {
      await app.stop();
    }
  });
});
