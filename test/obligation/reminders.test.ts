/**
 * Issue 13, reminders: DUE_SOON (24 h and 4 h before; a fifth of a short window) and OVERDUE alerts, each
 * written once, through the alert outbox and subscription, by a job ticked here with a controlled clock;
 * two instances ticking at once write each reminder once; a late tick announces only the latest reminder.
 */
import { DataSource } from 'typeorm';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { subscribe } from '../alert/subscriber';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { ClientSector, DataCategory } from '../../src/common/enums';
import { ObligationReminderJob } from '../../src/modules/obligation/obligation.reminders';
import { pendingAlerts } from '../../src/modules/webhook/webhook.delivery';
import { decodeIdOf, encodeGlobalId } from '../../src/common/global-id';
import { createEndpoint } from '../webhook/support';

const HOUR = 3600 * 1000;
const REMINDER_SUBSCRIPTION = `subscription($clientId: ID, $after: ID) {
  exposureAlerts(clientId: $clientId, after: $after) { id kind regime milestone dueAt exposure { id score client { id name } } }
}`;

describe('obligation reminders', () => {
  let app: TestApp;
  let second: DataSource;
  let job: ObligationReminderJob;
  let otherInstance: ObligationReminderJob;
  const ids: Record<string, string> = {};
  let incidentId: string;

  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) =>
    dataOf(await app.gql(token, query, variables));

  /** Reminder alerts of a client, oldest first, straight from the outbox. */
  const remindersOf = (clientId: string) =>
    app.database.db.query(
      `SELECT kind, regime, milestone, due_at, client_seq::int AS seq FROM exposure_alert
       WHERE client_id = $1 AND kind IN ('DUE_SOON', 'OVERDUE') ORDER BY id`,
      [clientId],
    );

  async function obligationsOf(clientId: string) {
    const data = await gql(
      app.adminToken,
      `query($id: ID!, $c: ID!) { node(id: $id) { ... on Incident { exposures(filter: { clientId: $c }) {
         edges { node { id nextDueAt obligations { regime milestone startsAt dueAt status } } } } } } }`,
      { id: incidentId, c: encodeGlobalId('Client', clientId) },
    );
    return data.node.exposures.edges[0].node;
  }

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '0' });
    second = await new DataSource(app.database.db.options).initialize();
    job = new ObligationReminderJob(app.database.db, { intervalMs: 0 });
    otherInstance = new ObligationReminderJob(second, { intervalMs: 0 });
    const s = await createSupplier(app.services, { name: 'S (reminders)' });
    const x = await createSupplier(app.services, { name: 'X' });
    await linkSubprocessor(app.services, x.id, s.id);
    const late = await createClient(app.services, { name: 'Late council' });
    const indirect = await createClient(app.services, { name: 'Indirect trust' });
    const bank = await createClient(app.services, {
      name: 'EU bank (illustrative)',
      sector: ClientSector.FINANCIAL_SERVICES,
      country: 'IE',
      regimes: [],
    });
    Object.assign(ids, { late: late.id, indirect: indirect.id, bank: bank.id });
    for (const [clientId, supplierId] of [
      [late.id, s.id],
      [indirect.id, x.id],
    ])
      await createAgreement(app.services, (await createContract(app.services, clientId, supplierId)).id, {
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 100,
      });
    // The bank: service impact only (no data), so only DORA's initial notification runs (the 24 h backstop).
    await createContract(app.services, bank.id, x.id);
    const toldAt = new Date(Date.now() - 80 * HOUR);
    const data = await gql(
      app.analystToken,
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id } userErrors { message } } }`,
      {
        input: {
          supplierId: encodeGlobalId('Supplier', s.id),
          title: 'Incident at S',
          kind: 'CYBER_ATTACK',
          status: 'CONFIRMED',
          exfiltration: 'NONE_FOUND',
          detectedAt: new Date(toldAt.getTime() - HOUR).toISOString(),
          clientsNotifiedAt: toldAt.toISOString(),
        },
      },
    );
    expect(data.recordIncident.userErrors).toEqual([]);
    incidentId = data.recordIncident.incident.id;
  });
  afterAll(async () => {
    await second.destroy();
    await app.stop();
  });

  it('an obligation already late when the job reaches it gets one OVERDUE alert; the DUE_SOON ones are passed over', async () => {
    const now = new Date();
    const first = await job.tick(now);
    expect(first.ran).toBe(true);
    const late = await remindersOf(ids.late);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ kind: 'OVERDUE', regime: 'UK_GDPR', milestone: 'NOTIFICATION' });
    expect(late[0].due_at.toISOString()).toBe((await obligationsOf(ids.late)).nextDueAt);
    // The two DUE_SOON reminders are recorded as handled, without an alert.
    const [{ passed }] = await app.database.db.query(
      `SELECT count(*)::int AS passed FROM obligation_reminder r JOIN exposure e ON e.id = r.exposure_id
       WHERE e.client_id = $1 AND r.alert_id IS NULL AND r.kind = 'DUE_SOON'`,
      [ids.late],
    );
    expect(passed).toBe(2);
    // Nothing is due for the indirect client yet (its clock started at the first computation).
    expect(await remindersOf(ids.indirect)).toEqual([]);
    // Webhooks carry the obligation in their payload (what the delivery worker sends): read for an endpoint
    // of the client's own, as the worker reads it.
    const endpoint = await createEndpoint(app, await app.clientToken(ids.late), {
      url: 'https://127.0.0.1:9/reminders',
      kinds: ['OVERDUE'],
    });
    const pending = await pendingAlerts(
      app.database.db,
      app.services.obligation,
      [
        {
          id: decodeIdOf('WebhookEndpoint', endpoint.id)!,
          clientId: ids.late,
          kinds: ['OVERDUE'],
          cursor: '0',
        },
      ],
      10,
    );
    const [delivery] = [...pending.values()][0];
    expect(JSON.parse(delivery.body)).toMatchObject({
      type: 'obligation.overdue',
      data: {
        kind: 'OVERDUE',
        obligation: { regime: 'UK_GDPR', milestone: 'NOTIFICATION', dueAt: late[0].due_at.toISOString() },
      },
    });
    // Ticking again writes nothing more.
    expect((await job.tick(now)).written).toBe(0);
    expect(await remindersOf(ids.late)).toHaveLength(1);
  });

  it('a short clock (DORA’s 24 h backstop) gets one DUE_SOON when its last fifth begins', async () => {
    const exposure = await obligationsOf(ids.bank);
    const initial = exposure.obligations.find((o: any) => o.milestone === 'INITIAL_NOTIFICATION');
    const due = new Date(initial.dueAt);
    expect(due.getTime() - Date.parse(initial.startsAt)).toBe(24 * HOUR);
    // The bank's first computation was just now, so its backstop lies ahead; a fifth of 24 h is 4 h 48 min.
    const lead = (24 * HOUR) / 5;
    await job.tick(new Date(due.getTime() - lead - 1000));
    expect(await remindersOf(ids.bank)).toEqual([]);
    await Promise.all([
      job.tick(new Date(due.getTime() - lead)),
      otherInstance.tick(new Date(due.getTime() - lead)),
    ]);
    const written = await remindersOf(ids.bank);
    expect(written.map((r: any) => [r.kind, r.regime, r.milestone])).toEqual([
      ['DUE_SOON', 'DORA', 'INITIAL_NOTIFICATION'],
    ]);
    // A decision closes the obligation: no OVERDUE follows.
    const decided = await gql(
      await app.clientToken(ids.bank),
      `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { message } } }`,
      {
        input: {
          exposureId: exposure.id,
          regime: 'DORA',
          milestone: 'INITIAL_NOTIFICATION',
          status: 'NOT_REQUIRED',
          justification: 'Not major after all',
        },
      },
    );
    expect(decided.recordNotificationDecision.userErrors).toEqual([]);
    await job.tick(new Date(due.getTime() + HOUR));
    expect(await remindersOf(ids.bank)).toHaveLength(1);
  });

  it('DUE_SOON 24 h and 4 h before, OVERDUE after: each once, to the client’s subscriber and not another’s', async () => {
    const exposure = await obligationsOf(ids.indirect);
    const due = new Date(exposure.nextDueAt);
    const indirectSub = await subscribe(
      app.url,
      await app.clientToken(ids.indirect),
      {},
      { query: REMINDER_SUBSCRIPTION },
    );
    const lateSub = await subscribe(
      app.url,
      await app.clientToken(ids.late),
      {},
      { query: REMINDER_SUBSCRIPTION },
    );
    try {
      const at = (ms: number) => new Date(due.getTime() + ms);
      expect((await job.tick(at(-24 * HOUR - 1000))).written).toBe(0);
      await job.tick(at(-24 * HOUR));
      await job.tick(at(-24 * HOUR + 60_000));
      await job.tick(at(-4 * HOUR));
      await job.tick(at(0)); // due, not yet past: no OVERDUE
      expect((await remindersOf(ids.indirect)).map((r: any) => r.kind)).toEqual(['DUE_SOON', 'DUE_SOON']);
      // Two instances tick at once, past the deadline: one OVERDUE.
      const both = await Promise.all([job.tick(at(1000)), otherInstance.tick(at(1000))]);
      expect(both.reduce((n, o) => n + o.written, 0)).toBeGreaterThanOrEqual(1);
      await Promise.all([job.tick(at(2000)), otherInstance.tick(at(2000))]);
      const written = await remindersOf(ids.indirect);
      expect(written.map((r: any) => r.kind)).toEqual(['DUE_SOON', 'DUE_SOON', 'OVERDUE']);
      for (const r of written) {
        expect(r).toMatchObject({ regime: 'UK_GDPR', milestone: 'NOTIFICATION' });
        expect(r.due_at.toISOString()).toBe(due.toISOString());
      }
      // The client's alert numbers run on without a gap.
      const seqs = (
        await app.database.db.query(
          `SELECT client_seq::int AS seq FROM exposure_alert WHERE client_id = $1 ORDER BY id`,
          [ids.indirect],
        )
      ).map((r: any) => r.seq);
      expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));

      const received = await indirectSub.waitFor(3);
      expect(received.map((a: any) => [a.kind, a.regime, a.milestone, a.dueAt])).toEqual([
        ['DUE_SOON', 'UK_GDPR', 'NOTIFICATION', due.toISOString()],
        ['DUE_SOON', 'UK_GDPR', 'NOTIFICATION', due.toISOString()],
        ['OVERDUE', 'UK_GDPR', 'NOTIFICATION', due.toISOString()],
      ]);
      expect(received.every((a) => a.exposure.client.name === 'Indirect trust')).toBe(true);
      // Another client's subscriber received none of them (its own OVERDUE was written before it subscribed).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(lateSub.alerts).toEqual([]);
      expect(indirectSub.alerts).toHaveLength(3);
    } finally {
      await indirectSub.dispose();
      await lateSub.dispose();
    }
  });
});
