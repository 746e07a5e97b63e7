import { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { Environment } from '../config';
import type { Metrics } from '../observability/metrics';
import { hideSuggestions } from '../security/limits';
import { ErrorCode, isErrorCode, shownAsIs } from '../common/error-code';
import { conflictAbortOf } from '../db/transactional-connection';

/** PostgreSQL unreachable, restarting or refusing connections: a temporary state, not a fault of the request. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
/** What the cause chain below looks at: pg, TypeORM and GraphQL errors each wrap the one before. */
interface ErrorCause {
  code?: string;
  message?: unknown;
  originalError?: ErrorCause;
  thrownValue?: ErrorCause;
  driverError?: ErrorCause;
  cause?: ErrorCause;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let cause = error as ErrorCause | undefined, depth = 0;
    cause && depth < 6;
    cause = cause.originalError ?? cause.thrownValue ?? cause.driverError ?? cause.cause, depth += 1
  ) {
    if (
      cause.code !== undefined &&
      (UNAVAILABLE_SQLSTATES.has(cause.code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(cause.code))
    )
      return true;
    if (
      typeof cause.message === 'string' &&
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
        cause.message,
      )
    )
      return true;
  }
  return false;
}

export type FormatError = (
  formatted: GraphQLFormattedError,
  error: unknown,
  requestId: string | undefined,
) => GraphQLFormattedError;

/**
 * How every error leaves the server, over HTTP (Apollo's formatError) and WebSocket alike: expected errors
 * (shownAsIs in common/error-code.ts) as they are, without "Did you mean" hints when those are off; a database outage as
 * SERVICE_UNAVAILABLE; a transaction PostgreSQL aborted as a deadlock or serialization failure (40P01, 40001)
 * as CONFLICT, which the caller may send again as it is; anything else is a fault: logged with its request id, masked in production, and
 * shown with its stack trace in development (only faults carry one: an expected error says what to fix,
 * and a stack would bury that in GraphiQL's result pane). Every error gets the request id, and is counted.
 */
export function createErrorFormatter(options: {
  env: Environment;
  hideSuggestions: boolean;
  logger: Logger;
  metrics: Metrics;
}): FormatError {
  const { env, logger, metrics } = options;
  return (formatted, error, requestId) => {
    const withRequestId = (f: GraphQLFormattedError): GraphQLFormattedError =>
      requestId ? { ...f, extensions: { ...f.extensions, requestId } } : f;
    const code = formatted.extensions?.code;
    if (isErrorCode(code) && shownAsIs(code)) {
      metrics.errors.inc({ code });
      return withRequestId(
        options.hideSuggestions ? { ...formatted, message: hideSuggestions(formatted.message) } : formatted,
      );
    }
    if (isDatabaseUnavailable(error)) {
      // Answered as 503 with retry-after over HTTP: clients should retry, operators look at /readyz.
      metrics.errors.inc({ code: ErrorCode.SERVICE_UNAVAILABLE });
      logger.warn({ err: error, path: formatted.path, requestId }, 'database unavailable');
      return withRequestId({
        message: 'The database is unavailable; retry in a few seconds',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
      });
    }
    const sqlState = conflictAbortOf(error);
    if (sqlState) {
      // Aborted by PostgreSQL for what ran beside it (after any retries): nothing was written, and the
      // same request can succeed. Not a fault: the caller is told to send it again.
      metrics.errors.inc({ code: ErrorCode.CONFLICT });
      logger.warn({ err: error, sqlState, path: formatted.path, requestId }, 'aborted by concurrent work');
      return withRequestId({
        message:
          'The request conflicted with concurrent work and was not applied; nothing was written. Send it again as it is',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.CONFLICT },
      });
    }
    metrics.errors.inc({ code: ErrorCode.INTERNAL_SERVER_ERROR });
    logger.error({ err: error, path: formatted.path, requestId }, 'unexpected error');
    if (env === 'production') {
      return withRequestId({
        message: 'Internal server error',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      });
    }
    const stack = error instanceof Error ? error.stack : undefined;
    return withRequestId(
      env === 'development' && stack
        ? { ...formatted, extensions: { ...formatted.extensions, stacktrace: stack.split('\n') } }
        : formatted,
    );
  };
}

/**
 * An error as Apollo hands it to formatError, for errors that never pass through Apollo (the WebSocket):
 * its JSON form, with a code (INTERNAL_SERVER_ERROR when it has none) and without the `http` extension.
 */
export function formattedOf(error: GraphQLError): GraphQLFormattedError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return {
    ...error.toJSON(),
    extensions: { ...extensions, code: extensions.code ?? ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
