import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import {
  DocumentNode,
  ExecutionArgs,
  ExecutionResult,
  FormattedExecutionResult,
  GraphQLError,
  GraphQLSchema,
  execute,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Disposable } from 'graphql-ws';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { TokenVerifier } from '../auth/jwt';
import { Viewer, unauthenticated } from '../auth/viewer';
import { createContext } from '../context';
import type { Services } from '../services';
import type { AlertHub } from '../modules/alert/alert.hub';
import { checkOperation, queryLimits } from '../security/limits';
import type { createRateLimiter } from '../security/rate-limit';
import { type QuerySlots, takesQuerySlot } from '../security/query-slots';
import { Metrics, recordOperation } from '../observability/metrics';
import { FormatError, formattedOf } from './format-error';
import { auditActor } from './audit-actor';
import { bearerViewer } from './bearer';
import { ErrorCode } from '../common/error-code';
import { compiledSubscribe } from '../common/compiled-execution';
import { LRUCache } from 'lru-cache';

export interface WebSocketOptions {
  httpServer: http.Server;
  config: Config;
  db: DataSource;
  schema: GraphQLSchema;
  services: Services;
  logger: Logger;
  verifier: TokenVerifier;
  rateLimiter: ReturnType<typeof createRateLimiter>;
  querySlots: QuerySlots;
  metrics: Metrics;
  alertHub: AlertHub;
  limits: ReturnType<typeof queryLimits>;
  formatError: FormatError;
}

/** One operation on a socket, from its subscribe message until its answer (or, for a subscription, its end). */
interface Operation {
  requestId: string;
  startedAt: bigint;
  type: string;
  name: string | null;
  sqlStatements: () => number;
  errorCodes: string[];
  /** Holds one of the socket's and the subject's subscription places (released when it ends). */
  subscription: boolean;
}

/** What a socket carries besides graphql-ws's own: who is asking, until when, and what is running. */
type SocketState = {
  viewer?: Viewer;
  expiryTimer?: NodeJS.Timeout;
  operations?: Map<string, Operation>;
};

/**
 * Operations arriving after the token's expiry are refused at once; the socket itself closes a moment
 * later, so that an exposureAlerts subscription can first deliver its own "token expired" end, which
 * carries the resumeAfter cursor to continue from with a fresh token.
 */
const EXPIRY_CLOSE_GRACE_MS = 1000;
/** setTimeout's longest delay (about 24.8 days); a later expiry is waited for in steps. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** Distinct query texts kept parsed and validated (as the compiled operations over HTTP: bounds abuse only). */
const DOCUMENTS_CACHED = 1000;
const DOCUMENT_TEXT_CACHED = 1_000_000;
export const TOKEN_EXPIRED_CLOSE_CODE = 4403;
export const TOKEN_EXPIRED_REASON = 'Forbidden: the token has expired; connect again with a fresh token';

const hasExpired = (viewer: Viewer): boolean =>
  Boolean(viewer.expiresAt && viewer.expiresAt.getTime() <= Date.now());

/** Closes the socket (4403) when its token expires: one timer per connection, cleared when the socket closes. */
function closeAtExpiry(socket: WebSocket, state: SocketState, expiresAt: Date): void {
  const remaining = expiresAt.getTime() + EXPIRY_CLOSE_GRACE_MS - Date.now();
  if (remaining <= 0) {
    socket.close(TOKEN_EXPIRED_CLOSE_CODE, TOKEN_EXPIRED_REASON);
    return;
  }
  state.expiryTimer = setTimeout(
    () => closeAtExpiry(socket, state, expiresAt),
    Math.min(remaining, LONGEST_TIMER_MS),
  );
}

/** A copy of a parse or validation error with the code Apollo gives the same error over HTTP. */
function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, code },
  });
}

/**
 * GraphQL over WebSocket (graphql-transport-ws) at /graphql, held to the rules of HTTP: the token is checked
 * when the socket connects and its expiry before every operation (the socket closes when it expires); every
 * operation takes a point of the subject's rate limit; queries wait for a query slot; documents meet the same
 * parse options, validation rules (limits, one mutation field, introspection when off) and cost limit; errors
 * are formatted, masked and counted by the same formatter; each operation has its own request id and its own
 * log line and duration sample. Subscriptions are capped per socket and per token subject.
 */
