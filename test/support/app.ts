import pino, { Logger } from 'pino';
import { GraphQLSchema } from 'graphql';
import { loadConfig } from '../../src/config';
import { mintToken } from '../../src/auth/jwt';
import { Role } from '../../src/auth/viewer';
import { encodeGlobalId } from '../../src/common/global-id';
import { createSchema } from '../../src/schema';
import { createServices, Services } from '../../src/services';
import { webhookServiceOptions } from '../../src/modules/webhook/webhook.service';
import { registerIoOptions } from '../../src/modules/register-io/register-io.service';
import { WebhookWorkerOptions } from '../../src/modules/webhook/webhook.worker';
import { RunningServer, startServer } from '../../src/server';
import { TestDatabase, attachToDatabase, createTestDatabase } from './database';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

let schemaPromise: Promise<GraphQLSchema> | null = null;
/** type-graphql's metadata is global, so the schema is built once per test file. */
export function testSchema(): Promise<GraphQLSchema> {
  schemaPromise ??= createSchema();
  return schemaPromise;
}

export interface GraphQLResponse<T = any> {
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[] };
  sqlStatements: number;
  headers: Headers;
}

export interface TestApp {
  database: TestDatabase;
  services: Services;
  server: RunningServer;
  url: string;
  adminToken: string;
  analystToken: string;
  /** A token for role client bound to a Client's database id. */
  clientToken(clientId: string): Promise<string>;
  token(role: Role, extra?: { client_id?: string; sub?: string }): Promise<string>;
  /** POSTs a GraphQL operation through the real HTTP server. */
  gql<T = any>(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/** The real server (HTTP, auth, Apollo, type-graphql, TypeORM) on a fresh database and a random port. */
export async function startTestApp(
  env: Record<string, string> = {},
  shared?: { database: TestDatabase },
  options: {
    logger?: Logger;
    webhookWorker?: Partial<WebhookWorkerOptions>;
    /** Headers GraphiQL opens with (as the embedded demo's admin token). */
    graphiqlHeaders?: Record<string, string>;
  } = {},
): Promise<TestApp> {
  // A second instance on the same database gets its own DataSource (pool), as a separate process would.
  const database = shared ? await attachToDatabase(shared.database) : await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
    METRICS_PORT: '0',
    ...env,
  });
  const logger = options.logger ?? pino({ level: 'silent' });
  const services = createServices(database.db, {
    webhooks: webhookServiceOptions(config),
    registerIo: registerIoOptions(config),
    nestedReadPlanning: config.nestedReadPlanning,
    conflictRetry: {
      attempts: config.conflictAttempts,
      warn: (fields, message) => logger.warn(fields, message),
    },
  });
  const server = await startServer(
    {
      config,
      db: database.db,
      schema: await testSchema(),
      services,
      logger,
      databaseUrl: database.url,
      webhookWorker: options.webhookWorker,
      graphiqlHeaders: options.graphiqlHeaders,
    },
    0,
  );
  const token = (role: Role, extra: { client_id?: string; sub?: string } = {}) =>
    mintToken(TEST_JWT_SECRET, {
      sub: extra.sub ?? `test-${role}`,
      role,
      ...(extra.client_id ? { client_id: extra.client_id } : {}),
    });
  const app: TestApp = {
    database,
    services,
    server,
    url: server.url,
    adminToken: await token('admin'),
    analystToken: await token('analyst'),
    clientToken: (clientId) =>
      token('client', {
        client_id: encodeGlobalId('Client', clientId),
        sub: `client-user-${clientId.slice(0, 8)}`,
      }),
    token,
    async gql(tokenValue, query, variables) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(tokenValue ? { authorization: `Bearer ${tokenValue}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLResponse['body'];
      return {
        status: response.status,
        body,
        sqlStatements: Number(response.headers.get('x-sql-statements') ?? NaN),
        headers: response.headers,
      };
    },
    async stop() {
      await server.stop();
      if (shared) await database.db.destroy();
      else await database.drop();
    },
  };
  return app;
}

/** Throws with the GraphQL errors when a response has any: keeps assertions on data readable. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.body.errors?.length)
    throw new Error(`GraphQL errors: ${JSON.stringify(response.body.errors)}`);
  return response.body.data as T;
}
