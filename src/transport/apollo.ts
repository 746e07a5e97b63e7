import http from 'node:http';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { Request, Response } from 'express';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { TokenVerifier } from '../auth/jwt';
import { ErrorCode } from '../common/error-code';
import { compiledExecutionGateway } from '../common/compiled-execution';
import { Context, createContext } from '../context';
import { Metrics, recordOperation } from '../observability/metrics';
import { queryLimits } from '../security/limits';
import { QuerySlots } from '../security/query-slots';
import { createRateLimiter } from '../security/rate-limit';
import { Services } from '../services';
import { auditActor } from './audit-actor';
import { bearerViewer } from './bearer';
import { FormatError } from './format-error';

/** Distinct operations kept compiled; a portal or GraphiQL user sends a handful, so this only bounds abuse. */
const COMPILED_OPERATIONS_CACHED = 1000;

/**
 * The request id of each error raised while serving a request, for formatError (which is given no
 * context): set by the plugin below, and by the context function for the token and rate-limit refusals.
 * Answers Apollo gives before any of that (CSRF, a batch, no query) get theirs in graphql-http.ts.
 */
const requestIdOfError = new WeakMap<object, string>();

export interface ApolloOptions {
  httpServer: http.Server;
  schema: GraphQLSchema;
  logger: Logger;
  metrics: Metrics;
  querySlots: QuerySlots;
  limits: ReturnType<typeof queryLimits>;
  formatError: FormatError;
}

/** Apollo Server for GraphQL over HTTP: its options, its plugins and the shared error formatter. */
export function createApollo(options: ApolloOptions): ApolloServer<Context> {
  const { httpServer, schema, logger, metrics, querySlots, limits, formatError } = options;
  return new ApolloServer<Context>({
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
      observePlugin(metrics, logger),
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
}

/**
 * Each HTTP request's context: the bearer token's viewer, one rate-limit point for its subject, then a
 * fresh context (context.ts). A refusal here has no context, so its request id is remembered for formatError.
 */
export function httpContext(options: {
  db: DataSource;
  services: Services;
  verifier: TokenVerifier;
  rateLimiter: ReturnType<typeof createRateLimiter>;
}): (req: Request, res: Response) => Promise<Context> {
  const { db, services, verifier, rateLimiter } = options;
  return async (req, res) => {
    try {
      const viewer = await bearerViewer(verifier, req.headers.authorization);
      await rateLimiter.consume(viewer.subject);
      return createContext(db, services, viewer, res.locals.requestId as string);
    } catch (error) {
      // No context yet, so no plugin sees this error: formatError finds its request id here, for the log.
      if (typeof error === 'object' && error) requestIdOfError.set(error, res.locals.requestId as string);
      throw error;
    }
  };
}

/**
 * Per HTTP request: refuses subscriptions (they belong on the WebSocket), stamps a mutation's audit actor,
 * counts and logs the operation, and puts the request id and SQL statement count on the answer.
 */
function observePlugin(metrics: Metrics, logger: Logger): ApolloServerPlugin<Context> {
  return {
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
              { extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } } },
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
                (error) => error.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE,
              )
            ) {
              response.http.status = 503;
              response.http.headers.set('retry-after', '5');
            }
          }
          const errorCodes = (errors ?? []).map((e) =>
            String(e.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR),
          );
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
}
