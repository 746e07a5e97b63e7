import { TestApp, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
  FACTORY_ADMIN,
} from '../support/factories';
import { DataCategory, ExfiltrationStatus } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { subscribe } from './subscriber';
import { mintToken } from '../../src/auth/jwt';
import { TEST_JWT_SECRET, testSchema } from '../support/app';
import { GraphQLObjectType } from 'graphql';
import { ExposureEntity, NotificationStatus } from '../../src/modules/exposure/exposure.entity';
import { ALERT_EXPOSURE_COLUMNS } from '../../src/modules/alert/alert.queries';
import { AlertHub } from '../../src/modules/alert/alert.hub';
import { AlertEvent } from '../../src/modules/alert/alert.type';

/** A supplier with `clients` clients, each with one contract and agreement, so one incident alerts every client. */
async function register(app: TestApp, clients: number) {
  const supplier = await createSupplier(app.services, { name: 'Capita plc' });
  const list = [];
  for (let i = 0; i < clients; i += 1) {
    const client = await createClient(app.services, { name: `Council ${String(i).padStart(3, '0')}` });
    const contract = await createContract(app.services, client.id, supplier.id);
    await createAgreement(app.services, contract.id);
    list.push(client);
  }
  return { supplier, clients: list };
}

async function alertIds(app: TestApp, clientId?: string): Promise<string[]> {
  const rows: { id: string }[] = await app.database.db.query(
    `SELECT a.id::text AS id FROM exposure_alert a WHERE $1::uuid IS NULL OR a.client_id = $1 ORDER BY a.id`,
    [clientId ?? null],
  );
  return rows.map((r) => r.id);
}

/** Every field of Exposure with a selection of it: the per-field tests select each alone. */
const EXPOSURE_SELECTIONS: Record<string, string> = {
  id: 'id',
  revision: 'revision',
  score: 'score',
  level: 'level',
  awareAt: 'awareAt',
  dataAwareAt: 'dataAwareAt',
  notificationDeadline: 'notificationDeadline',
  computedAt: 'computedAt',
  resolvedAt: 'resolvedAt',
  dataCategoriesAtRisk: 'dataCategoriesAtRisk',
  specialCategoryData: 'specialCategoryData',
  dataSubjectsAtRisk: 'dataSubjectsAtRisk',
  dataSubjectsAtRiskRange: 'dataSubjectsAtRiskRange { low high }',
  nextDueAt: 'nextDueAt',
  obligations: 'obligations { regime milestone dueAt startsAt status reviewNeeded }',
  factors: 'factors { name contribution detail }',
  contracts: 'contracts { id }',
  path: 'path { id }',
  notification: 'notification { status decidedAt decidedBy reportedAt reference justification }',
  decisions: 'decisions { status }',
  history: 'history { revision score }',
  asOf: 'asOf(at: "2100-01-01T00:00:00Z") { revision score }',
  icoReportDraft: 'icoReportDraft { answers { question status answer basis } }',
  client: 'client { id }',
  incident: 'incident { id }',
};

async function queryExposure(app: TestApp, token: string, id: string, fields: string) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: `query($id: ID!) { node(id: $id) { ... on Exposure { ${fields} } } }`,
      variables: { id },
    }),
  });
  const { data, errors } = (await response.json()) as {
    data: { node: Record<string, unknown> };
    errors?: unknown;
  };
  expect(errors).toBeUndefined();
  return data.node;
}

const alertQuery = (exposureFields: string, args = '') =>
  `subscription { exposureAlerts${args} { id exposure { ${exposureFields} } } }`;

