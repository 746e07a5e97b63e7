import WebSocket from 'ws';
import { Client, createClient } from 'graphql-ws';

export interface ReceivedAlert {
  id: string;
  kind: string;
  exposure: { id: string; score: number; client: { id: string; name: string } };
}

export interface TestSubscriber {
  alerts: ReceivedAlert[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  completed: boolean;
  closeCode: number | null;
  /** Resolves when at least n alerts have arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedAlert[]>;
  waitUntilEnded(timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

export const ALERT_SUBSCRIPTION = `subscription($clientId: ID, $after: ID) {
  exposureAlerts(clientId: $clientId, after: $after) { id kind exposure { id score client { id name } } }
}`;

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A real graphql-ws client over a real WebSocket, recording what it receives. */
/** `options.query`: another selection of exposureAlerts (same variables), e.g. to read fields ALERT_SUBSCRIPTION leaves out. */
export async function subscribe(
  baseUrl: string,
  token: string | null,
  variables: { clientId?: string; after?: string } = {},
  options: { headerToken?: boolean; query?: string } = {},
): Promise<TestSubscriber> {
  const state: TestSubscriber = {
    alerts: [],
    errors: [],
    completed: false,
    closeCode: null,
    async waitFor(n, timeoutMs = 15000) {
      await until(
        () => state.alerts.length >= n || state.completed,
        timeoutMs,
        () => `${n} alerts (have ${state.alerts.length}, errors ${JSON.stringify(state.errors)})`,
      );
      return state.alerts;
    },
    async waitUntilEnded(timeoutMs = 15000) {
      await until(
        () => state.completed || state.closeCode !== null,
        timeoutMs,
        () => 'the subscription to end',
      );
    },
    async dispose() {
      await client.dispose();
    },
  };
  let acknowledged: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => {
    acknowledged = resolve;
  });
  const url = baseUrl.replace(/^http/, 'ws') + '/graphql';
  const client: Client = createClient({
    url,
    webSocketImpl:
      options.headerToken && token
        ? class extends WebSocket {
            constructor(address: string, protocols?: string | string[]) {
              super(address, protocols, { headers: { authorization: `Bearer ${token}` } });
            }
          }
        : WebSocket,
    connectionParams: token && !options.headerToken ? { authorization: `Bearer ${token}` } : undefined,
    lazy: false,
    onNonLazyError: () => undefined,
    retryAttempts: 0,
    on: {
      connected: () => acknowledged(),
      closed: (event) => {
        state.closeCode = (event as { code?: number }).code ?? null;
        acknowledged();
      },
    },
  });
  client.subscribe<{ exposureAlerts: ReceivedAlert }>(
    { query: options.query ?? ALERT_SUBSCRIPTION, variables },
    {
      next: (result) => {
        if (result.errors) state.errors.push(...(result.errors as TestSubscriber['errors']));
        if (result.data?.exposureAlerts) state.alerts.push(result.data.exposureAlerts);
      },
      error: (error) => {
        if (Array.isArray(error)) state.errors.push(...error);
        else
          state.errors.push({
            message: String((error as Error)?.message ?? (error as { reason?: string })?.reason ?? error),
          });
        state.completed = true;
      },
      complete: () => {
        state.completed = true;
      },
    },
  );
  await connected;
  // The subscribe message is sent right after the ack; give the server a moment to register it.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return state;
}
