import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from './config';
import { createTokenVerifier } from './auth/jwt';
import { clientExistenceCheck } from './auth/known-clients';
import { Context, createContext } from './context';
import { graphqlHttpHandler } from './graphql-http';
import { compiledExecutionGateway } from './common/compiled-execution';
import { Services } from './services';
import { mountGraphiql } from './graphiql/graphiql';
import { AlertHub } from './modules/alert/alert.hub';
import { queryLimits } from './security/limits';
import { createRateLimiter } from './security/rate-limit';
import { QuerySlots } from './security/query-slots';
import { createMetrics, recordOperation } from './observability/metrics';
import { auditActor } from './transport/audit-actor';
import { bearerViewer } from './transport/bearer';
import { createErrorFormatter } from './transport/format-error';
import { serveWebSocket } from './transport/websocket';
import { WebhookWorker, WebhookWorkerOptions, webhookWorkerOptions } from './modules/webhook/webhook.worker';
import { createWebhookMetrics } from './modules/webhook/webhook.metrics';

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
  /** Overrides of the webhook worker's options (tests: a fast clock, a resolver). */
  webhookWorker?: Partial<WebhookWorkerOptions>;
}

export interface RunningServer {
  httpServer: http.Server;
  url: string;
  alertHub: AlertHub;
  /** Delivers alerts to webhook endpoints (runs when WEBHOOK_POLL_MS > 0). */
  webhookWorker: WebhookWorker;
  /** Where Prometheus scrapes this instance (METRICS_PORT), or null when metrics are off. */
  metricsUrl: string | null;
  /** Stops accepting, finishes in-flight requests, closes subscriptions (clients reconnect and resume). */
  stop(): Promise<void>;
}

/** Distinct operations kept compiled; a portal or GraphiQL user sends a handful, so this only bounds abuse. */
const COMPILED_OPERATIONS_CACHED = 1000;

/**
 * The request id of each error raised while serving a request, for formatError (which is given no
 * context): set by the plugin below, and by the context function for the token and rate-limit refusals.
 * Answers Apollo gives before any of that (CSRF, a batch, no query) get theirs in graphql-http.ts.
 */
const requestIdOfError = new WeakMap<object, string>();

/** A port another process holds: start-up stops with this message (main.ts exits non-zero). */
export function portInUse(port: number): Error {
  return new Error(`port ${port} is in use; set PORT to a free one`);
}