describe('exposure alerts over WebSocket', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('delivers each client only its own alerts, live, after commit', async () => {
    const { supplier, clients } = await register(app, 2);
    const [a, b] = clients;
    const subA = await subscribe(app.url, await app.clientToken(a.id));
    const subB = await subscribe(app.url, await app.clientToken(b.id), {}, { headerToken: true });
    const subAdmin = await subscribe(app.url, app.adminToken);
    const subAdminForB = await subscribe(app.url, app.adminToken, {
      clientId: encodeGlobalId('Client', b.id),
    });

    await recordIncident(app.services, supplier.id);

    const [alertA] = await subA.waitFor(1);
    const [alertB] = await subB.waitFor(1);
    await subAdmin.waitFor(2);
    await subAdminForB.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subA.alerts).toHaveLength(1);
    expect(alertA).toMatchObject({
      kind: 'NEW',
      exposure: { client: { id: encodeGlobalId('Client', a.id) } },
    });
    expect(subB.alerts).toHaveLength(1);
    expect(alertB.exposure.client.id).toBe(encodeGlobalId('Client', b.id));
    expect(subAdmin.alerts.map((x) => x.id).sort()).toEqual(await alertIds(app));
    // A client sees its own alert numbers (its first alert is 1); admin, filtered or not, the register-wide id.
    expect([alertA.id, alertB.id]).toEqual(['1', '1']);
    expect(subAdminForB.alerts.map((x) => x.id)).toEqual(await alertIds(app, b.id));
    await Promise.all([subA, subB, subAdmin, subAdminForB].map((s) => s.dispose()));
  });

  it("answers an alert's exposure as a query answers the same exposure, field by field", async () => {
    const { supplier, clients } = await register(app, 1);
    const fields = `id revision score level awareAt dataAwareAt notificationDeadline computedAt resolvedAt
      dataCategoriesAtRisk specialCategoryData dataSubjectsAtRisk dataSubjectsAtRiskRange { low high }
      nextDueAt obligations { regime milestone dueAt startsAt status reviewNeeded } factors { contribution detail }
      contracts { id } path { id } notification { status } client { id } incident { id }`;
    const token = await app.clientToken(clients[0].id);
    const sub = await subscribe(
      app.url,
      token,
      {},
      { query: `subscription { exposureAlerts { id exposure { ${fields} } } }` },
    );
    await recordIncident(app.services, supplier.id);
    const [alert] = (await sub.waitFor(1)) as unknown as { exposure: { id: string } }[];
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `query($id: ID!) { node(id: $id) { ... on Exposure { ${fields} } } }`,
        variables: { id: alert.exposure.id },
      }),
    });
    const { data, errors } = (await response.json()) as {
      data: { node: Record<string, { high: number }> };
      errors?: unknown;
    };
    expect(errors).toBeUndefined();
    expect(alert.exposure).toEqual(data.node);
    expect(data.node.dataAwareAt).not.toBeNull();
    expect(data.node.dataSubjectsAtRiskRange.high).toBeGreaterThan(0);
    await sub.dispose();
  });

  it("reads every column of an alert's exposure that the entity has", async () => {
    const properties = app.database.db.getMetadata(ExposureEntity).columns.map((c) => c.propertyName);
    expect(Object.keys(ALERT_EXPOSURE_COLUMNS).sort()).toEqual([...new Set(properties)].sort());
    // Every Exposure field is in the per-field selections below, so a field added later is tested alone too.
    const exposure = (await testSchema()).getType('Exposure') as GraphQLObjectType;
    const fields = Object.keys(exposure.getFields());
    expect(Object.keys(EXPOSURE_SELECTIONS).sort()).toEqual(fields.sort());
  });

  it("answers each Exposure field selected alone on an alert's exposure as a query does", async () => {
    const { supplier, clients } = await register(app, 1);
    const token = await app.clientToken(clients[0].id);
    await recordIncident(app.services, supplier.id);
    // Replayed (after: "0"), so each subscription's own read answers it, with only the columns it selects.
    for (const [field, selection] of Object.entries(EXPOSURE_SELECTIONS)) {
      const sub = await subscribe(
        app.url,
        token,
        {},
        { query: alertQuery(`id ${selection}`, '(after: "0")') },
      );
      // An error (a field answering from a column not read) comes without an alert: fail on it, not a timeout.
      await sub.waitFor(1, 5000).catch(() => undefined);
      await sub.dispose();
      expect({ field, errors: sub.errors }).toEqual({ field, errors: [] });
      const [alert] = sub.alerts as unknown as { exposure: Record<string, unknown> }[];
      const node = await queryExposure(app, token, alert.exposure.id as string, selection);
      expect({ field, value: alert.exposure[field] }).toEqual({ field, value: node[field] });
    }
  }, 60000);

  it('answers a narrow and an everything subscription on the same instance each as a query does', async () => {
    const { supplier, clients } = await register(app, 1);
    const token = await app.clientToken(clients[0].id);
    const everything = Object.values(EXPOSURE_SELECTIONS).join(' ');
    const narrow = await subscribe(app.url, token, {}, { query: alertQuery('id score level') });
    const wide = await subscribe(app.url, token, {}, { query: alertQuery(everything) });
    await recordIncident(app.services, supplier.id);
    const [narrowAlert] = (await narrow.waitFor(1)) as unknown as { exposure: Record<string, unknown> }[];
    const [wideAlert] = (await wide.waitFor(1)) as unknown as { exposure: Record<string, unknown> }[];
    const id = wideAlert.exposure.id as string;
    const node = await queryExposure(app, token, id, everything);
    expect(wideAlert.exposure).toEqual(node);
    expect(narrowAlert.exposure).toEqual({ id, score: node.score, level: node.level });
    expect(node.dataAwareAt).not.toBeNull();
    expect((node.factors as unknown[]).length).toBeGreaterThan(0);
    expect((node.contracts as unknown[]).length).toBeGreaterThan(0);
    // Once the wide one has gone, the narrow one goes on with the narrow read; a wide one joining later
    // gets every column again.
    await wide.dispose();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await recordIncident(app.services, supplier.id);
    const [, second] = (await narrow.waitFor(2)) as unknown as { exposure: Record<string, unknown> }[];
    const secondNode = await queryExposure(app, token, second.exposure.id as string, 'id score level');
    expect(second.exposure).toEqual(secondNode);
    const late = await subscribe(app.url, token, {}, { query: alertQuery(everything) });
    await recordIncident(app.services, supplier.id);
    const [lateAlert] = (await late.waitFor(1)) as unknown as { exposure: Record<string, unknown> }[];
    await narrow.waitFor(3);
    expect(lateAlert.exposure).toEqual(
      await queryExposure(app, token, lateAlert.exposure.id as string, everything),
    );
    expect(late.errors).toEqual([]);
    expect(narrow.errors).toEqual([]);
    await Promise.all([narrow.dispose(), late.dispose()]);
  });

  it('reads a batch again when a subscriber showing more columns comes during the read', async () => {
    const { supplier, clients } = await register(app, 1);
    const clientId = clients[0].id;
    await recordIncident(app.services, supplier.id);
    // A hub of its own (not started: no listener), read from the first alert, so nothing else interferes.
    const hub = new AlertHub(app.database.db, { connectionString: '' });
    const narrow: AlertEvent[] = [];
    const wide: AlertEvent[] = [];
    hub.add({ clientId, exposureFields: new Set(['score', 'level']), deliver: (e) => narrow.push(e) });
    const reading = hub.catchUp();
    // The read above was sent leaving the optional columns out; this sink comes before it returns.
    hub.add({ clientId, exposureFields: new Set(['factors', 'path']), deliver: (e) => wide.push(e) });
    await reading;
    expect(wide).toHaveLength(1);
    expect(narrow).toEqual(wide);
    expect(wide[0].leftOut).not.toContain('factors');
    expect(wide[0].leftOut).not.toContain('path');
    expect(wide[0].exposure.factors.length).toBeGreaterThan(0);
    expect(wide[0].exposure.path.length).toBeGreaterThan(0);
    // Alone, the narrow sink's read leaves them out.
    const alone = new AlertHub(app.database.db, { connectionString: '' });
    const only: AlertEvent[] = [];
    alone.add({ clientId, exposureFields: new Set(['score', 'level']), deliver: (e) => only.push(e) });
    await alone.catchUp();
    expect(only[0].leftOut).toEqual(expect.arrayContaining(['factors', 'path']));
    expect(only[0].exposure.factors).toBeUndefined();
    await Promise.all([hub.stop(), alone.stop()]);
  });

  it("answers nested objects, fragments, aliases and @include/@skip with variables under an alert's exposure as a query does, live and replayed, for a client and an admin token", async () => {
    // A client exposed directly and through a sub-processor, with special category data and a decision.
    const supplier = await createSupplier(app.services, { name: 'Capita plc' });
    const middle = await createSupplier(app.services, { name: 'Outsourcer Ltd' });
    await linkSubprocessor(app.services, middle.id, supplier.id);
    const client = await createClient(app.services, { name: 'Council nested' });
    const other = await createClient(app.services, { name: 'Council other' });
    for (const [who, via] of [
      [client, supplier],
      [client, middle],
      [other, supplier],
    ] as const) {
      const contract = await createContract(app.services, who.id, via.id);
      await createAgreement(app.services, contract.id, {
        dataCategories: [DataCategory.HEALTH, DataCategory.CONTACT],
        dataSubjectCount: 5000,
      });
    }
    const incident = await recordIncident(app.services, supplier.id);
    const [{ id: exposureId }]: { id: string }[] = await app.database.db.query(
      `SELECT id FROM exposure WHERE client_id = $1`,
      [client.id],
    );
    await app.services.exposure.recordDecision(FACTORY_ADMIN, {
      exposureId: encodeGlobalId('Exposure', exposureId),
      status: NotificationStatus.NOT_REQUIRED,
      justification: 'Encrypted at rest; no access to keys',
    } as never);
    const fragment = `fragment Exp on Exposure {
      id
      s: score
      ... on Exposure { lvl: level }
      cats: dataCategoriesAtRisk @include(if: $cats)
      notification @include(if: $notif) { status justification decidedBy decidedAt }
      obligations @skip(if: $noObligations) { regime milestone status startsAt dueAt reviewNeeded }
      ...Nested
      a: path { id } b: path { name }
      contracts { id }
      icoReportDraft @include(if: $draft) { answers { question status answer basis } }
      nextDueAt
    }
    fragment Nested on Exposure {
      client { id name exposures(first: 5) { edges { node { id score factors { name contribution } path { id } contracts { id } notification { status } } } } }
      incident { id exposures(first: 5) { edges { node { id dataAwareAt notificationDeadline awareAt } } } exposureSummary { clientsExposed peopleAtRisk } }
      history { revision score contracts { id } path { id } }
      asOf(at: "2100-01-01T00:00:00Z") { revision notification { status } }
    }`;
    const definitions = '$cats: Boolean!, $notif: Boolean!, $noObligations: Boolean!, $draft: Boolean!';
    const variables = { cats: true, notif: true, noObligations: false, draft: true };
    const subscription = (args: string) =>
      `subscription(${definitions}${args.includes('$after') ? ', $after: ID' : ''}${args.includes('$clientId') ? ', $clientId: ID' : ''}) { exposureAlerts${args} { id e: exposure { ...Exp } } } ${fragment}`;
    const query = `query($id: ID!, ${definitions}) { node(id: $id) { ...Exp } } ${fragment}`;
    const clientToken = await app.clientToken(client.id);
    const clientGlobalId = encodeGlobalId('Client', client.id);
    const subscribers = await Promise.all([
      subscribe(app.url, clientToken, variables as never, { query: subscription('') }),
      subscribe(app.url, app.adminToken, { ...variables, clientId: clientGlobalId } as never, {
        query: subscription('(clientId: $clientId)'),
      }),
      // A narrow one on the same instance, so the hub's read is the union of the selections.
      subscribe(app.url, clientToken, {}, { query: alertQuery('id score') }),
    ]);
    // Widened: the decision needs review, a CHANGED alert.
    await app.services.incident.update(FACTORY_ADMIN, {
      id: encodeGlobalId('Incident', incident.incident.id),
      exfiltration: ExfiltrationStatus.CONFIRMED,
    } as never);
    const answers = async (token: string, id: string) => {
      const response = await app.gql(token, query, { id, ...variables });
      const { data, errors } = response.body as { data: { node: Record<string, unknown> }; errors?: unknown };
      expect(errors).toBeUndefined();
      return data.node;
    };
    const live = await Promise.all(subscribers.map((s) => s.waitFor(1)));
    for (const s of subscribers) expect(s.errors).toEqual([]);
    const [clientAlert, adminAlert] = live.map(([alert]) => alert as unknown as { e: { id: string } });
    const asClient = await answers(clientToken, clientAlert.e.id);
    const asAdmin = await answers(app.adminToken, adminAlert.e.id);
    expect(clientAlert.e).toEqual(asClient);
    expect(adminAlert.e).toEqual(asAdmin);
    await Promise.all(subscribers.map((s) => s.dispose()));
    // Replayed: each subscription's own read, after the alert before the newest one.
    const ids = await alertIds(app, client.id);
    const replayClient = await subscribe(
      app.url,
      clientToken,
      { ...variables, after: String(ids.length - 1) } as never,
      { query: subscription('(after: $after)') },
    );
    const replayAdmin = await subscribe(
      app.url,
      app.adminToken,
      { ...variables, clientId: clientGlobalId, after: ids[ids.length - 2] } as never,
      { query: subscription('(clientId: $clientId, after: $after)') },
    );
    const [[replayedClient], [replayedAdmin]] = (await Promise.all([
      replayClient.waitFor(1),
      replayAdmin.waitFor(1),
    ])) as unknown as { e: Record<string, unknown> }[][];
    expect(replayClient.errors).toEqual([]);
    expect(replayAdmin.errors).toEqual([]);
    expect(replayedClient.e).toEqual(asClient);
    expect(replayedAdmin.e).toEqual(asAdmin);
    await Promise.all([replayClient.dispose(), replayAdmin.dispose()]);
  });

  it('refuses connections without a valid token and subscriptions to another client', async () => {
    const none = await subscribe(app.url, null);
    expect(none.closeCode).toBe(4401);
    const forged = await subscribe(app.url, 'not.a.jwt');
    expect(forged.closeCode).toBe(4403);
    const expired = await subscribe(
      app.url,
      await mintToken(TEST_JWT_SECRET, { sub: 'x', role: 'admin' }, '-1m'),
    );
    expect(expired.closeCode).toBe(4403);

    const { clients } = await register(app, 2);
    const other = await subscribe(app.url, await app.clientToken(clients[0].id), {
      clientId: encodeGlobalId('Client', clients[1].id),
    });
    await other.waitUntilEnded();
    expect(other.errors[0]?.extensions?.code).toBe('FORBIDDEN');
    await other.dispose();
  });

  it('replays from an alert id with no gap and no duplicate while alerts are being committed', async () => {
    const { supplier } = await register(app, 3);
    await recordIncident(app.services, supplier.id);
    const before = await alertIds(app);
    const resumeFrom = before[before.length - 2];
    const incidents = Array.from({ length: 5 }, () => recordIncident(app.services, supplier.id));
    const sub = await subscribe(app.url, app.adminToken, { after: resumeFrom });
    await Promise.all(incidents);
    await recordIncident(app.services, supplier.id);
    const expected = (await alertIds(app)).filter((id) => BigInt(id) > BigInt(resumeFrom));
    await sub.waitFor(expected.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sub.alerts.map((x) => x.id)).toEqual(expected);
    await sub.dispose();
  });

  it('fans out across two instances on one database', async () => {
    const second = await startTestApp({}, { database: app.database });
    try {
      const { supplier, clients } = await register(app, 2);
      const sub = await subscribe(second.url, await second.clientToken(clients[1].id));
      const { incident } = await recordIncident(app.services, supplier.id);
      const [alert] = await sub.waitFor(1);
      expect(alert.kind).toBe('NEW');
      expect(alert.exposure.client.name).toBe(clients[1].name);
      // A client-role subscriber receives the client's own alert number, not the register-wide id.
      const [{ seq }] = await app.database.db.query(
        `SELECT client_seq::text AS seq FROM exposure_alert WHERE incident_id = $1 AND client_id = $2`,
        [incident.id, clients[1].id],
      );
      expect(alert.id).toBe(seq);
      await sub.dispose();
    } finally {
      await second.stop();
    }
  });

  it('loses nothing when the listening connection is killed mid-stream', async () => {
    const { supplier } = await register(app, 2);
    const sub = await subscribe(app.url, app.adminToken);
    await recordIncident(app.services, supplier.id);
    await sub.waitFor(2);
    const connectionsBefore = app.server.alertHub.connections;
    await app.database.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'register-alert-listener' AND datname = current_database()`,
    );
    // Committed while the instance is not listening.
    await recordIncident(app.services, supplier.id);
    await recordIncident(app.services, supplier.id);
    await sub.waitFor(6, 20000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = sub.alerts.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(6);
    expect(app.server.alertHub.connections).toBeGreaterThan(connectionsBefore);
    await sub.dispose();
  });

  it('delivers an incident to 500 concurrent subscribers', async () => {
    const { supplier, clients } = await register(app, 5);
    const subscribers = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        app.clientToken(clients[i % 5].id).then((token) => subscribe(app.url, token)),
      ),
    );
    await recordIncident(app.services, supplier.id);
    await Promise.all(subscribers.map((s) => s.waitFor(1, 30000)));
    for (const [i, s] of subscribers.entries()) {
      expect(s.alerts).toHaveLength(1);
      expect(s.alerts[0].exposure.client.name).toBe(clients[i % 5].name);
    }
    await Promise.all(subscribers.map((s) => s.dispose()));
  }, 120000);
});

describe('a subscriber that falls behind', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ALERT_QUEUE_MAX: '2' });
  });
  afterAll(() => app.stop());

  it('is ended with a reason and resumes with after, losing nothing', async () => {
    const { supplier } = await register(app, 6);
    const sub = await subscribe(app.url, app.adminToken);
    // One transaction writes six alerts at once: more than the queue of two can hold.
    await recordIncident(app.services, supplier.id);
    await sub.waitUntilEnded();
    const error = sub.errors[0];
    expect(error.extensions?.code).toBe('SUBSCRIBER_TOO_SLOW');
    const resumeAfter = error.extensions?.resumeAfter as string;
    const delivered = sub.alerts.map((x) => x.id);
    const resumed = await subscribe(app.url, app.adminToken, { after: resumeAfter });
    const all = await alertIds(app);
    const missing = all.filter((id) => BigInt(id) > BigInt(resumeAfter));
    await resumed.waitFor(missing.length);
    expect([...delivered, ...resumed.alerts.map((x) => x.id)]).toEqual(all);
    await Promise.all([sub.dispose(), resumed.dispose()]);
  });

  it('resumes a narrow subscription with after and a wider selection: each replayed alert answers as a query does', async () => {
    const { supplier } = await register(app, 6);
    const narrow = await subscribe(app.url, app.adminToken, {}, { query: alertQuery('id score') });
    await recordIncident(app.services, supplier.id);
    await narrow.waitUntilEnded();
    expect(narrow.errors[0].extensions?.code).toBe('SUBSCRIBER_TOO_SLOW');
    const resumeAfter = narrow.errors[0].extensions?.resumeAfter as string;
    const everything = Object.values(EXPOSURE_SELECTIONS).join(' ');
    const resumed = await subscribe(
      app.url,
      app.adminToken,
      { after: resumeAfter },
      {
        query: `subscription($after: ID) { exposureAlerts(after: $after) { id exposure { ${everything} } } }`,
      },
    );
    const missing = (await alertIds(app)).filter((id) => BigInt(id) > BigInt(resumeAfter));
    expect(missing.length).toBeGreaterThan(0);
    const replayed = (await resumed.waitFor(missing.length)) as unknown as {
      id: string;
      exposure: Record<string, unknown>;
    }[];
    expect(resumed.errors).toEqual([]);
    expect(replayed.map((alert) => alert.id)).toEqual(missing);
    for (const alert of replayed)
      expect(alert.exposure).toEqual(
        await queryExposure(app, app.adminToken, alert.exposure.id as string, everything),
      );
    await Promise.all([narrow.dispose(), resumed.dispose()]);
  });

  it('ends the same way whether its selection runs interpreted (first of its text) or compiled (the next ones)', async () => {
    const { supplier } = await register(app, 6);
    // The first subscription of a text runs each event through graphql-js, the second through graphql-jit.
    const interpreted = await subscribe(app.url, app.adminToken);
    const compiled = await subscribe(app.url, app.adminToken);
    await recordIncident(app.services, supplier.id);
    await Promise.all([interpreted.waitUntilEnded(), compiled.waitUntilEnded()]);
    expect(compiled.alerts).toEqual(interpreted.alerts);
    expect(compiled.errors).toHaveLength(1);
    // The same error (message, locations, path, code, resumeAfter); only each operation's request id differs.
    const withoutRequestId = (errors: typeof compiled.errors) =>
      errors.map((error) => ({ ...error, extensions: { ...error.extensions, requestId: undefined } }));
    expect(withoutRequestId(compiled.errors)).toEqual(withoutRequestId(interpreted.errors));
    expect(compiled.errors[0].extensions?.code).toBe('SUBSCRIBER_TOO_SLOW');
    expect(compiled.errors[0].extensions?.resumeAfter).toMatch(/^\d+$/);
    await Promise.all([interpreted.dispose(), compiled.dispose()]);
  });
});
