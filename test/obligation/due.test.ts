/**
 * Issue 13, what needs action: the stored next due time agrees with `obligations` after every kind of input
 * change; ExposureFilter.overdue / dueBefore; orderBy (SCORE, NEXT_DUE, CLIENT_NAME) with cursors bound to
 * their order; exposureSummary.nearestDeadline over every regime; and a client sees only its own.
 */
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { ClientSector, DataCategory } from '../../src/common/enums';
import { RegulatoryRegime } from '../../src/modules/obligation/regimes';

const HOUR = 3600 * 1000;
const NODE = `id nextDueAt client { name } obligations { regime milestone startsAt dueAt status }`;
const OPEN = new Set(['OPEN', 'DUE_SOON', 'OVERDUE']);

/** What `obligations` answers as the next due time: the earliest dueAt among open obligations. */
function nextDueFromObligations(node: any): string | null {
  const dues = node.obligations
    .filter((o: any) => OPEN.has(o.status) && o.dueAt)
    .map((o: any) => o.dueAt)
    .sort();
  return dues[0] ?? null;
}

describe('obligations: stored next due time, filters, orders, nearest deadline', () => {
  let app: TestApp;
  let incidentId: string;
  const ids: Record<string, string> = {};
  let toldAt: Date;

  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) =>
    dataOf(await app.gql(token, query, variables));

  async function list(token: string, variables: Record<string, unknown> = {}) {
    const data = await gql(
      token,
      `query($f: ExposureFilter, $o: ExposureOrder, $first: Int, $after: String) {
         exposures(filter: $f, orderBy: $o, first: $first, after: $after) {
           totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${NODE} } } } }`,
      { first: 100, ...variables },
    );
    return data.exposures;
  }
  const names = (connection: any) => connection.edges.map((e: any) => e.node.client.name);

  /** Every exposure's stored nextDueAt equals what its obligations answer. */
  async function expectStoredAgrees() {
    const all = await list(app.adminToken, { f: { includeResolved: true } });
    expect(all.edges.length).toBeGreaterThan(0);
    for (const { node } of all.edges)
      expect({ client: node.client.name, nextDueAt: node.nextDueAt }).toEqual({
        client: node.client.name,
        nextDueAt: nextDueFromObligations(node),
      });
    return all;
  }

  beforeAll(async () => {
    app = await startTestApp();
    const s = await createSupplier(app.services, { name: 'S (clocks)' });
    const x = await createSupplier(app.services, { name: 'X (reaches S)' });
    await linkSubprocessor(app.services, x.id, s.id);
    const council = await createClient(app.services, { name: 'Alpha council' });
    const bank = await createClient(app.services, {
      name: 'Beta bank (illustrative)',
      sector: ClientSector.FINANCIAL_SERVICES,
      country: 'NL',
    });
    const serviceOnly = await createClient(app.services, { name: 'Gamma services' });
    const indirect = await createClient(app.services, { name: 'Delta trust' });
    Object.assign(ids, {
      council: council.id,
      bank: bank.id,
      serviceOnly: serviceOnly.id,
      indirect: indirect.id,
    });
    const withData = async (clientId: string, supplierId: string, categories: DataCategory[]) =>
      createAgreement(app.services, (await createContract(app.services, clientId, supplierId)).id, {
        dataCategories: categories,
        dataSubjectCount: 5000,
      });
    await withData(council.id, s.id, [DataCategory.HEALTH]);
    await withData(bank.id, s.id, [DataCategory.FINANCIAL]);
    await createContract(app.services, serviceOnly.id, s.id);
    await withData(indirect.id, x.id, [DataCategory.CONTACT]);
    toldAt = new Date(Math.floor((Date.now() - 80 * HOUR) / 1000) * 1000);
    const data = await gql(
      app.analystToken,
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id } userErrors { message } } }`,
      {
        input: {
          supplierId: encodeGlobalId('Supplier', s.id),
          title: 'Incident at S',
          kind: 'CYBER_ATTACK',
          status: 'CONFIRMED',
          exfiltration: 'SUSPECTED',
          detectedAt: new Date(toldAt.getTime() - 10 * HOUR).toISOString(),
          clientsNotifiedAt: toldAt.toISOString(),
        },
      },
    );
    expect(data.recordIncident.userErrors).toEqual([]);
    incidentId = data.recordIncident.incident.id;
  });
  afterAll(() => app.stop());

  it('stores exactly what obligations answer, after each kind of input change', async () => {
    let all = await expectStoredAgrees();
    const byName = (name: string) => all.edges.find((e: any) => e.node.client.name.startsWith(name)).node;
    // Direct clients told 80 h ago: UK GDPR's 72 h passed 8 h ago; the bank's DORA backstop (24 h) 56 h ago.
    expect(byName('Alpha').nextDueAt).toBe(new Date(toldAt.getTime() + 72 * HOUR).toISOString());
    expect(byName('Beta').nextDueAt).toBe(new Date(toldAt.getTime() + 24 * HOUR).toISOString());
    expect(byName('Gamma').nextDueAt).toBeNull();
    expect(Date.parse(byName('Delta').nextDueAt)).toBeGreaterThan(Date.now() + 71 * HOUR);

    // A trigger (DORA classification an hour after awareness): due 4 h after it.
    const bankExposure = byName('Beta').id;
    const bankToken = await app.clientToken(ids.bank);
    const trigger = await gql(
      bankToken,
      `mutation($input: RecordObligationTriggerInput!) { recordObligationTrigger(input: $input) { exposure { nextDueAt } userErrors { message } } }`,
      {
        input: {
          exposureId: bankExposure,
          regime: 'DORA',
          triggeredAt: new Date(toldAt.getTime() + HOUR).toISOString(),
          reason: 'Classified major',
        },
      },
    );
    expect(trigger.recordObligationTrigger.userErrors).toEqual([]);
    expect(trigger.recordObligationTrigger.exposure.nextDueAt).toBe(
      new Date(toldAt.getTime() + 5 * HOUR).toISOString(),
    );
    all = await expectStoredAgrees();

    // A decision: DORA's initial notification met starts the intermediate report (72 h after it).
    const decide = async (input: Record<string, unknown>) =>
      (
        await gql(
          bankToken,
          `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { exposure { nextDueAt } userErrors { message } } }`,
          { input: { exposureId: bankExposure, ...input } },
        )
      ).recordNotificationDecision;
    const reportedAt = new Date(toldAt.getTime() + 4 * HOUR);
    const met = await decide({
      regime: 'DORA',
      milestone: 'INITIAL_NOTIFICATION',
      status: 'REPORTED',
      reportedAt: reportedAt.toISOString(),
    });
    expect(met.userErrors).toEqual([]);
    // EU GDPR's 72 h (8 h ago) is now the earliest open deadline.
    expect(met.exposure.nextDueAt).toBe(new Date(toldAt.getTime() + 72 * HOUR).toISOString());
    all = await expectStoredAgrees();
    const eu = await decide({ regime: 'EU_GDPR', status: 'REPORTED', reportedAt: reportedAt.toISOString() });
    expect(eu.exposure.nextDueAt).toBe(new Date(reportedAt.getTime() + 72 * HOUR).toISOString());
    await expectStoredAgrees();

    // The client's regimes change: DORA no longer applies, so no deadline is open for the bank.
    const updated = await gql(
      app.adminToken,
      `mutation($input: UpdateClientInput!) { updateClient(input: $input) { userErrors { message } } }`,
      { input: { id: encodeGlobalId('Client', ids.bank), regimes: [RegulatoryRegime.EU_GDPR] } },
    );
    expect(updated.updateClient.userErrors).toEqual([]);
    all = await expectStoredAgrees();
    expect(byName('Beta').nextDueAt).toBeNull();
    const back = await gql(
      app.adminToken,
      `mutation($input: UpdateClientInput!) { updateClient(input: $input) { userErrors { message } } }`,
      { input: { id: encodeGlobalId('Client', ids.bank), regimes: [] } },
    );
    expect(back.updateClient.userErrors).toEqual([]);
    all = await expectStoredAgrees();
    expect(byName('Beta').nextDueAt).toBe(new Date(reportedAt.getTime() + 72 * HOUR).toISOString());

    // The engine (an incident update that widens the exposures: exfiltration confirmed): still exact.
    const update = await gql(
      app.analystToken,
      `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { exposuresChanged userErrors { message } } }`,
      { input: { id: incidentId, exfiltration: 'CONFIRMED' } },
    );
    expect(update.updateIncident.userErrors).toEqual([]);
    expect(update.updateIncident.exposuresChanged).toBeGreaterThan(0);
    await expectStoredAgrees();
  });

  it('filters by overdue and dueBefore, on the top-level list and on an incident’s', async () => {
    // After the first test: the council's UK GDPR deadline passed 8 h ago, the bank's DORA intermediate
    // report 4 h ago; the indirect client's runs 72 h from its first computation; service only: none.
    const overdue = await list(app.adminToken, { f: { overdue: true } });
    expect(names(overdue).sort()).toEqual(['Alpha council', 'Beta bank (illustrative)']);
    expect(overdue.totalCount).toBe(2);
    const notOverdue = await list(app.adminToken, { f: { overdue: false } });
    expect(names(notOverdue).sort()).toEqual(['Delta trust', 'Gamma services']);
    const soon = await list(app.adminToken, {
      f: { dueBefore: new Date(Date.now() + HOUR).toISOString() },
      o: { field: 'NEXT_DUE' },
    });
    expect(names(soon)).toEqual(['Alpha council', 'Beta bank (illustrative)']);
    const within = await list(app.adminToken, {
      f: { dueBefore: new Date(Date.now() + 100 * HOUR).toISOString() },
      o: { field: 'NEXT_DUE' },
    });
    expect(names(within)).toEqual(['Alpha council', 'Beta bank (illustrative)', 'Delta trust']);
    for (const { node } of within.edges)
      expect(Date.parse(node.nextDueAt)).toBeLessThan(Date.now() + 100 * HOUR);

    const nested = await gql(
      app.adminToken,
      `query($id: ID!) { node(id: $id) { ... on Incident {
         overdue: exposures(filter: { overdue: true }) { totalCount edges { node { client { name } } } }
         byDue: exposures(orderBy: { field: NEXT_DUE, direction: DESC }) { edges { node { client { name } } } } } } }`,
      { id: incidentId },
    );
    expect(names(nested.node.overdue).sort()).toEqual(['Alpha council', 'Beta bank (illustrative)']);
    expect(nested.node.overdue.totalCount).toBe(2);
    // DESC: no open deadline first (stands after every date), then the latest deadline.
    expect(names(nested.node.byDue)).toEqual([
      'Gamma services',
      'Delta trust',
      'Beta bank (illustrative)',
      'Alpha council',
    ]);
  });

  it('orders by NEXT_DUE and CLIENT_NAME in both directions, paging with cursors bound to the order', async () => {
    const dueOrder = (nodes: any[]) =>
      nodes.map((n) => n.nextDueAt ?? '9999').every((v, i, all) => i === 0 || all[i - 1] <= v);
    for (const [field, direction] of [
      ['NEXT_DUE', 'ASC'],
      ['NEXT_DUE', 'DESC'],
      ['CLIENT_NAME', 'ASC'],
      ['CLIENT_NAME', 'DESC'],
      ['SCORE', 'DESC'],
      ['SCORE', 'ASC'],
    ]) {
      const whole = await list(app.adminToken, { o: { field, direction } });
      const walked: any[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await list(app.adminToken, { o: { field, direction }, first: 1, after });
        walked.push(...page.edges.map((e: any) => e.node));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(walked.map((n) => n.id)).toEqual(whole.edges.map((e: any) => e.node.id));
      expect(walked).toHaveLength(4);
      if (field === 'NEXT_DUE')
        expect(dueOrder(direction === 'ASC' ? walked : [...walked].reverse())).toBe(true);
      if (field === 'CLIENT_NAME') {
        const sorted = walked.map((n) => n.client.name).sort();
        expect(walked.map((n) => n.client.name)).toEqual(direction === 'ASC' ? sorted : sorted.reverse());
      }
    }
    // A cursor read in one order is refused by another, with a message that says so.
    const page = await list(app.adminToken, { o: { field: 'NEXT_DUE' }, first: 1 });
    const refused = await app.gql(
      app.adminToken,
      `query($after: String) { exposures(first: 1, after: $after, orderBy: { field: CLIENT_NAME }) { edges { node { id } } } }`,
      { after: page.pageInfo.endCursor },
    );
    expect(refused.body.errors?.[0].message).toMatch(/cursor/i);
    const refusedDefault = await app.gql(
      app.adminToken,
      `query($after: String) { exposures(first: 1, after: $after) { edges { node { id } } } }`,
      { after: page.pageInfo.endCursor },
    );
    expect(refusedDefault.body.errors?.[0].message).toMatch(/cursor/i);
  });

  it('nearestDeadline runs over every regime’s open obligations', async () => {
    const all = await list(app.adminToken, {});
    const dues = all.edges
      .map((e: any) => e.node.nextDueAt)
      .filter(Boolean)
      .sort();
    const summary = await gql(
      app.adminToken,
      `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { nearestDeadline } } } }`,
      { id: incidentId },
    );
    expect(summary.node.exposureSummary.nearestDeadline).toBe(dues[0]);
    // The bank's own view: its earliest open deadline is DORA's intermediate report, not UK GDPR Art. 33's
    // notificationDeadline (which the summary gave before every regime counted).
    const bankView = await gql(
      await app.clientToken(ids.bank),
      `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { nearestDeadline }
         exposures { edges { node { notificationDeadline obligations { regime milestone dueAt status } } } } } } }`,
      { id: incidentId },
    );
    const bank = bankView.node.exposures.edges[0].node;
    const earliest = bank.obligations
      .filter((o: any) => OPEN.has(o.status) && o.dueAt)
      .sort((a: any, b: any) => (a.dueAt < b.dueAt ? -1 : 1))[0];
    expect(earliest).toMatchObject({ regime: 'DORA', milestone: 'INTERMEDIATE_REPORT' });
    expect(bankView.node.exposureSummary.nearestDeadline).toBe(earliest.dueAt);
    expect(bankView.node.exposureSummary.nearestDeadline).not.toBe(bank.notificationDeadline);
  });

  it('a client sees only its own, in the filters, the orders and the summary', async () => {
    const councilToken = await app.clientToken(ids.council);
    const own = await list(councilToken, { f: { overdue: false } });
    expect(own.totalCount).toBe(0);
    const overdue = await list(councilToken, { f: { overdue: true }, o: { field: 'CLIENT_NAME' } });
    expect(names(overdue)).toEqual(['Alpha council']);
    expect(overdue.totalCount).toBe(1);
    const indirectToken = await app.clientToken(ids.indirect);
    const none = await list(indirectToken, { f: { overdue: true } });
    expect(none.totalCount).toBe(0);
    const byDue = await list(indirectToken, { o: { field: 'NEXT_DUE' } });
    expect(names(byDue)).toEqual(['Delta trust']);
    const summary = await gql(
      indirectToken,
      `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { nearestDeadline } } } }`,
      { id: incidentId },
    );
    expect(summary.node.exposureSummary.nearestDeadline).toBe(byDue.edges[0].node.nextDueAt);
  });
});
