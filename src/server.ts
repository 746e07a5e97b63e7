import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from './config';
import { TokenVerifier, createTokenVerifier } from './auth/jwt';
import { unauthenticated } from './auth/viewer';
import { Context, createContext } from './context';
import { RequestStats, requestStats } from './common/sql-counter';
import { Services } from './services';
import { mountGraphiql } from './graphiql/graphiql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { AlertHub } from './modules/alert/alert.hub';
import { Viewer } from './auth/viewer';

export interface ServerOptions {
  config: Config;
  db: DataSource;
  schema: GraphQLSchema;
  services: Services;
  logger: Logger;
  /** Headers GraphiQL opens with (the embedded demo pre-fills an admin token). */
  graphiqlHeaders?: Record<string, string>;
  /** The database URL, for the alert hub's dedicated LISTEN connection. */
  databaseUrl: string;
}

export interface RunningServer {
  httpServer: http.Server;
  url: string;
  alertHub: AlertHub;
  stop(): Promise<void>;
}

/** Codes a client may see as they are; anything else is a fault and is masked in production. */
const EXPOSED_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

export async function bearerViewer(verifier: TokenVerifier, authorization: string | undefined) {
  if (!authorization) throw unauthenticated('Send a token: Authorization: Bearer <JWT>');
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <JWT>"');
  return verifier.verify(match[1]);
}

export async function startServer(options: ServerOptions, port: number): Promise<RunningServer> {
  const { config, db, schema, services, logger } = options;
  const verifier = createTokenVerifier(config);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  const statsPlugin: ApolloServerPlugin<Context> = {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operationName, errors }) {
          const stats = requestStats.getStore();
          if (stats) response.http.headers.set('x-sql-statements', String(stats.sqlStatements));
          response.http.headers.set('x-request-id', contextValue.requestId);
          logger.info({ requestId: contextValue.requestId, operationName, durationMs: Number(process.hrtime.bigint() - started) / 1e6, sqlStatements: stats?.sqlStatements, errors: errors?.length ?? 0 }, 'graphql request');
        },
      };
    },
  };

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: config.env === 'development',
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled(), statsPlugin],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code as string | undefined;
      if (code && EXPOSED_CODES.has(code)) return formatted;
      logger.error({ err: error, path: formatted.path }, 'unexpected error');
      if (config.env === 'production') {
        return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
      return formatted;
    },
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await db.query('SELECT 1');
      res.json({ status: 'ready', database: 'up' });
    } catch {
      res.status(503).json({ status: 'not ready', database: 'down' });
    }
  });
  if (config.graphiql) mountGraphiql(app, { endpoint: '/graphql', headers: options.graphiqlHeaders ?? {} });

  app.use(
    '/graphql',
    (_req, _res, next) => requestStats.run({ sqlStatements: 0 } satisfies RequestStats, next),
    express.json({ limit: '100kb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestId = (typeof req.headers['x-request-id'] === 'string' && /^[\w-]{1,64}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : undefined) ?? randomUUID();
        const viewer = await bearerViewer(verifier, req.headers.authorization);
        return createContext(db, services, viewer, requestId);
      },
    }),
  );

  const alertHub = new AlertHub(db, { connectionString: options.databaseUrl, pollMs: config.alertPollMs, logger });
  await alertHub.start();
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { viewer?: Viewer }>(
    {
      schema,
      // The token is checked once per connection: in connectionParams.authorization or the upgrade request's header.
      onConnect: async (ctx) => {
        const fromParams = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const authorization = typeof fromParams === 'string' ? fromParams : ctx.extra.request.headers.authorization;
        if (!authorization) {
          ctx.extra.socket.close(4401, 'Unauthorized: send connectionParams.authorization = "Bearer <JWT>"');
          return false;
        }
        try {
          ctx.extra.viewer = await bearerViewer(verifier, authorization);
          return true;
        } catch (error) {
          // graphql-ws closes with 4403 Forbidden when onConnect returns false.
          logger.info({ reason: error instanceof Error ? error.message : String(error) }, 'websocket connection refused');
          return false;
        }
      },
      context: (ctx) => {
        const context = createContext(db, services, ctx.extra.viewer!, randomUUID());
        context.alerts = { db, hub: alertHub, maxQueue: config.alertQueueMax };
        return context as unknown as Record<string, unknown>;
      },
    },
    wsServer,
    config.wsKeepAliveMs,
  );

  await new Promise<void>((resolve) => httpServer.listen(port, '0.0.0.0', resolve));
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    httpServer,
    url: `http://localhost:${actualPort}`,
    alertHub,
    async stop() {
      // Subscribers are told to reconnect (1001 Going Away) and resume with `after`.
      await wsCleanup.dispose();
      await alertHub.stop();
      await apollo.stop();
    },
  };
}

export { GraphQLError };
