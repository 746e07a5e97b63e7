import { unzipSync } from 'fflate';
import { ClientSector, IncidentStatus } from '../../src/common/enums';
import { TestApp, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';
import { XLSX, download, sheetsOf, upload } from './support';

/** Every byte of an archive's entries as text (an .xlsx is a zip of XML): nothing of B may appear anywhere. */
function allText(data: Buffer): string {
  return Object.values(unzipSync(new Uint8Array(data)))
    .map((entry) => Buffer.from(entry).toString('utf8'))
    .join('\n');
}

describe('client-scoped export', () => {
  let app: TestApp;
  let tokenA: string;
  const secretsOfB = [
    'Client B Council',
    'REF-B',
    'B-CONTRACT',
    'B-DPA',
    'B own supplier',
    'B cloud',
    '11111111',
  ];

  beforeAll(async () => {
    app = await startTestApp();
    const s = app.services;
    const shared = await createSupplier(s, { name: 'Shared supplier', companyNumber: '02081330' });
    const ownA = await createSupplier(s, { name: 'A own supplier' });
    const behindA = await createSupplier(s, { name: 'Behind A supplier' });
    await linkSubprocessor(s, ownA.id, behindA.id);
    const ownB = await createSupplier(s, { name: 'B own supplier', companyNumber: '11111111' });
    const cloudB = await createSupplier(s, { name: 'B cloud' });
    await createSupplier(s, { name: 'Nobody uses' });
    const a = await createClient(s, {
      name: 'Client A Council',
      reference: 'REF-A',
      sector: ClientSector.LOCAL_GOVERNMENT,
    });
    const b = await createClient(s, {
      name: 'Client B Council',
      reference: 'REF-B',
      sector: ClientSector.HEALTH,
    });
    const a1 = await createContract(s, a.id, shared.id, { reference: 'A-CONTRACT-1' });
    await createAgreement(s, a1.id, { reference: 'A-DPA' });
    await createContract(s, a.id, ownA.id, { reference: 'A-CONTRACT-2' });
    const b1 = await createContract(s, b.id, shared.id, { reference: 'B-CONTRACT' });
    await createAgreement(s, b1.id, { reference: 'B-DPA', subprocessorIds: [cloudB.id] });
    await createContract(s, b.id, ownB.id, { reference: 'B-CONTRACT-2' });
    await recordIncident(s, shared.id, { status: IncidentStatus.CONFIRMED });
    tokenA = await app.clientToken(a.id);
  });
  afterAll(() => app.stop());

  it.each(['xlsx', 'zip'] as const)(
    'a client token gets its own register and nothing of another client (%s)',
    async (format) => {
      const exported = await download(app, tokenA, format);
      expect(exported.status).toBe(200);
      const text = allText(exported.body);
      for (const secret of secretsOfB) expect(text).not.toContain(secret);
      for (const own of [
        'Client A Council',
        'REF-A',
        'A-CONTRACT-1',
        'A-CONTRACT-2',
        'A-DPA',
        'Shared supplier',
        'A own supplier',
        'Behind A supplier',
      ])
        expect(text).toContain(own);
      expect(text).not.toContain('Nobody uses');
    },
  );

  it('its sheets hold exactly its rows', async () => {
    const sheets = await sheetsOf((await download(app, tokenA, 'xlsx')).body);
    expect(sheets.clients.slice(1).map((row) => row[0])).toEqual(['REF-A']);
    expect(sheets.contracts.slice(1).map((row) => row[1])).toEqual(['A-CONTRACT-1', 'A-CONTRACT-2']);
    expect(sheets.agreements.slice(1).map((row) => row[2])).toEqual(['A-DPA']);
    expect(
      sheets.suppliers
        .slice(1)
        .map((row) => row[0])
        .sort(),
    ).toEqual(['A own supplier', 'Behind A supplier', 'Shared supplier']);
    expect(sheets.subprocessors.length).toBe(2); // the header and A's supplier-level chain
  });

  it('an admin and an analyst get the whole register; a client token may not import', async () => {
    for (const token of [app.adminToken, app.analystToken]) {
      const text = allText((await download(app, token, 'xlsx')).body);
      for (const secret of secretsOfB) expect(text).toContain(secret);
    }
    const exported = await download(app, tokenA, 'xlsx');
    expect((await upload(app, exported.body, XLSX, '', tokenA)).status).toBe(403);
    expect((await download(app, 'not-a-token', 'xlsx')).status).toBe(401);
  });
});
