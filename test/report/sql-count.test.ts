/**
 * Structural performance of the reports: the board report page and the ICO drafts of a page of exposures
 * cost the same number of SQL statements for 4 exposed clients as for 40 (everything per exposure is read
 * through batched loaders; lists walk in batches of REPORT_BATCH_SIZE). A per-exposure query would show here.
 */
import { DataCategory } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { getPage } from './support';

const DRAFTS = `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 50) { totalCount edges { node {
  icoReportDraft { answers { question answer status basis } } } } } } } }`;

describe('SQL statements per report do not grow with the exposures', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  async function incidentWith(clients: number): Promise<string> {
    const supplier = await createSupplier(app.services);
    for (let i = 0; i < clients; i++) {
      const client = await createClient(app.services);
      const contract = await createContract(app.services, client.id, supplier.id);
      await createAgreement(app.services, contract.id, {
        dataCategories: i % 2 ? [DataCategory.HEALTH] : [DataCategory.CONTACT],
        dataSubjectCount: 100 * (i + 1),
      });
    }
    const { incident } = await recordIncident(app.services, supplier.id);
    return encodeGlobalId('Incident', incident!.id);
  }

  async function statementsFor(incidentId: string, clients: number) {
    const report = await getPage(app, `/incidents/${incidentId}/report`, app.adminToken);
    expect(report.status).toBe(200);
    const drafts = await app.gql(app.adminToken, DRAFTS, { id: incidentId });
    expect(dataOf(drafts).node.exposures.totalCount).toBe(clients);
    const [exposure] = dataOf(drafts).node.exposures.edges;
    expect(exposure.node.icoReportDraft.answers.length).toBeGreaterThan(10);
    return { report: Number(report.headers.get('x-sql-statements')), drafts: drafts.sqlStatements };
  }

  it('is the same for 4 and for 40 exposed clients', async () => {
    await statementsFor(await incidentWith(1), 1);
    const small = await statementsFor(await incidentWith(4), 4);
    const large = await statementsFor(await incidentWith(40), 40);
    expect(Number.isFinite(small.report)).toBe(true);
    expect(large).toEqual(small);
    // Pinned absolute counts: if a change moves them, check that they are still the same for both sizes, then update.
    expect(small).toEqual({ report: 14, drafts: 8 });
  });
});
