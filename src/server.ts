import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, Kind, OperationDefinitionNode, parse, specifiedRules, validate } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { Config } from './config';
import { TokenVerifier, createTokenVerifier } from './auth/jwt';
import { Viewer, unauthenticated } from './auth/viewer';
import { Context, createContext } from './context';
import { RequestStats, requestStats } from './common/sql-counter';
import { Services } from './services';
import { mountGraphiql } from './graphiql/graphiql';
import { AlertHub } from './modules/alert/alert.hub';
import { operationCost, queryLimits, tooComplex } from './security/limits';
import { createRateLimiter } from './security/rate-limit';
import { createMetrics } from './observability/metrics';

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
  /** Stops accepting, finishes in-flight requests, closes subscriptions (clients reconnect and resume). */
  stop(): Promise<void>;
}

/** Codes a client may see as they are; anything else is a fault and is masked in production. */
const EXPOSED_CODES = new Set([
  'UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED', 'SUBSCRIBER_TOO_SLOW',
]);

export async function bearerViewer(verifier: TokenVerifier, authorization: string | undefined): Promise<Viewer> {
  if (!authorization) throw unauthenticated('Send a token: Authorization: Bearer <JWT>');
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <JWT>"');
  return verifier.verify(match[1]);
}

/** A mutation's root fields with their argument values: the "what" of the audit trail. */
function mutationInput(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined) {
  const mutationType = schema.getMutationType();
  return operation.selectionSet.selections.flatMap((selection) => {
    if (selection.kind !== Kind.FIELD || !mutationType) return [];
    const field = mutationType.getFields()[selection.name.value];
    return field ? [{ field: field.name, arguments: getArgumentValues(field, selection, variables) }] : [];
  });
}

function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : randomUUID();
}

export async function startServer(options: ServerOptions, port: number): Promise<RunningServer> {
  const { config, db, schema, services, logger } = options;
  const verifier = createTokenVerifier(config);
  const rateLimiter = createRateLimiter(config.rateLimitPerMinute);
  const limits = queryLimits(config);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const alertHub = new AlertHub(db, { connectionString: options.databaseUrl, pollMs: config.alertPollMs, logger });
  const metrics = createMetrics(db, () => alertHub.subscriberCount);

  const observe: ApolloServerPlugin<Context> = {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operation, operationName, request, schema: requestSchema }) {
          if (!operation) return;
          operationType = operation.operation;
          const stats = requestStats.getStore();
          if (stats && operation.operation === 'mutation') {
            const { viewer, requestId } = contextValue;
            stats.audit = { subject: viewer.subject, role: viewer.role, clientId: viewer.clientId, operation: operationName ?? 'anonymous mutation', input: mutationInput(requestSchema, operation, request.variables), requestId };
          }
        },
        async willSendResponse({ response, operationName, errors }) {
          const stats = requestStats.getStore();
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          if (stats) response.http.headers.set('x-sql-statements', String(stats.sqlStatements));
          response.http.headers.set('x-request-id', contextValue.requestId);
          // The request id travels with every error so a user's report can be matched to the logs.
          if (response.body.kind === 'single' && response.body.singleResult.errors) {
            response.body.singleResult.errors = response.body.singleResult.errors.map((error) => ({ ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } }));
          }
          const codes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          codes.forEach((code) => metrics.errors.inc({ code }));
          metrics.requestDuration.observe({ operation: operationName ?? 'anonymous', type: operationType }, durationMs / 1000);
          logger.info({ requestId: contextValue.requestId, operationName, operationType, durationMs, sqlStatements: stats?.sqlStatements, errorCodes: codes }, 'graphql request');
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
    validationRules: limits.validationRules,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ...limits.plugins,
      observe,
    ],
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
  await alertHub.start();

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
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  if (config.graphiql) mountGraphiql(app, { endpoint: '/graphql', headers: options.graphiqlHeaders ?? {} });

  app.use(
    '/graphql',
    (_req, _res, next) => requestStats.run({ sqlStatements: 0 } satisfies RequestStats, next),
    express.json({ limit: config.bodyLimitBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestId = requestIdFrom(req.headers['x-request-id']);
        const viewer = await bearerViewer(verifier, req.headers.authorization);
        await rateLimiter.consume(viewer.subject);
        return createContext(db, services, viewer, requestId);
      },
    }),
  );
  // Malformed JSON and oversized bodies answer as GraphQL-over-HTTP errors, never as a 500 page.
  app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    const message = error.type === 'entity.too.large' ? `The request body is larger than ${config.bodyLimitBytes} bytes` : status === 400 ? 'The request body is not valid JSON' : 'Internal server error';
    if (status === 500) logger.error({ err: error }, 'unexpected HTTP error');
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  });

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.bodyLimitBytes });
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
          await rateLimiter.consume(ctx.extra.viewer.subject);
          return true;
        } catch (error) {
          // graphql-ws closes with 4403 Forbidden when onConnect returns false.
          logger.info({ reason: error instanceof Error ? error.message : String(error) }, 'websocket connection refused');
          return false;
        }
      },
      // The same limits as over HTTP: tokens at parse time, then depth, aliases, directives and cost.
      onSubscribe: (ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query, { maxTokens: config.maxTokens });
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const errors = validate(schema, document, [...specifiedRules, ...limits.validationRules]);
        if (errors.length) return [...errors];
        const cost = operationCost(schema, document, payload.variables ?? undefined, payload.operationName);
        if (cost > config.maxCost) return [tooComplex(cost, config.maxCost)];
        const contextValue = createContext(db, services, ctx.extra.viewer!, randomUUID());
        contextValue.alerts = { db, hub: alertHub, maxQueue: config.alertQueueMax, observeLatency: (seconds) => metrics.alertLatency.observe(seconds) };
        return { schema, document, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined, contextValue };
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
      // Subscribers are closed with 1001 Going Away: reconnect elsewhere and resume with `after`.
      await wsCleanup.dispose();
      await alertHub.stop();
      await apollo.stop();
    },
  };
}
