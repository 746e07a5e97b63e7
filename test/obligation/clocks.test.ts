/**
 * Issue 13 through the API: per-client awareness (the three wrong clocks), the regimes' milestones with exact
 * times, decisions per obligation and the review flag.
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

const DAY = 24 * 3600 * 1000;
const EXPOSURE_FIELDS = `id awareAt dataAwareAt notificationDeadline nextDueAt level
  notification { status justification }
  obligations { regime milestone startsAt dueAt status source reviewNeeded }
  decisions { regime milestone status justification facts effects remedialAction decidedBy }
  history { revision awareAt dataAwareAt reason note }`;

describe('regulatory clocks', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) =>
    dataOf(await app.gql(token, query, variables));

  async function record(supplierId: string, input: Record<string, unknown>): Promise<string> {
    const data = await gql(
      app.analystToken,
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id } userErrors { message } } }`,
      {
        input: {
          supplierId: encodeGlobalId('Supplier', supplierId),
          title: 'Incident',
          kind: 'CYBER_ATTACK',
          status: 'CONFIRMED',
          exfiltration: 'NONE_FOUND',
          ...input,
        },
      },
    );
    expect(data.recordIncident.userErrors).toEqual([]);
    return data.recordIncident.incident.id;
  }

  async function update(input: Record<string, unknown>) {
    return (
      await gql(
        app.analystToken,
        `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { exposuresChanged userErrors { field code message } } }`,
        { input },
      )
    ).updateIncident;
  }

  async function exposureOf(incidentId: string, clientId: string) {
    const data = await gql(
      app.adminToken,
      `query($id: ID!, $c: ID!) { node(id: $id) { ... on Incident { exposures(filter: { clientId: $c, includeResolved: true }) { edges { node { ${EXPOSURE_FIELDS} } } } } } }`,
      { id: incidentId, c: encodeGlobalId('Client', clientId) },
    );
    return data.node.exposures.edges[0]?.node;
  }

  const obligation = (exposure: any, regime: string, milestone: string) =>
    exposure.obligations.find((o: any) => o.regime === regime && o.milestone === milestone);

  it("Capita's 'no personal data' notice: the personal-data clock starts when the data is at risk, and NOT_REQUIRED is reviewed", async () => {
    const council = await createClient(app.services, { name: 'A council' });
    const capita = await createSupplier(app.services, { name: 'Capita (no personal data)' });
    const contract = await createContract(app.services, council.id, capita.id);
    await createAgreement(app.services, contract.id, {
      dataCategories: [DataCategory.HEALTH, DataCategory.CONTACT],
      dataSubjectCount: 200_000,
    });
    const toldAt = new Date(Date.now() - 10 * DAY);
    const incidentId = await record(capita.id, {
      detectedAt: new Date(Date.now() - 11 * DAY).toISOString(),
      clientsNotifiedAt: toldAt.toISOString(),
      dataCategoriesAffected: [],
    });
    let exposure = await exposureOf(incidentId, council.id);
    expect(exposure.awareAt).toBe(toldAt.toISOString());
    expect(exposure.dataAwareAt).toBeNull();
    expect(obligation(exposure, 'UK_GDPR', 'NOTIFICATION').status).toBe('NOT_STARTED');
    const clientToken = await app.clientToken(council.id);
    const decided = await gql(
      clientToken,
      `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { message } } }`,
      {
        input: {
          exposureId: exposure.id,
          status: 'NOT_REQUIRED',
          justification: 'Capita says no personal data is affected',
          facts: 'Supplier notice of 10 days ago',
        },
      },
    );
    expect(decided.recordNotificationDecision.userErrors).toEqual([]);

    const before = Date.now();
    expect(
      (
        await update({
          id: incidentId,
          dataCategoriesAffected: ['HEALTH', 'CONTACT'],
          exfiltration: 'CONFIRMED',
        })
      ).userErrors,
    ).toEqual([]);
    // asOf agrees with the register at each moment: the decision in force before the widening, under review
    // (ASSESSING, the decision's record kept) after it, as the exposure's own notification says.
    const asOfAt = async (at: number) =>
      (
        await gql(
          clientToken,
          `query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Exposure { asOf(at: $at) { notification { status decidedAt justification } } } } }`,
          { id: exposure.id, at: new Date(at).toISOString() },
        )
      ).node.asOf.notification;
    expect(await asOfAt(before)).toMatchObject({
      status: 'NOT_REQUIRED',
      justification: 'Capita says no personal data is affected',
    });
    const underReview = await asOfAt(Date.now() + 1000);
    expect(underReview).toMatchObject({
      status: 'ASSESSING',
      justification: 'Capita says no personal data is affected',
    });
    expect(underReview.decidedAt).not.toBeNull();
    exposure = await exposureOf(incidentId, council.id);
    expect(exposure.level).toBe('CRITICAL');
    // Aware of the incident 10 days ago, of the personal data breach only now: the deadline is 72 h from now.
    expect(exposure.awareAt).toBe(toldAt.toISOString());
    const dataAware = Date.parse(exposure.dataAwareAt);
    expect(dataAware).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(exposure.notificationDeadline)).toBe(dataAware + 72 * 3600 * 1000);
    expect(exposure.notification.status).toBe('ASSESSING');
    const art33 = obligation(exposure, 'UK_GDPR', 'NOTIFICATION');
    expect(art33).toMatchObject({ status: 'OPEN', reviewNeeded: true, source: 'UK GDPR Art. 33(1)' });
    expect(art33.dueAt).toBe(exposure.notificationDeadline);
    expect(exposure.nextDueAt).toBe(exposure.notificationDeadline);
    // Art. 34 triggers itself: CRITICAL with data at risk, without undue delay (no fixed time).
    expect(obligation(exposure, 'UK_GDPR', 'DATA_SUBJECTS')).toMatchObject({ status: 'OPEN', dueAt: null });
    // The decision is kept, with Art. 33(5)'s record, and the summary's nearest deadline counts it again.
    expect(exposure.decisions).toEqual([
      expect.objectContaining({
        status: 'NOT_REQUIRED',
        facts: 'Supplier notice of 10 days ago',
        regime: 'UK_GDPR',
      }),
    ]);
    const summary = await gql(
      clientToken,
      `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { nearestDeadline } } } }`,
      { id: incidentId },
    );
    expect(summary.node.exposureSummary.nearestDeadline).toBe(exposure.notificationDeadline);
    // The client sees a REVIEW_NEEDED alert in its own gap-free sequence.
    const alerts = await app.database.db.query(
      `SELECT kind, client_seq FROM exposure_alert WHERE client_id = $1 ORDER BY client_seq`,
      [council.id],
    );
    expect(alerts.map((a: any) => a.kind)).toEqual(['NEW', 'CHANGED', 'REVIEW_NEEDED']);
    expect(alerts.map((a: any) => Number(a.client_seq))).toEqual([1, 2, 3]);
  });

  it('indirect clients get their own clock: their own notice or the first computation, not the supplier’s notice', async () => {
    const direct = await createClient(app.services, { name: 'Direct client of S' });
    const indirect = await createClient(app.services, { name: 'Client of X' });
    const s = await createSupplier(app.services, { name: 'S (indirect)' });
    const x = await createSupplier(app.services, { name: 'X relies on S' });
    await linkSubprocessor(app.services, x.id, s.id);
    for (const [client, supplier] of [
      [direct, s],
      [indirect, x],
    ] as const) {
      const c = await createContract(app.services, client.id, supplier.id);
      await createAgreement(app.services, c.id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 500,
      });
    }
    const toldAt = new Date(Date.now() - 5 * DAY);
    const before = Date.now();
    const incidentId = await record(s.id, {
      detectedAt: new Date(Date.now() - 6 * DAY).toISOString(),
      clientsNotifiedAt: toldAt.toISOString(),
    });
    const d = await exposureOf(incidentId, direct.id);
    const i = await exposureOf(incidentId, indirect.id);
    expect(d.awareAt).toBe(toldAt.toISOString());
    expect(Date.parse(i.awareAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(obligation(i, 'UK_GDPR', 'NOTIFICATION').status).toBe('OPEN');
    expect(obligation(d, 'UK_GDPR', 'NOTIFICATION').status).toBe('OVERDUE');

    // X told its client 2 days ago: the indirect client's own notice moves its awareness earlier.
    const noticeAt = new Date(Date.now() - 2 * DAY).toISOString();
    const token = await app.clientToken(indirect.id);
    const noticed = await gql(
      token,
      `mutation($input: RecordClientNoticeInput!) { recordClientNotice(input: $input) { exposure { awareAt dataAwareAt history { reason } } userErrors { field message } } }`,
      {
        input: {
          incidentId,
          clientId: encodeGlobalId('Client', indirect.id),
          noticeAt,
          channel: 'email from X',
        },
      },
    );
    expect(noticed.recordClientNotice.userErrors).toEqual([]);
    expect(noticed.recordClientNotice.exposure.awareAt).toBe(noticeAt);
    expect(noticed.recordClientNotice.exposure.dataAwareAt).toBe(noticeAt);
    expect(noticed.recordClientNotice.exposure.history.map((h: any) => h.reason)).toEqual([
      'INCIDENT_RECORDED',
      'CLIENT_NOTIFIED',
    ]);
    // Another client may not record a notice for it: it is answered as a missing client.
    const other = await gql(
      await app.clientToken(direct.id),
      `mutation($input: RecordClientNoticeInput!) { recordClientNotice(input: $input) { exposure { id } userErrors { field code } } }`,
      { input: { incidentId, clientId: encodeGlobalId('Client', indirect.id), noticeAt } },
    );
    expect(other.recordClientNotice).toEqual({
      exposure: null,
      userErrors: [{ field: ['input', 'clientId'], code: 'NOT_FOUND' }],
    });
  });

  it('deadlines never move later silently: a later or cleared clientsNotifiedAt needs a reason, and history keeps the earlier value', async () => {
    const client = await createClient(app.services, { name: 'Told early' });
    const s = await createSupplier(app.services, { name: 'S (correction)' });
    const c = await createContract(app.services, client.id, s.id);
    await createAgreement(app.services, c.id, {
      dataCategories: [DataCategory.FINANCIAL],
      dataSubjectCount: 50,
    });
    const toldAt = '2023-04-03T06:00:00.000Z';
    const incidentId = await record(s.id, { detectedAt: '2023-03-31T00:00:00Z', clientsNotifiedAt: toldAt });
    expect((await exposureOf(incidentId, client.id)).notificationDeadline).toBe('2023-04-06T06:00:00.000Z');

    const refused = await update({ id: incidentId, clientsNotifiedAt: '2026-04-03T06:00:00Z' });
    expect(refused.userErrors).toEqual([
      expect.objectContaining({ field: ['input', 'clientsNotifiedAt'], code: 'CONFLICT' }),
    ]);
    const cleared = await update({ id: incidentId, clientsNotifiedAt: null });
    expect(cleared.userErrors).toEqual([expect.objectContaining({ code: 'CONFLICT' })]);
    expect((await exposureOf(incidentId, client.id)).awareAt).toBe(toldAt);

    const corrected = await update({
      id: incidentId,
      clientsNotifiedAt: null,
      awarenessCorrectionReason: 'The 3 April notice went to another council',
    });
    expect(corrected).toMatchObject({ userErrors: [], exposuresChanged: 1 });
    const after = await exposureOf(incidentId, client.id);
    expect(Date.parse(after.awareAt)).toBeGreaterThan(Date.parse(toldAt));
    expect(after.history.map((h: any) => [h.awareAt === toldAt, h.reason, h.note])).toEqual([
      [true, 'INCIDENT_RECORDED', null],
      [false, 'AWARENESS_CORRECTED', 'The 3 April notice went to another council'],
    ]);
    const alerts = await app.database.db.query(
      `SELECT kind FROM exposure_alert WHERE client_id = $1 ORDER BY id`,
      [client.id],
    );
    expect(alerts.map((a: any) => a.kind)).toEqual(['NEW', 'CHANGED']);
  });

  it('every regime’s milestones to the second, across the UK clock change (awareness 2023-03-24T12:00Z)', async () => {
    const s = await createSupplier(app.services, { name: 'S (all regimes)' });
    const uk = await createClient(app.services, {
      name: 'UK operator',
      regimes: [RegulatoryRegime.UK_GDPR, RegulatoryRegime.UK_NIS, RegulatoryRegime.PECR],
    });
    const eu = await createClient(app.services, {
      name: 'EU bank (illustrative)',
      sector: ClientSector.FINANCIAL_SERVICES,
      country: 'IE',
    });
    const nis2 = await createClient(app.services, {
      name: 'EU operator',
      country: 'DE',
      regimes: [RegulatoryRegime.NIS2],
    });
    for (const client of [uk, eu, nis2]) {
      const c = await createContract(app.services, client.id, s.id);
      await createAgreement(app.services, c.id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 500,
      });
    }
    const incidentId = await record(s.id, {
      detectedAt: '2023-03-24T08:00:00Z',
      clientsNotifiedAt: '2023-03-24T12:00:00Z',
    });
    const ukExposure = await exposureOf(incidentId, uk.id);
    expect(ukExposure.awareAt).toBe('2023-03-24T12:00:00.000Z');
    // 72 hours, not 3 calendar days in London: the clocks went forward on 26 March 2023.
    expect(obligation(ukExposure, 'UK_GDPR', 'NOTIFICATION').dueAt).toBe('2023-03-27T12:00:00.000Z');
    // A 2023 PECR breach had 24 hours (72 h only since 20 August 2025).
    expect(obligation(ukExposure, 'PECR', 'NOTIFICATION')).toMatchObject({
      dueAt: '2023-03-25T12:00:00.000Z',
      source: expect.stringContaining('611/2013'),
    });
    expect(obligation(ukExposure, 'UK_NIS', 'NOTIFICATION')).toMatchObject({
      status: 'NOT_STARTED',
      dueAt: null,
    });
    const trigger = async (clientId: string, exposureId: string, regime: string, triggeredAt: string) =>
      (
        await gql(
          await app.clientToken(clientId),
          `mutation($input: RecordObligationTriggerInput!) { recordObligationTrigger(input: $input) { userErrors { message } } }`,
          { input: { exposureId, regime, triggeredAt, reason: 'Judged so by the incident team' } },
        )
      ).recordObligationTrigger.userErrors;
    expect(await trigger(uk.id, ukExposure.id, 'UK_NIS', '2023-03-25T09:30:00Z')).toEqual([]);
    expect(obligation(await exposureOf(incidentId, uk.id), 'UK_NIS', 'NOTIFICATION').dueAt).toBe(
      '2023-03-28T09:30:00.000Z',
    );

    // EU: GDPR by establishment; DORA did not apply before 17 January 2025, so no DORA clock in 2023.
    const euExposure = await exposureOf(incidentId, eu.id);
    expect(euExposure.obligations.map((o: any) => `${o.regime}/${o.milestone}/${o.status}`)).toEqual([
      'EU_GDPR/NOTIFICATION/OVERDUE',
      'DORA/INITIAL_NOTIFICATION/NOT_STARTED',
      'DORA/INTERMEDIATE_REPORT/NOT_STARTED',
      'DORA/FINAL_REPORT/NOT_STARTED',
    ]);
    expect(obligation(euExposure, 'EU_GDPR', 'NOTIFICATION').dueAt).toBe('2023-03-27T12:00:00.000Z');

    // NIS2 applies from 18 October 2024: a significant incident in 2023 starts no NIS2 clock.
    const nis2In2023 = await exposureOf(incidentId, nis2.id);
    expect(await trigger(nis2.id, nis2In2023.id, 'NIS2', '2023-03-24T12:00:00Z')).toEqual([]);
    expect(obligation(await exposureOf(incidentId, nis2.id), 'NIS2', 'EARLY_WARNING')).toMatchObject({
      status: 'NOT_STARTED',
      dueAt: null,
    });
    // In 2025: early warning 24 h and notification 72 h after the significant incident; the final report a
    // month after the notification is submitted.
    const later = await record(s.id, {
      detectedAt: '2025-03-28T08:00:00Z',
      clientsNotifiedAt: '2025-03-28T12:00:00Z',
    });
    const nis2Exposure = await exposureOf(later, nis2.id);
    expect(await trigger(nis2.id, nis2Exposure.id, 'NIS2', '2025-03-28T12:00:00Z')).toEqual([]);
    const decide = await gql(
      await app.clientToken(nis2.id),
      `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { message } } }`,
      {
        input: {
          exposureId: nis2Exposure.id,
          regime: 'NIS2',
          milestone: 'NOTIFICATION',
          status: 'REPORTED',
          reportedAt: '2025-03-30T10:15:00Z',
        },
      },
    );
    expect(decide.recordNotificationDecision.userErrors).toEqual([]);
    const nis2After = await exposureOf(later, nis2.id);
    // 29 to 30 March 2025 is the clock change in both London and Brussels: still exactly 24 and 72 hours.
    expect(obligation(nis2After, 'NIS2', 'EARLY_WARNING')).toMatchObject({
      dueAt: '2025-03-29T12:00:00.000Z',
      status: 'OVERDUE',
    });
    expect(obligation(nis2After, 'NIS2', 'NOTIFICATION')).toMatchObject({
      dueAt: '2025-03-31T12:00:00.000Z',
      status: 'MET',
    });
    expect(obligation(nis2After, 'NIS2', 'FINAL_REPORT')).toMatchObject({
      startsAt: '2025-03-30T10:15:00.000Z',
      dueAt: '2025-04-30T10:15:00.000Z',
    });
    // The UK GDPR view of this exposure is untouched by a NIS2 decision.
    expect(nis2After.notification.status).toBe('ASSESSING');
    // A milestone the regime does not have is refused.
    const wrong = await gql(
      await app.clientToken(nis2.id),
      `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { field message } } }`,
      {
        input: {
          exposureId: nis2Exposure.id,
          regime: 'NIS2',
          milestone: 'DATA_SUBJECTS',
          status: 'ASSESSING',
        },
      },
    );
    expect(wrong.recordNotificationDecision.userErrors).toEqual([
      expect.objectContaining({ field: ['input', 'milestone'] }),
    ]);
  });

  it('DORA: initial notification 4 h after classification, at most 24 h after awareness; intermediate and final after', async () => {
    const s = await createSupplier(app.services, { name: 'S (DORA)' });
    const bank = await createClient(app.services, {
      name: 'EU bank under DORA (illustrative)',
      sector: ClientSector.FINANCIAL_SERVICES,
      country: 'NL',
    });
    const c = await createContract(app.services, bank.id, s.id);
    await createAgreement(app.services, c.id, {
      dataCategories: [DataCategory.FINANCIAL],
      dataSubjectCount: 500,
    });
    const incidentId = await record(s.id, {
      detectedAt: '2025-03-01T08:00:00Z',
      clientsNotifiedAt: '2025-03-01T10:00:00Z',
    });
    let exposure = await exposureOf(incidentId, bank.id);
    const initial = () => obligation(exposure, 'DORA', 'INITIAL_NOTIFICATION');
    // Before classification: the 24-hour backstop from awareness.
    expect(initial()).toMatchObject({
      startsAt: '2025-03-01T10:00:00.000Z',
      dueAt: '2025-03-02T10:00:00.000Z',
    });
    const token = await app.clientToken(bank.id);
    const mutate = (query: string, input: Record<string, unknown>) => gql(token, query, { input });
    await mutate(
      `mutation($input: RecordObligationTriggerInput!) { recordObligationTrigger(input: $input) { userErrors { message } } }`,
      {
        exposureId: exposure.id,
        regime: 'DORA',
        triggeredAt: '2025-03-02T08:30:00Z',
        reason: 'Major: clients affected',
      },
    );
    exposure = await exposureOf(incidentId, bank.id);
    // Classified 22 h 30 min after awareness: 4 h later would pass the 24-hour limit, so the limit holds.
    expect(initial().dueAt).toBe('2025-03-02T10:00:00.000Z');
    const report = (milestone: string, reportedAt: string) =>
      mutate(
        `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { message } } }`,
        { exposureId: exposure.id, regime: 'DORA', milestone, status: 'REPORTED', reportedAt },
      );
    await report('INITIAL_NOTIFICATION', '2025-03-02T09:00:00Z');
    await report('INTERMEDIATE_REPORT', '2025-03-04T17:45:00Z');
    exposure = await exposureOf(incidentId, bank.id);
    expect(obligation(exposure, 'DORA', 'INTERMEDIATE_REPORT')).toMatchObject({
      startsAt: '2025-03-02T09:00:00.000Z',
      dueAt: '2025-03-05T09:00:00.000Z',
      status: 'MET',
    });
    expect(obligation(exposure, 'DORA', 'FINAL_REPORT')).toMatchObject({
      startsAt: '2025-03-04T17:45:00.000Z',
      dueAt: '2025-04-04T17:45:00.000Z',
    });
    expect(
      (
        await gql(token, `query($id: ID!) { node(id: $id) { ... on Client { country regimes } } }`, {
          id: encodeGlobalId('Client', bank.id),
        })
      ).node,
    ).toEqual({ country: 'NL', regimes: ['EU_GDPR', 'DORA'] });
  });
});
