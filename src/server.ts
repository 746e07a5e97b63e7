import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from './config';
import { createTokenVerifier } from './auth/jwt';
import { clientExistenceCheck } from './auth/known-clients';
import { Services } from './services';
import { mountGraphiql } from './graphiql/graphiql';
import { AlertHub } from './modules/alert/alert.hub';
import { queryLimits } from './security/limits';
import { createRateLimiter } from './security/rate-limit';
import { QuerySlots } from './security/query-slots';
import { createMetrics } from './observability/metrics';
import { serveMetrics } from './observability/metrics-server';
import { createApollo, httpContext } from './transport/apollo';
import { bodyErrorHandler } from './transport/body-errors';
import { createErrorFormatter } from './transport/format-error';
import { graphqlHttpHandler } from './transport/graphql-http';
import { createHttpRoutes } from './transport/http-routes';
import { mountRoutes } from './routes';
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

/**
 * The HTTP server: Express with the request id first, /healthz and /readyz, GraphiQL, GraphQL over HTTP
 * (transport/apollo.ts) and over WebSocket (transport/websocket.ts) on the same port, sharing the token
 * verifier, rate limit, query slots, metrics and error formatter; and the metrics port when asked for.
 */
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
  const webhookWorker = new WebhookWorker(
    db,
    {
      ...webhookWorkerOptions(config),
      logger,
      metrics: createWebhookMetrics(metrics.registry, db),
      ...options.webhookWorker,
    },
    // The payload's obligations come from the service the API answers Exposure.obligations with.
    services.obligation,
  );
  // New alerts wake the worker at once; its poll catches up on retries that fall due.
  alertHub.onNewAlerts(() => webhookWorker.notify());
  const formatError = createErrorFormatter({
    env: config.env,
    hideSuggestions: !config.fieldSuggestions,
    logger,
    metrics,
  });
  const apollo = createApollo({ httpServer, schema, logger, metrics, querySlots, limits, formatError });
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

  // Pages and files (pictures, reports, exports, imports): the same token, rate limit and query slots.
  const routes = createHttpRoutes({ db, services, verifier, rateLimiter, querySlots, metrics, logger });
  mountRoutes(routes);
  app.use(routes.router);

  app.use(
    '/graphql',
    express.json({ limit: config.bodyLimitBytes }),
    graphqlHttpHandler(apollo, httpContext({ db, services, verifier, rateLimiter })),
  );
  app.use(bodyErrorHandler(config.bodyLimitBytes, metrics, logger));

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
