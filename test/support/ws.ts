import WebSocket from 'ws';
import { Client, createClient } from 'graphql-ws';

export interface WsError {
  message: string;
  path?: unknown[];
  extensions?: Record<string, unknown>;
}

/** What one operation over the socket answered: its result, its errors, or nothing because the socket closed. */
export interface WsAnswer<T = any> {
  data?: T | null;
  errors?: WsError[];
  closed?: { code: number; reason: string };
}

export interface WsSession {
  client: Client;
  /** The close code and reason once the socket has closed (null while it is open). */
  closed: { code: number; reason: string } | null;
  /** Sends one query or mutation and waits for its answer. */
  run<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
  ): Promise<WsAnswer<T>>;
  /** Starts a subscription; its events and errors are collected on the handle. */
  subscribe(query: string, variables?: Record<string, unknown>): WsSubscription;
  waitUntilClosed(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

export interface WsSubscription {
  events: { data?: any; errors?: WsError[] }[];
  errors: WsError[];
  ended: boolean;
  /** Resolves once the server has answered the subscribe message (accepted and quiet for a moment, or refused). */
  settled(quietMs?: number): Promise<void>;
  complete(): void;
}

const until = async (check: () => boolean, timeoutMs: number, what: string) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** A real graphql-ws client on a real WebSocket, connected (acknowledged) before it is returned; no retries. */
export async function openSocket(baseUrl: string, token: string | null): Promise<WsSession> {
  let connected: () => void = () => undefined;
  const acknowledged = new Promise<void>((resolve) => (connected = resolve));
  const session: WsSession = {
    client: createClient({
      url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      on: {
        connected: () => connected(),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          session.closed = { code, reason: String(reason) };
          connected();
        },
      },
    }),
    closed: null,
    run(query, variables, operationName) {
      return new Promise((resolve) => {
        let answer: WsAnswer = {};
        session.client.subscribe(
          { query, variables, operationName },
          {
            next: (value) => (answer = value as WsAnswer),
            error: (error) => {
              if (Array.isArray(error)) resolve({ errors: error });
              else {
                const { code, reason } = error as { code?: number; reason?: string };
                resolve({ closed: { code: code ?? -1, reason: String(reason ?? error) } });
              }
            },
            complete: () => resolve(answer),
          },
        );
      });
    },
    subscribe(query, variables) {
      let answeredAt: number | null = null;
      let startedAt = Date.now();
      const handle: WsSubscription = {
        events: [],
        errors: [],
        ended: false,
        async settled(quietMs = 300) {
          await until(
            () => handle.ended || Date.now() - (answeredAt ?? startedAt) >= quietMs,
            10_000,
            'the subscription to settle',
          );
        },
        complete: () => unsubscribe(),
      };
      startedAt = Date.now();
      const unsubscribe = session.client.subscribe(
        { query, variables },
        {
          next: (value) => {
            answeredAt = Date.now();
            handle.events.push(value as WsSubscription['events'][number]);
            if (value.errors) handle.errors.push(...(value.errors as WsError[]));
          },
          error: (error) => {
            answeredAt = Date.now();
            handle.errors.push(
              ...(Array.isArray(error)
                ? error
                : [
                    {
                      message: String((error as { reason?: string }).reason ?? error),
                      extensions: { closeCode: (error as { code?: number }).code },
                    },
                  ]),
            );
            handle.ended = true;
          },
          complete: () => {
            handle.ended = true;
          },
        },
      );
      return handle;
    },
    async waitUntilClosed(timeoutMs = 10_000) {
      await until(() => session.closed !== null, timeoutMs, 'the socket to close');
      return session.closed!;
    },
    dispose: async () => {
      await session.client.dispose();
    },
  };
  await acknowledged;
  return session;
}
