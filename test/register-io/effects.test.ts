import pino from 'pino';
import { ClientSector, IncidentStatus } from '../../src/common/enums';
import { TestApp, startTestApp } from '../support/app';
import { createClient, createContract, createSupplier, recordIncident } from '../support/factories';
import { XLSX, sheetsOf, download, tableCounts, upload, workbook } from './support';

const CONTRACTS = [
  'clientReference',
  'reference',
  'supplierCompanyNumber',
  'title',
  'startsOn',
  'criticality',
];
const AGREEMENTS = [
  'clientReference',
  'contractReference',
  'reference',
  'dataCategories',
  'dataSubjectCount',
];

describe('what an import does beside its rows', () => {
  let app: TestApp;
  let clientIds: string[];
  beforeAll(async () => {
    app = await startTestApp({}, undefined, { logger: pino({ level: 'error' }) });
    const s = app.services;
    const capita = await createSupplier(s, { name: 'Capita plc', companyNumber: '02081330' });
    const other = await createSupplier(s, { name: 'Other Ltd', companyNumber: '07654321' });
    const a = await createClient(s, { name: 'A', reference: 'A', sector: ClientSector.LOCAL_GOVERNMENT });
    const b = await createClient(s, { name: 'B', reference: 'B', sector: ClientSector.LOCAL_GOVERNMENT });
    await createContract(s, b.id, other.id, { reference: 'B-OLD' });
    clientIds = [a.id, b.id];
    await recordIncident(s, capita.id, { status: IncidentStatus.CONFIRMED });
  });
  afterAll(() => app.stop());

  it('recomputes the open incident once for the touched clients, writes its alerts, and audits one operation', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => [
      'A',
      `A-${i}`,
      '02081330',
      'Service',
      '2020-01-01',
      'CRITICAL',
    ]);
    const file = await workbook({
      contracts: [CONTRACTS, ...rows],
      agreements: [AGREEMENTS, ['A', 'A-0', 'A-0-DPA', 'HEALTH,CONTACT', 5000]],
    });
    const answer = await upload(app, file, XLSX, '', app.adminToken, 'procurement 2024.xlsx');
    expect(answer.status).toBe(200);
    expect(answer.body.counts.contracts.created).toBe(30);
    const exposures = await app.database.db.query(
      `SELECT e.client_id, e.revision, e.data_subjects_at_risk::int AS people,
              (SELECT count(*)::int FROM exposure_revision r WHERE r.exposure_id = e.id) AS revisions,
              (SELECT count(*)::int FROM exposure_alert l WHERE l.exposure_id = e.id) AS alerts
         FROM exposure e`,
    );
    // One exposure for A, computed once for the whole file: one revision and one alert, not thirty.
    expect(exposures).toEqual([
      { client_id: clientIds[0], revision: 1, people: 5000, revisions: 1, alerts: 1 },
    ]);
    const audit = await app.database.db.query(
      `SELECT operation, actor_subject, input->>'fileName' AS file, input->'counts'->'contracts'->>'created' AS created,
              count(*)::int AS rows, count(DISTINCT transaction_id)::int AS transactions
         FROM audit_event WHERE table_name IN ('contract', 'data_processing_agreement') AND operation <> 'direct database write'
        GROUP BY 1, 2, 3, 4`,
    );
    expect(audit).toEqual([
      {
        operation: 'importRegister',
        actor_subject: 'test-admin',
        file: 'procurement 2024.xlsx',
        created: '30',
        rows: 31,
        transactions: 1,
      },
    ]);
  });

  it("keeps each exposure's stored next due time true when a file changes a client's regimes", async () => {
    const nextDue = async () => {
      const answer = await app.gql(
        app.adminToken,
        `{ exposures(first: 10) { edges { node { client { reference } nextDueAt obligations { dueAt status } } } } }`,
      );
      return answer.body.data!.exposures.edges.map(
        (e: {
          node: {
            client: { reference: string };
            nextDueAt: string | null;
            obligations: { dueAt: string | null; status: string }[];
          };
        }) => ({
          client: e.node.client.reference,
          stored: e.node.nextDueAt,
          // The earliest deadline of an obligation still to act on, as `obligations` answers it.
          earliest:
            e.node.obligations
              .filter((o) => ['OPEN', 'DUE_SOON', 'OVERDUE'].includes(o.status) && o.dueAt)
              .map((o) => o.dueAt!)
              .sort()[0] ?? null,
        }),
      );
    };
    const before = await nextDue();
    expect(before.map((e: { client: string }) => e.client)).toEqual(['A']);
    // A moves to Ireland and names its regimes itself: EU GDPR's and DORA's clocks replace UK GDPR's.
    const file = await workbook({
      clients: [
        ['reference', 'name', 'sector', 'country', 'regimes'],
        ['A', 'A', 'FINANCIAL_SERVICES', 'IE', 'EU_GDPR,DORA'],
      ],
    });
    const answer = await upload(app, file, XLSX, '', app.adminToken, 'moved.xlsx');
    expect(answer.status).toBe(200);
    expect(answer.body.counts.clients.updated).toBe(1);
    const after = await nextDue();
    for (const exposure of after) expect(exposure.stored).toBe(exposure.earliest);
    const regimes = await app.gql(
      app.adminToken,
      `{ exposures(first: 1) { edges { node { obligations { regime } } } } }`,
    );
    const shown = new Set(
      regimes.body.data!.exposures.edges[0].node.obligations.map((o: { regime: string }) => o.regime),
    );
    expect([...shown].sort()).toEqual(['DORA', 'EU_GDPR']);
  });

  it('mode=replace reports what it would remove in the dry run, then removes it', async () => {
    const current = await sheetsOf((await download(app, app.adminToken, 'xlsx')).body);
    const withoutOld = await workbook({
      ...current,
      contracts: current.contracts.filter((row) => row[1] !== 'B-OLD'),
    });
    const before = await tableCounts(app.database.db);
    const dry = await upload(app, withoutOld, XLSX, '?dryRun=true&mode=replace');
    expect(dry.status).toBe(200);
    expect(dry.body.removed).toEqual([{ sheet: 'contracts', key: 'B / B-OLD' }]);
    expect(dry.body.counts.contracts).toEqual({ created: 0, updated: 0, unchanged: 30, removed: 1 });
    expect(await tableCounts(app.database.db)).toEqual(before);
    const merged = await upload(app, withoutOld, XLSX);
    expect(merged.body.counts.contracts.removed).toBe(0); // without mode=replace, missing rows stay
    const real = await upload(app, withoutOld, XLSX, '?mode=replace');
    expect(real.status).toBe(200);
    expect(real.body.removed).toEqual(dry.body.removed);
    const [old] = await app.database.db.query(`SELECT removed_at FROM contract WHERE reference = 'B-OLD'`);
    expect(old.removed_at).not.toBeNull();
  });
});
