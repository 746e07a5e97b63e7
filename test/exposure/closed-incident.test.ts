/**
 * Rule 11 (design/domain.md; issue 11 item 3): a CLOSED incident is not recomputed. An update that keeps it
 * CLOSED and changes nothing its exposures depend on writes nothing to them; one that would change a fact is
 * refused until the incident is reopened; reopening recomputes it, and its revisions and alerts say REOPENED.
 * Every revision says why it was written. Through GraphQL (HTTP, and WebSocket for the alerts).
 */
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { createAgreement, createClient, createContract, createSupplier } from '../support/factories';
import { databaseFingerprint } from '../register/helpers';
import { subscribe } from '../alert/subscriber';

const gid = {
  supplier: (id: string) => encodeGlobalId('Supplier', id),
  client: (id: string) => encodeGlobalId('Client', id),
  contract: (id: string) => encodeGlobalId('Contract', id),
};

const EXPOSURE_TABLES = ['exposure', 'exposure_revision', 'exposure_alert', 'notification_decision'];

describe('CLOSED incidents and why revisions were written', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const UPDATE = `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) {
    exposuresChanged userErrors { field code message } incident { id title status } } }`;
  const updateIncident = async (input: Record<string, unknown>) =>
    dataOf(await app.gql(app.analystToken, UPDATE, { input })).updateIncident;
  async function exposuresTables() {
    const all = await databaseFingerprint(app.database.db);
    return Object.fromEntries(EXPOSURE_TABLES.map((table) => [table, all[table]]));
  }
  async function exposures(incidentId: string) {
    const data = dataOf(
      await app.gql(
        app.analystToken,
        `query($id: ID!) { node(id: $id) { ... on Incident {
      exposures(filter: { includeResolved: true }) { edges { node { client { id } score revision resolvedAt history { revision reason resolvedAt } } } } } } }`,
        { id: incidentId },
      ),
    );
    return data.node.exposures.edges.map((e: { node: unknown }) => e.node) as {
      client: { id: string };
      score: number;
      revision: number;
      resolvedAt: string | null;
      history: { revision: number; reason: string | null }[];
    }[];
  }

  it('after CLOSED: register changes and a title-only update write nothing; a fact change is refused; reopening recomputes with reason REOPENED', async () => {
    const s = (await createSupplier(app.services)).id;
    const k = (await createClient(app.services)).id;
    const c = (await createContract(app.services, k, s, { criticality: ServiceCriticality.STANDARD })).id;
    await createAgreement(app.services, c, { dataCategories: [DataCategory.CONTACT], dataSubjectCount: 100 });
    const other = (await createClient(app.services)).id;
    const leaving = (await createContract(app.services, other, s)).id;

    const alerts = await subscribe(
      app.url,
      app.adminToken,
      {},
      { query: `subscription { exposureAlerts { id kind reason exposure { id revision client { id } } } }` },
    );
    const recorded = dataOf(
      await app.gql(
        app.analystToken,
        `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { exposuresChanged userErrors { field } incident { id } } }`,
        {
          input: {
            supplierId: gid.supplier(s),
            title: 'Breach',
            kind: 'CYBER_ATTACK',
            status: 'CONFIRMED',
            startedAt: '2023-03-22T00:00:00Z',
            detectedAt: '2023-03-31T00:00:00Z',
            exfiltration: 'SUSPECTED',
          },
        },
      ),
    ).recordIncident;
    expect(recorded.exposuresChanged).toBe(2);
    const incidentId = recorded.incident.id as string;
    // Open: an update of its facts, then a register change (a new agreement for k).
    expect((await updateIncident({ id: incidentId, exfiltration: 'CONFIRMED' })).exposuresChanged).toBe(1);
    await createAgreement(app.services, c, {
      dataCategories: [DataCategory.FINANCIAL],
      dataSubjectCount: 50,
    });
    expect((await updateIncident({ id: incidentId, status: 'CLOSED' })).exposuresChanged).toBe(0);
    const closed = await exposures(incidentId);
    const mine = closed.find((e) => e.client.id === gid.client(k))!;
    expect(mine.history.map((r) => r.reason)).toEqual([
      'INCIDENT_RECORDED',
      'INCIDENT_UPDATED',
      'REGISTER_CHANGED',
    ]);
    const atClose = await exposuresTables();

    // CLOSED: a new CRITICAL contract with GENETIC data for 2,000,000 people, and the removal of another contract.
    const big = (await createContract(app.services, k, s, { criticality: ServiceCriticality.CRITICAL })).id;
    await createAgreement(app.services, big, {
      dataCategories: [DataCategory.GENETIC],
      dataSubjectCount: 2_000_000,
    });
    dataOf(
      await app.gql(
        app.adminToken,
        `mutation($input: RemoveContractInput!) { removeContract(input: $input) { userErrors { field } } }`,
        { input: { id: gid.contract(leaving) } },
      ),
    );
    expect(await exposuresTables()).toEqual(atClose);

    // A title-only update (and one that restates facts unchanged, and the kind) writes nothing to exposures.
    const renamed = await updateIncident({
      id: incidentId,
      title: 'Breach (renamed)',
      kind: 'RANSOMWARE',
      exfiltration: 'CONFIRMED',
      startedAt: '2023-03-22T00:00:00Z',
      status: 'CLOSED',
    });
    expect(renamed).toEqual({
      exposuresChanged: 0,
      userErrors: [],
      incident: { id: incidentId, title: 'Breach (renamed)', status: 'CLOSED' },
    });
    expect(await exposuresTables()).toEqual(atClose);

    // A change to what the exposures depend on, while it stays CLOSED, is refused and says to reopen it.
    for (const change of [
      { dataCategoriesAffected: ['CONTACT'] },
      { exfiltration: 'NONE_FOUND' },
      { containedAt: '2023-04-01T00:00:00Z', status: 'CLOSED' },
      { clientsNotifiedAt: '2023-04-02T00:00:00Z' },
    ]) {
      const refused = await updateIncident({ id: incidentId, ...change });
      const field = Object.keys(change).find((key) => key !== 'status')!;
      expect({ change, refused }).toEqual({
        change,
        refused: {
          exposuresChanged: 0,
          incident: null,
          userErrors: [
            {
              field: ['input', field],
              code: 'CONFLICT',
              message: expect.stringMatching(/CLOSED.*reopen it/),
            },
          ],
        },
      });
    }
    expect(await exposuresTables()).toEqual(atClose);
    const beforeReopen = (await exposuresTables()).exposure_alert.rows;

    // Reopening is the explicit way to recompute: both exposures change, and say why.
    const reopened = await updateIncident({
      id: incidentId,
      status: 'CONTAINED',
      containedAt: '2023-04-01T00:00:00Z',
    });
    expect(reopened.userErrors).toEqual([]);
    expect(reopened.exposuresChanged).toBe(2);
    const now = await exposures(incidentId);
    const mineNow = now.find((e) => e.client.id === gid.client(k))!;
    expect(mineNow.score).toBeGreaterThan(mine.score);
    expect(mineNow.history.map((r) => r.reason)).toEqual([
      'INCIDENT_RECORDED',
      'INCIDENT_UPDATED',
      'REGISTER_CHANGED',
      'REOPENED',
    ]);
    const theirs = now.find((e) => e.client.id === gid.client(other))!;
    expect(theirs.resolvedAt).not.toBeNull();
    expect(theirs.history.map((r) => r.reason)).toEqual(['INCIDENT_RECORDED', 'REOPENED']);

    // The alerts say it too.
    const received = await alerts.waitFor(beforeReopen + 2);
    await alerts.dispose();
    expect(alerts.errors).toEqual([]);
    const summary = (
      received as unknown as {
        kind: string;
        reason: string;
        exposure: { revision: number; client: { id: string } };
      }[]
    ).map(
      (a) =>
        `${a.exposure.client.id === gid.client(k) ? 'k' : 'other'} r${a.exposure.revision} ${a.kind} ${a.reason}`,
    );
    // (Alerts of one statement come in client order, which the random ids decide: compared as a set.)
    expect(summary.sort()).toEqual(
      [
        'k r1 NEW INCIDENT_RECORDED',
        'other r1 NEW INCIDENT_RECORDED',
        'k r2 CHANGED INCIDENT_UPDATED',
        'k r3 CHANGED REGISTER_CHANGED',
        'k r4 CHANGED REOPENED',
        'other r2 RESOLVED REOPENED',
      ].sort(),
    );
  });
});