export function serveWebSocket(options: WebSocketOptions): Disposable {
  const {
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
  } = options;
  const rules = [...specifiedRules, ...limits.validationRules];
  // Parsed and validated documents by query text. A thousand subscribers of one dashboard send the same
  // text: they share one document (and one compiled selection, see compiledSubscribe) instead of holding
  // a thousand copies, and each subscribe skips the parse and the validation. Parsing and validation
  // depend on nothing but the text (the schema and the rules are fixed), and nothing writes to a document.
  // Bounded by entries and by text: a document's tree is a few times its text, so this holds tens of MB at most.
  const documents = new LRUCache<string, { document: DocumentNode; errors: readonly GraphQLError[] }>({
    max: DOCUMENTS_CACHED,
    maxSize: DOCUMENT_TEXT_CACHED,
    maxEntrySize: DOCUMENT_TEXT_CACHED / 50,
    sizeCalculation: (_value, text) => text.length,
  });
  const subscriptionsOfSubject = new Map<string, number>();

  const takeSubscriptionPlace = (state: SocketState, viewer: Viewer): GraphQLError | null => {
    const onSocket = [...state.operations!.values()].filter((operation) => operation.subscription).length;
    const ofSubject = subscriptionsOfSubject.get(viewer.subject) ?? 0;
    if (onSocket >= config.wsMaxSubscriptionsPerSocket || ofSubject >= config.wsMaxSubscriptionsPerSubject) {
      const limit =
        onSocket >= config.wsMaxSubscriptionsPerSocket
          ? `${config.wsMaxSubscriptionsPerSocket} per connection`
          : `${config.wsMaxSubscriptionsPerSubject} per token subject`;
      return new GraphQLError(
        `Too many open subscriptions: the limit is ${limit}. Complete one you no longer need before starting another.`,
        { extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS } },
      );
    }
    subscriptionsOfSubject.set(viewer.subject, ofSubject + 1);
    return null;
  };
  const releaseSubscriptionPlace = (viewer: Viewer) => {
    const left = (subscriptionsOfSubject.get(viewer.subject) ?? 1) - 1;
    if (left > 0) subscriptionsOfSubject.set(viewer.subject, left);
    else subscriptionsOfSubject.delete(viewer.subject);
  };

  /** An operation is done: its log line and duration sample, and its subscription place back. */
  const finish = (state: SocketState, id: string) => {
    const operation = state.operations?.get(id);
    if (!operation) return;
    state.operations!.delete(id);
    if (operation.subscription && state.viewer) releaseSubscriptionPlace(state.viewer);
    recordOperation(metrics, logger, {
      requestId: operation.requestId,
      transport: 'websocket',
      operationName: operation.name,
      operationType: operation.type,
      durationMs: Number(process.hrtime.bigint() - operation.startedAt) / 1e6,
      sqlStatements: operation.sqlStatements(),
      errorCodes: operation.errorCodes,
    });
  };

  const formatAll = (operation: Operation | undefined, errors: readonly GraphQLError[]) => {
    const formatted = errors.map((error) => formatError(formattedOf(error), error, operation?.requestId));
    operation?.errorCodes.push(...formatted.map((error) => String(error.extensions?.code)));
    return formatted;
  };

  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: config.bodyLimitBytes,
  });
  // ws re-emits the HTTP server's errors (a busy port); unheard, that re-emission would throw outside any
  // promise and leave start-up hanging. The HTTP server's own listener reports them (server.ts listen()).
  wsServer.on('error', () => undefined);
  return useServer<Record<string, unknown>, SocketState>(
    {
      schema,
      // Each event of a subscription runs its selection compiled (common/compiled-execution.ts).
      subscribe: compiledSubscribe({ logger }),
      // The token comes in connectionParams.authorization or the upgrade request's Authorization header.
      onConnect: async (ctx) => {
        const fromParams = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const authorization =
          typeof fromParams === 'string' ? fromParams : ctx.extra.request.headers.authorization;
        if (!authorization) {
          ctx.extra.socket.close(4401, 'Unauthorized: send connectionParams.authorization = "Bearer <JWT>"');
          return false;
        }
        try {
          const viewer = await bearerViewer(verifier, authorization);
          await rateLimiter.consume(viewer.subject);
          ctx.extra.viewer = viewer;
          ctx.extra.operations = new Map();
          if (viewer.expiresAt && ctx.extra.socket.readyState === ctx.extra.socket.OPEN)
            closeAtExpiry(ctx.extra.socket, ctx.extra, viewer.expiresAt);
          return true;
        } catch (error) {
          // graphql-ws closes with 4403 Forbidden when onConnect returns false.
          logger.info(
            { reason: error instanceof Error ? error.message : String(error) },
            'websocket connection refused',
          );
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const viewer = ctx.extra.viewer!;
        const operation: Operation = {
          requestId: randomUUID(),
          startedAt: process.hrtime.bigint(),
          type: 'unknown',
          name: payload.operationName ?? null,
          sqlStatements: () => 0,
          errorCodes: [],
          subscription: false,
        };
        ctx.extra.operations!.set(id, operation);
        if (hasExpired(viewer))
          return [unauthenticated('The token has expired: connect again with a fresh token')];
        try {
          await rateLimiter.consume(viewer.subject);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        let parsed = documents.get(payload.query);
        if (!parsed) {
          let document;
          try {
            document = parse(payload.query, limits.parseOptions);
          } catch (error) {
            return [
              withCode(
                error instanceof GraphQLError ? error : new GraphQLError(String(error)),
                ErrorCode.GRAPHQL_PARSE_FAILED,
              ),
            ];
          }
          parsed = { document, errors: validate(schema, document, rules) };
          documents.set(payload.query, parsed);
        }
        const { document, errors } = parsed;
        if (errors.length) return errors.map((error) => withCode(error, ErrorCode.GRAPHQL_VALIDATION_FAILED));
        const definition = getOperationAST(document, payload.operationName);
        if (!definition) {
          const message = payload.operationName
            ? `Unknown operation named "${payload.operationName}".`
            : 'Must provide operation name if query contains multiple operations.';
          return [
            new GraphQLError(message, { extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE } }),
          ];
        }
        operation.type = definition.operation;
        operation.name = payload.operationName ?? definition.name?.value ?? null;
        const variables = payload.variables ?? undefined;
        try {
          checkOperation(schema, document, variables, payload.operationName, config.maxCost);
        } catch (error) {
          // Variables that do not fit, a NUL, too costly: an error for this operation, not for the whole connection.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        if (definition.operation === 'subscription') {
          const refused = takeSubscriptionPlace(ctx.extra, viewer);
          if (refused) return [refused];
          operation.subscription = true;
        }
        const contextValue = createContext(db, services, viewer, operation.requestId);
        operation.sqlStatements = () => contextValue.scope.sqlStatements;
        // A mutation is audited as over HTTP: same actor, operation and input.
        if (definition.operation === 'mutation')
          contextValue.scope.audit = auditActor(
            contextValue,
            schema,
            definition,
            payload.operationName,
            variables,
          );
        contextValue.alerts = {
          db,
          hub: alertHub,
          maxQueue: config.alertQueueMax,
          observeLatency: (seconds) => metrics.alertLatency.observe(seconds),
        };
        return {
          schema,
          document,
          variableValues: variables,
          operationName: payload.operationName ?? undefined,
          contextValue,
        };
      },
      // Queries (and reads in effect such as simulateIncident) wait for one of the instance's query slots, as
      // over HTTP; other mutations go straight through.
      execute: async (args: ExecutionArgs) => {
        if (!takesQuerySlot(args.document, getOperationAST(args.document, args.operationName)))
          return execute(args);
        await querySlots.acquire();
        try {
          return await execute(args);
        } finally {
          querySlots.release();
        }
      },
      onNext: (ctx, id, _payload, _args, result: ExecutionResult): FormattedExecutionResult => {
        const operation = ctx.extra.operations?.get(id);
        const { errors, ...rest } = result;
        const formatted: FormattedExecutionResult = errors?.length
          ? { ...rest, errors: formatAll(operation, errors) }
          : rest;
        // A query or mutation has one result; a subscription is recorded when it ends.
        if (operation && !operation.subscription) finish(ctx.extra, id);
        return formatted;
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = formatAll(ctx.extra.operations?.get(id), errors);
        finish(ctx.extra, id);
        return formatted;
      },
      onComplete: (ctx, id) => finish(ctx.extra, id),
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
        for (const id of [...(ctx.extra.operations?.keys() ?? [])]) finish(ctx.extra, id);
      },
    },
    wsServer,
    config.wsKeepAliveMs,
  );
}
