import { GraphQLError, GraphQLErrorExtensions } from 'graphql';

/**
 * Every code a top-level GraphQL error carries in `extensions.code`, over HTTP and WebSocket alike. A
 * mutation's refusals of its input are not these: they are userErrors in its payload (UserErrorCode).
 */
export enum ErrorCode {
  /** No token, or one that does not verify (401). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The viewer's role may not do this (403). */
  FORBIDDEN = 'FORBIDDEN',
  /** A page or file (http-routes.ts) that does not exist or that the viewer may not see: one answer, so nothing leaks (404). */
  NOT_FOUND = 'NOT_FOUND',
  /** An argument or variable is malformed (a cursor, `first`, a filter, a date). */
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  GRAPHQL_PARSE_FAILED = 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED',
  /** The request itself is wrong for this transport (a body that is not JSON, a subscription over HTTP). */
  BAD_REQUEST = 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND',
  /** The document names no operation that could be run. */
  OPERATION_RESOLUTION_FAILURE = 'OPERATION_RESOLUTION_FAILURE',
  /** Over MAX_QUERY_COST (security/limits.ts). */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** Over RATE_LIMIT_PER_MINUTE for this token subject (429, retry-after). */
  RATE_LIMITED = 'RATE_LIMITED',
  /** An alert subscriber fell ALERT_QUEUE_MAX behind and was closed; it resumes with `after`. */
  SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW',
  /** Over WS_MAX_SUBSCRIPTIONS_PER_SOCKET or _PER_SUBJECT. */
  TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS',
  /** The database is unreachable (503, retry-after): given by the error formatter, never thrown. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /**
   * PostgreSQL aborted the request's transaction for concurrent work (deadlock or serialization failure,
   * after any retries): nothing was written, and the same request can be sent again as it is. Given by the
   * error formatter (and as 409 by the file routes' refusal, http-routes.ts), never thrown by a resolver.
   */
  CONFLICT = 'CONFLICT',
  /** A fault: logged with its request id, masked in production. */
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

const ERROR_CODES = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.has(value);
}

/**
 * The one mapping of codes to how they leave the server (transport/format-error.ts): an expected error
 * (the client did something to fix) is shown as it is; for the rest the formatter decides (a database
 * outage becomes SERVICE_UNAVAILABLE, anything else is a fault). Exhaustive: a new code does not compile
 * until it is placed here.
 */
export function shownAsIs(code: ErrorCode): boolean {
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
    case ErrorCode.FORBIDDEN:
    case ErrorCode.NOT_FOUND:
    case ErrorCode.BAD_USER_INPUT:
    case ErrorCode.GRAPHQL_PARSE_FAILED:
    case ErrorCode.GRAPHQL_VALIDATION_FAILED:
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.PERSISTED_QUERY_NOT_FOUND:
    case ErrorCode.OPERATION_RESOLUTION_FAILURE:
    case ErrorCode.QUERY_TOO_COMPLEX:
    case ErrorCode.RATE_LIMITED:
    case ErrorCode.SUBSCRIBER_TOO_SLOW:
    case ErrorCode.TOO_MANY_SUBSCRIPTIONS:
      return true;
    case ErrorCode.SERVICE_UNAVAILABLE:
    case ErrorCode.CONFLICT:
    case ErrorCode.INTERNAL_SERVER_ERROR:
      return false;
    default:
      return assertUnreachable(code);
  }
}

/** For the `default` of a switch that covers every member of a union: it fails to compile when one is missed. */
export function assertUnreachable(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}

/** A GraphQL error with its code, plus any other extensions (an argument's name, an HTTP status). */
export function codedError(
  code: ErrorCode,
  message: string,
  extensions: Omit<GraphQLErrorExtensions, 'code'> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}
