import { TestApp, dataOf, startTestApp } from '../support/app';
import { recordIncident } from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { eventually } from '../ops/support';
import { Receiver, startReceiver } from './receiver';
import { registerWithClients } from './support';

const payload = 'endpoint { id } secret userErrors { field code message }';
const OPERATIONS = {
  CreateHook: `mutation CreateHook($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { ${payload} } }`,
  UpdateHook: `mutation UpdateHook($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { ${payload} } }`,
  RotateHook: `mutation RotateHook($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { ${payload} } }`,
  ReplayHook: `mutation ReplayHook($input: ReplayWebhookInput!) { replayWebhook(input: $input) { ${payload} } }`,
  RemoveHook: `mutation RemoveHook($input: RemoveWebhookEndpointInput!) { removeWebhookEndpoint(input: $input) { removedId userErrors { message } } }`,
};

/**
 * Endpoint changes in the audit trail: every mutation on an endpoint writes one audit row naming the actor
 * and the operation, and the signing secret (shown once to the caller) is never written there, neither
 * the current one nor a rotated-out one. Deliveries move the endpoint's cursor without writing audit rows.
 */
describe('webhook endpoints in the audit trail', () => {
  let app: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '100' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it('records create, update, rotate, replay and remove with their actor, never the secret', async () => {
    const { supplier, clients } = await registerWithClients(app, ['Audited Council']);
    const clientToken = await app.clientToken(clients[0].id);
    const run = async (token: string, name: keyof typeof OPERATIONS, input: Record<string, unknown>) => {
      const data = dataOf(await app.gql(token, OPERATIONS[name], { input }));
      const result = Object.values(data)[0] as any;
      expect(result.userErrors).toEqual([]);
      return result;
    };
    const created = await run(clientToken, 'CreateHook', {
      url: `${receiver.url}/audited`,
      description: 'Ticketing',
    });
    const id: string = created.endpoint.id;
    const dbId = Buffer.from(id, 'base64url').toString().split(':')[1];
    const secrets: string[] = [created.secret];

    // A delivery moves the cursor: not a change to the endpoint, no audit row.
    await recordIncident(app.services, supplier.id);
    await eventually(() => receiver.at('/audited').length === 1, 10_000, 'the delivery');
    await eventually(
      async () =>
        (await app.database.db.query(`SELECT cursor FROM webhook_endpoint WHERE id = $1`, [dbId]))[0]
          .cursor !== '0' && receiver.at('/audited').length === 1,
      10_000,
      'the acknowledged cursor',
    );

    await run(app.adminToken, 'UpdateHook', { id, description: 'Ticketing (prod)', kinds: ['NEW'] });
    secrets.push((await run(clientToken, 'RotateHook', { id })).secret);
    secrets.push((await run(app.adminToken, 'RotateHook', { id })).secret);
    await run(clientToken, 'UpdateHook', { id, enabled: false });
    await run(clientToken, 'ReplayHook', { endpointId: id, after: '0' });
    await run(clientToken, 'RemoveHook', { id });

    const rows: any[] = await app.database.db.query(
      `SELECT actor_subject, actor_role, actor_client_id, operation, action, input, row_data
       FROM audit_event WHERE table_name = 'webhook_endpoint' AND record_id = $1 ORDER BY id`,
      [dbId],
    );
    expect(rows.map((r) => [r.operation, r.action, r.actor_role, r.row_data.secret_rotated ?? null])).toEqual(
      [
        ['CreateHook', 'INSERT', 'client', null],
        ['UpdateHook', 'UPDATE', 'admin', false],
        ['RotateHook', 'UPDATE', 'client', true],
        ['RotateHook', 'UPDATE', 'admin', true],
        ['UpdateHook', 'UPDATE', 'client', false],
        ['ReplayHook', 'UPDATE', 'client', false],
        ['RemoveHook', 'DELETE', 'client', null],
      ],
    );
    expect(rows[0]).toMatchObject({
      actor_client_id: clients[0].id,
      row_data: { url: `${receiver.url}/audited`, description: 'Ticketing', client_id: clients[0].id },
    });
    expect(rows[1].row_data).toMatchObject({ description: 'Ticketing (prod)', kinds: ['NEW'] });
    expect(rows[4].row_data).toMatchObject({
      enabled: false,
      disabled_reason: expect.stringContaining('Paused'),
    });
    expect(rows[5].row_data).toMatchObject({ cursor: 0, generation: 1 });
    // Two actors: the client's token and the admin's, each under its own subject.
    expect(new Set(rows.map((r) => `${r.actor_role}:${r.actor_subject}`)).size).toBe(2);

    // Three secrets were issued (creation, two rotations): none of them, nor any whsec_ value, is in the trail.
    expect(new Set(secrets).size).toBe(3);
    const trail = JSON.stringify(rows);
    for (const secret of secrets) {
      expect(trail).not.toContain(secret);
      expect(trail).not.toContain(secret.slice('whsec_'.length));
    }
    expect(trail).not.toContain('whsec_');
    for (const row of rows) {
      expect(Object.keys(row.row_data)).not.toEqual(expect.arrayContaining(['secret']));
      expect(Object.keys(row.row_data)).not.toEqual(expect.arrayContaining(['previous_secret']));
    }

    // Admins read it through the API, by the endpoint's global ID.
    const { auditEvents } = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { auditEvents(first: 20, filter: { recordId: $id }) { totalCount edges { node { action operation recordGlobalId } } } }`,
        { id: encodeGlobalId('WebhookEndpoint', dbId) },
      ),
    );
    expect(auditEvents.totalCount).toBe(7);
    expect(auditEvents.edges.every((e: any) => e.node.recordGlobalId === id)).toBe(true);
  });
});
