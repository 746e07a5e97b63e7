import { TestApp, dataOf } from '../support/app';
import { createAgreement, createClient, createContract, createSupplier } from '../support/factories';

export const CREATE = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    endpoint { id url enabled kinds description client { id name } }
    secret
    userErrors { field code message }
  }
}`;

export const UPDATE = `mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) {
    endpoint { id url enabled disabledReason kinds description }
    secret
    userErrors { field code message }
  }
}`;

export const REMOVE = `mutation($input: RemoveWebhookEndpointInput!) {
  removeWebhookEndpoint(input: $input) { removedId userErrors { field code message } }
}`;

export const ROTATE = `mutation($input: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $input) { endpoint { id previousSecretUntil } secret userErrors { field code message } }
}`;

export const REPLAY = `mutation($input: ReplayWebhookInput!) {
  replayWebhook(input: $input) { endpoint { id } secret userErrors { field code message } }
}`;

export const LIST = `query($filter: WebhookEndpointFilter, $first: Int) {
  webhookEndpoints(filter: $filter, first: $first) {
    totalCount
    edges { node {
      id url enabled disabledReason failedAttempts oldestUndeliveredAlertAt client { id }
      deliveries(first: 100) { totalCount edges { node { webhookId attempt outcome statusCode error responseExcerpt durationMs attemptedAt } } }
    } }
  }
}`;

/** A supplier with one contract and agreement per named client, so one incident alerts each client once. */
export async function registerWithClients(app: TestApp, names: string[]) {
  const supplier = await createSupplier(app.services, { name: 'Capita plc' });
  const clients = [];
  for (const name of names) {
    const client = await createClient(app.services, { name });
    await createAgreement(app.services, (await createContract(app.services, client.id, supplier.id)).id);
    clients.push(client);
  }
  return { supplier, clients };
}

/** Creates an endpoint through the API and returns its id and secret (fails on userErrors). */
export async function createEndpoint(
  app: TestApp,
  token: string,
  input: Record<string, unknown>,
): Promise<{ id: string; secret: string }> {
  const { createWebhookEndpoint: result } = dataOf(await app.gql(token, CREATE, { input }));
  if (result.userErrors.length) throw new Error(JSON.stringify(result.userErrors));
  return { id: result.endpoint.id, secret: result.secret };
}

/** Register-wide alert ids (and each one's client_seq), in order. */
export async function alertsInOrder(
  app: TestApp,
  clientId?: string,
): Promise<{ id: string; seq: string; client: string }[]> {
  return app.database.db.query(
    `SELECT a.id::text AS id, a.client_seq::text AS seq, a.client_id AS client FROM exposure_alert a
     WHERE $1::uuid IS NULL OR a.client_id = $1 ORDER BY a.id`,
    [clientId ?? null],
  );
}