/** Listens, or rejects when the port cannot be had (the WebSocket server ignores the same error: websocket.ts). */
function listen(httpServer: http.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(port) : error);
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
  const alertHub = new AlertHub(db, {
    connectionString: options.databaseUrl,
    pollMs: config.alertPollMs,
    logger,
  });
  const querySlots = new QuerySlots(config.maxConcurrentQueries);
  const metrics = createMetrics(
    db,
    () => alertHub.subscriberCount,
    () => querySlots.queued,
  );
  const metricsServer =
    config.metricsPort === undefined ? null : await serveMetrics(metrics, config.metricsPort);
  const webhookWorker = new WebhookWorker(db, {
    ...webhookWorkerOptions(config),
    logger,
    metrics: createWebhookMetrics(metrics.registry, db),
    ...options.webhookWorker,
  });
  // New alerts wake the worker at once; its poll catches up on retries that fall due.
  alertHub.onNewAlerts(() => webhookWorker.notify());
  const formatError = createErrorFormatter({
    env: config.env,
    hideSuggestions: !config.fieldSuggestions,
    logger,
    metrics,
  });

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
            throw new GraphQLError(
              'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP',
              { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
            );
          }
          if (operation.operation === 'mutation') {
            // Every transaction of this request stamps it (audit.subscriber.ts); the triggers record it.
            contextValue.scope.audit = auditActor(
              contextValue,
              requestSchema,
              operation,
              operationName,
              request.variables,
            );
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
            response.body.singleResult.errors = response.body.singleResult.errors.map((error) => ({
              ...error,
              extensions: { ...error.extensions, requestId: contextValue.requestId },
            }));
            if (
              response.body.singleResult.errors.some(
                (error) => error.extensions?.code === 'SERVICE_UNAVAILABLE',
              )
            ) {
              response.http.status = 503;
              response.http.headers.set('retry-after', '5');
            }
          }
          const errorCodes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          recordOperation(metrics, logger, {
            requestId: contextValue.requestId,
            transport: 'http',
            operationName,
            operationType,
            durationMs,
            sqlStatements,
            errorCodes,
          });
        },
      };
    },
  };

  const apollo = new ApolloServer<Context>({
    // The schema, served through graphql-jit (common/compiled-execution.ts explains why it is a "gateway").
    gateway: compiledExecutionGateway(schema, { cacheSize: COMPILED_OPERATIONS_CACHED, logger, querySlots }),
    // Introspection is refused, when INTROSPECTION is off, by a rule of limits.validationRules, which the
    // WebSocket applies too: Apollo's own switch would guard HTTP only.
    introspection: true,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT and stops in order (subscriptions, alert hub, HTTP, database). Apollo's own handler
    // (on by default in production) would race it: a second stop() during draining waits on a barrier Apollo never
    // resolves after a successful stop, so the process ran dry and exited 0 without closing the database.
    stopOnTerminationSignals: false,
    // Stack traces only on internal errors in development: the shared formatter adds them.
    includeStacktraceInErrorResponses: false,
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
      const requestIdOf = (value: unknown): string | undefined =>
        typeof value === 'object' && value ? requestIdOfError.get(value) : undefined;
      return formatError(
        formatted,
        error,
        requestIdOf(error) ?? requestIdOf((error as { originalError?: unknown } | null)?.originalError),
      );
    },
  });
  await apollo.start();
  await alertHub.start();
  webhookWorker.start();

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
  app.use(
    (
      error: { status?: number; type?: string; message?: string },
      _req: Request,
      res: Response,
      next: NextFunction,
    ) => {
      if (res.headersSent) return next(error);
      const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
      const bodyMessages: Record<string, string> = {
        'entity.parse.failed': 'The request body is not valid JSON',
        'entity.too.large': `The request body is larger than ${config.bodyLimitBytes} bytes`,
        'charset.unsupported': 'The request body must be JSON in UTF-8: this charset is not supported',
        'encoding.unsupported':
          'This Content-Encoding is not supported: send the body as is, or gzip, deflate or br',
        'request.aborted': 'The request was aborted before its body arrived',
        'request.size.invalid': 'The request body does not match its Content-Length',
      };
      const message =
        (error.type && bodyMessages[error.type]) ||
        (status === 500 ? 'Internal server error' : 'The request body could not be read');
      const requestId = res.locals.requestId as string | undefined;
      metrics.errors.inc({ code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' });
      if (status === 500) logger.error({ err: error, requestId }, 'unexpected HTTP error');
      res.status(status).json({
        errors: [
          {
            message,
            extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', requestId },
          },
        ],
      });
    },
  );

  const wsCleanup = serveWebSocket({
    httpServer,
    config,
    db,
    schema,
    services,
    logger,
    verifier,
    rateLimiter,
    querySlots,
    metrics,
    alertHub,
    limits,
    formatError,
  });

  try {
    await listen(httpServer, port);
  } catch (error) {
    // Nothing is served: release what start-up took (the alert hub's LISTEN connection and timer).
    await Promise.allSettled([
      webhookWorker.stop(),
      wsCleanup.dispose(),
      alertHub.stop(),
      apollo.stop(),
      new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined))),
    ]);
    throw error;
  }
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    httpServer,
    url: `http://localhost:${actualPort}`,
    alertHub,
    webhookWorker,
    metricsUrl: metricsServer
      ? `http://localhost:${(metricsServer.address() as { port: number }).port}/metrics`
      : null,
    async stop() {
      // Subscribers are closed with 1001 Going Away: reconnect elsewhere and resume with `after`.
      await wsCleanup.dispose();
      // Attempts in flight finish and are recorded; an unrecorded one would only be sent again.
      await webhookWorker.stop();
      await alertHub.stop();
      await apollo.stop();
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      }
    },
  };
}

/**
 * Prometheus metrics on their own port (METRICS_PORT), never on the API's: operation names and load are
 * for operators, so the port is for the scraper's network only, not published with the API.
 */
async function serveMetrics(metrics: ReturnType<typeof createMetrics>, port: number): Promise<http.Server> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; set METRICS_PORT`) : error),
    );
    server.listen(port, '0.0.0.0', resolve);
  });
  return server;
}
