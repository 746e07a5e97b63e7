import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, Kind, OperationDefinitionNode, getOperationAST, parse, specifiedRules, validate } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { Config } from './config';
import { TokenVerifier, createTokenVerifier } from './auth/jwt';
import { clientExistenceCheck } from './auth/known-clients';
import { Viewer, unauthenticated } from './auth/viewer';
import { Context, createContext } from './context';
import { graphqlHttpHandler } from './graphql-http';
import type { AuditActor } from './common/request-scope';
import { compiledExecutionGateway } from './common/compiled-execution';
import { Services } from './services';
import { mountGraphiql } from './graphiql/graphiql';
import { AlertHub } from './modules/alert/alert.hub';
import { hideSuggestions, nulCharacterError, operationCost, queryLimits, tooComplex } from './security/limits';
import { createRateLimiter } from './security/rate-limit';
import { QuerySlots } from './security/query-slots';
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

/** Who is changing the register, through which operation and with what input: stamped on every audit row. */
function auditActor(context: Context, schema: GraphQLSchema, operation: OperationDefinitionNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined): AuditActor {
  const { viewer, requestId } = context;
  return { subject: viewer.subject, role: viewer.role, clientId: viewer.clientId, operation: operationName ?? 'anonymous mutation', input: mutationInput(schema, operation, variables), requestId };
}

/** A copy of a parse or validation error with its code (and without "Did you mean" hints when they are off). */
function withCodeFor(hide: boolean) {
  return (error: GraphQLError, code: string): GraphQLError =>
    new GraphQLError(hide ? hideSuggestions(error.message) : error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code } });
}

/** Distinct operations kept compiled; a portal or GraphiQL user sends a handful, so this only bounds abuse. */
const COMPILED_OPERATIONS_CACHED = 1000;

/**
 * The request id of each error raised while serving a request, for formatError (which is given no
 * context): set by the plugin below, and by the context function for the token and rate-limit refusals.
 * Answers Apollo gives before any of that (CSRF, a batch, no query) get theirs in graphql-http.ts.
 */
const requestIdOfError = new WeakMap<object, string>();

/** PostgreSQL unreachable, restarting or refusing connections: a temporary state, not a fault of the request. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause: any = error, depth = 0; cause && depth < 6; cause = cause.originalError ?? cause.thrownValue ?? cause.driverError ?? cause.cause, depth += 1) {
    if (UNAVAILABLE_SQLSTATES.has(cause.code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(cause.code)) return true;
    if (typeof cause.message === 'string' && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(cause.message)) return true;
  }
  return false;
}

/** A port another process holds: start-up stops with this message (main.ts exits non-zero). */
export function portInUse(port: number): Error {
  return new Error(`port ${port} is in use; set PORT to a free one`);
}

/**
 * Listens, or rejects when the port cannot be had. The WebSocket server re-emits the HTTP server's errors;
 * without a listener of its own that re-emission would throw outside any promise and leave start-up hanging.
 */
function listen(httpServer: http.Server, wsServer: WebSocketServer, port: number): Promise<void> {
  wsServer.on('error', () => undefined);
  return new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? portInUse(port) : error);
    httpServer.once('error', fail);
    httpServer.listen(port, '0.0.0.0', () => {
      httpServer.off('error', fail);
      resolve();
    });
  });
}

function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : randomUUID();
}

export async function startServer(options: ServerOptions, port: number): Promise<RunningServer> {
  const { config, db, schema, services, logger } = options;
  const verifier = createTokenVerifier(config, { clientExists: clientExistenceCheck(db) });
  const rateLimiter = createRateLimiter(config.rateLimitPerMinute);
  const limits = queryLimits(config);
  const withCode = withCodeFor(limits.hideSuggestions);
  const app = express();
  app.disable('x-powered-by');
  // The request id is settled first, so every answer carries it: GraphQL results, auth and rate-limit refusals, body errors.
  app.use((req, res, next) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    next();
  });
  const httpServer = http.createServer(app);
  const alertHub = new AlertHub(db, { connectionString: options.databaseUrl, pollMs: config.alertPollMs, logger });
  const querySlots = new QuerySlots(config.maxConcurrentQueries);
  const metrics = createMetrics(db, () => alertHub.subscriberCount, () => querySlots.queued);

  const observe: ApolloServerPlugin<Context> = {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operation, operationName, request, schema: requestSchema }) {
          if (!operation) return;
          operationType = operation.operation;
          // Over HTTP a subscription would run its resolver once with no event: refuse it as the transport mistake it is.
          if (operation.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          if (operation.operation === 'mutation') {
            // Every transaction of this request stamps it (audit.subscriber.ts); the triggers record it.
            contextValue.scope.audit = auditActor(contextValue, requestSchema, operation, operationName, request.variables);
          }
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) requestIdOfError.set(error, contextValue.requestId);
        },
        async willSendResponse({ response, operationName, errors }) {
          const { sqlStatements } = contextValue.scope;
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          response.http.headers.set('x-sql-statements', String(sqlStatements));
          response.http.headers.set('x-request-id', contextValue.requestId);
          // The request id travels with every error so a user's report can be matched to the logs.
          if (response.body.kind === 'single' && response.body.singleResult.errors) {
            response.body.singleResult.errors = response.body.singleResult.errors.map((error) => ({ ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } }));
            if (response.body.singleResult.errors.some((error) => error.extensions?.code === 'SERVICE_UNAVAILABLE')) {
              response.http.status = 503;
              response.http.headers.set('retry-after', '5');
            }
          }
          // graphql_errors_total is counted in formatError, which also sees the errors answered without a context.
          const codes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          metrics.requestDuration.observe({ operation: operationName ?? 'anonymous', type: operationType }, durationMs / 1000);
          logger.info({ requestId: contextValue.requestId, operationName, operationType, durationMs, sqlStatements, errorCodes: codes }, 'graphql request');
        },
      };
    },
  };

  const apollo = new ApolloServer<Context>({
    // The schema, served through graphql-jit (common/compiled-execution.ts explains why it is a "gateway").
    gateway: compiledExecutionGateway(schema, { cacheSize: COMPILED_OPERATIONS_CACHED, logger, querySlots }),
    introspection: config.introspection,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT and stops in order (subscriptions, alert hub, HTTP, database). Apollo's own handler
    // (on by default in production) would race it: a second stop() during draining waits on a barrier Apollo never
    // resolves after a successful stop, so the process ran dry and exited 0 without closing the database.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: config.env === 'development',
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ...limits.plugins,
      observe,
    ],
    // Also formats errors raised before a request has a context (CSRF, batching, auth, rate limit); those
    // get their request id in graphql-http.ts, the others in willSendResponse.
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      // Apollo wraps an error thrown while building the context: its request id is on the original.
      const requestIdOf = (value: unknown): string | undefined => (typeof value === 'object' && value ? requestIdOfError.get(value) : undefined);
      const requestId = requestIdOf(error) ?? requestIdOf((error as { originalError?: unknown } | null)?.originalError);
      const withRequestId = (f: GraphQLFormattedError): GraphQLFormattedError => (requestId ? { ...f, extensions: { ...f.extensions, requestId } } : f);
      const code = formatted.extensions?.code as string | undefined;
      if (code && EXPOSED_CODES.has(code)) {
        metrics.errors.inc({ code });
        return withRequestId(formatted);
      }
      if (isDatabaseUnavailable(error)) {
        // Answered as 503 with retry-after (willSendResponse): clients should retry, operators look at /readyz.
        metrics.errors.inc({ code: 'SERVICE_UNAVAILABLE' });
        logger.warn({ err: error, path: formatted.path, requestId }, 'database unavailable');
        return withRequestId({ message: 'The database is unavailable; retry in a few seconds', path: formatted.path, locations: formatted.locations, extensions: { code: 'SERVICE_UNAVAILABLE' } });
      }
      metrics.errors.inc({ code: 'INTERNAL_SERVER_ERROR' });
      logger.error({ err: error, path: formatted.path, requestId }, 'unexpected error');
      if (config.env === 'production') {
        return withRequestId({ message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      }
      return withRequestId(formatted);
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
    express.json({ limit: config.bodyLimitBytes }),
    graphqlHttpHandler(apollo, async (req, res) => {
      try {
        const viewer = await bearerViewer(verifier, req.headers.authorization);
        await rateLimiter.consume(viewer.subject);
        return createContext(db, services, viewer, res.locals.requestId as string);
      } catch (error) {
        // No context yet, so no plugin sees this error: formatError finds its request id here, for the log.
        if (typeof error === 'object' && error) requestIdOfError.set(error, res.locals.requestId as string);
        throw error;
      }
    }),
  );
  // Malformed JSON and oversized bodies answer as GraphQL-over-HTTP errors, never as a 500 page.
  app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    const bodyMessages: Record<string, string> = {
      'entity.parse.failed': 'The request body is not valid JSON',
      'entity.too.large': `The request body is larger than ${config.bodyLimitBytes} bytes`,
      'charset.unsupported': 'The request body must be JSON in UTF-8: this charset is not supported',
      'encoding.unsupported': 'This Content-Encoding is not supported: send the body as is, or gzip, deflate or br',
      'request.aborted': 'The request was aborted before its body arrived',
      'request.size.invalid': 'The request body does not match its Content-Length',
    };
    const message = (error.type && bodyMessages[error.type]) || (status === 500 ? 'Internal server error' : 'The request body could not be read');
    const requestId = res.locals.requestId as string | undefined;
    metrics.errors.inc({ code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' });
    if (status === 500) logger.error({ err: error, requestId }, 'unexpected HTTP error');
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', requestId } }] });
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
      // Errors carry the same codes as over HTTP (graphql-armor's rules report BAD_USER_INPUT; Apollo recodes them).
      onSubscribe: (ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query, limits.parseOptions);
        } catch (error) {
          return [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document, [...specifiedRules, ...limits.validationRules]);
        if (errors.length) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
        const nul = nulCharacterError(document, payload.variables);
        if (nul) return [nul];
        let cost: number;
        try {
          cost = operationCost(schema, document, payload.variables ?? undefined, payload.operationName);
        } catch (error) {
          // Variables that do not fit: an error for this subscription, not for the whole connection.
          if (error instanceof GraphQLError) return [withCode(error, 'BAD_USER_INPUT')];
          throw error;
        }
        if (cost > config.maxCost) return [tooComplex(cost, config.maxCost)];
        const contextValue = createContext(db, services, ctx.extra.viewer!, randomUUID());
        // A mutation sent over the WebSocket is audited like one over HTTP: same actor, operation and input.
        const operation = getOperationAST(document, payload.operationName);
        if (operation?.operation === 'mutation') contextValue.scope.audit = auditActor(contextValue, schema, operation, payload.operationName, payload.variables ?? undefined);
        contextValue.alerts = { db, hub: alertHub, maxQueue: config.alertQueueMax, observeLatency: (seconds) => metrics.alertLatency.observe(seconds) };
        return { schema, document, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined, contextValue };
      },
    },
    wsServer,
    config.wsKeepAliveMs,
  );

  try {
    await listen(httpServer, wsServer, port);
  } catch (error) {
    // Nothing is served: release what start-up took (the alert hub's LISTEN connection and timer).
    await Promise.allSettled([wsCleanup.dispose(), alertHub.stop(), apollo.stop()]);
    throw error;
  }
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
