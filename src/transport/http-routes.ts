import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { TokenVerifier } from '../auth/jwt';
import { ErrorCode, isErrorCode } from '../common/error-code';
import { conflictAbortOf } from '../db/transactional-connection';
import { Context, createContext } from '../context';
import { Metrics, recordOperation } from '../observability/metrics';
import { QuerySlots } from '../security/query-slots';
import { createRateLimiter } from '../security/rate-limit';
import { Services } from '../services';
import { bearerViewer } from './bearer';

/**
 * A page or file served beside GraphQL (a picture, a report, an export, an import): it gets the same
 * request Context a resolver gets (viewer, loaders, services, SQL statement count), after the same bearer
 * token check and rate-limit point; a read also waits for a query slot. Tokens come only from the
 * `Authorization` header, never from the URL or a cookie: GraphiQL fetches pages with its header into a
 * `blob:` URL (graphiql/tabs.ts).
 */
export type RouteHandler = (context: Context, req: Request, res: Response) => Promise<void>;

export interface RouteOptions {
  /** A read (the default) waits for a query slot like a GraphQL query; a write does not. */
  kind?: 'read' | 'write';
  /** Body parsers or other middleware run after authentication (an import's raw body, say). */
  before?: RequestHandler[];
}

export interface HttpRoutes {
  get(path: string, handler: RouteHandler, options?: RouteOptions): void;
  post(path: string, handler: RouteHandler, options?: RouteOptions): void;
  /** Mount on the app before the GraphQL route. */
  readonly router: Router;
}

export interface HttpRoutesDependencies {
  db: DataSource;
  services: Services;
  verifier: TokenVerifier;
  rateLimiter: ReturnType<typeof createRateLimiter>;
  querySlots: QuerySlots;
  metrics: Metrics;
  logger: Logger;
}

/** The HTTP status of a refusal, by its code; anything else is a fault (500, masked). */
function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.RATE_LIMITED:
      return 429;
    case ErrorCode.SERVICE_UNAVAILABLE:
      return 503;
    case ErrorCode.CONFLICT:
      return 409;
    case ErrorCode.BAD_USER_INPUT:
    case ErrorCode.BAD_REQUEST:
      return 400;
    default:
      return 500;
  }
}

/** A page or file the viewer may not see, or that does not exist: the same 404, so nothing leaks. */
export function notFound(what: string): GraphQLError {
  return new GraphQLError(`${what} was not found`, {
    extensions: { code: ErrorCode.NOT_FOUND },
  });
}

export function createHttpRoutes(dependencies: HttpRoutesDependencies): HttpRoutes {
  const { db, services, verifier, rateLimiter, querySlots, metrics, logger } = dependencies;
  const router = express.Router();

  const serve =
    (handler: RouteHandler, options: RouteOptions = {}): RequestHandler =>
    async (req, res) => {
      const requestId = res.locals.requestId as string;
      const started = process.hrtime.bigint();
      let context: Context | undefined;
      let errorCode: string | undefined;
      let slotTaken = false;
      try {
        const viewer = await bearerViewer(verifier, req.headers.authorization);
        await rateLimiter.consume(viewer.subject);
        context = createContext(db, services, viewer, requestId);
        for (const middleware of options.before ?? []) {
          await new Promise<void>((resolve, reject) =>
            middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
          );
        }
        if ((options.kind ?? 'read') === 'read') {
          await querySlots.acquire();
          slotTaken = true;
        }
        res.setHeader('cache-control', 'no-store');
        await handler(context, req, res);
      } catch (error) {
        errorCode = refuse(res, error, requestId, logger);
      } finally {
        if (slotTaken) querySlots.release();
        recordOperation(metrics, logger, {
          requestId,
          transport: 'http',
          operationName: `${req.method} ${req.route?.path ?? req.path}`,
          operationType: (options.kind ?? 'read') === 'read' ? 'query' : 'mutation',
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          sqlStatements: context?.scope.sqlStatements ?? 0,
          errorCodes: errorCode ? [errorCode] : [],
        });
      }
    };

  return {
    router,
    get: (path, handler, options) => router.get(path, serve(handler, options)),
    post: (path, handler, options) => router.post(path, serve(handler, options)),
  };
}

/**
 * Answers an error as JSON `{ errors: [{ message, extensions: { code, requestId } }] }`, as GraphQL would,
 * with the status its code implies; a fault is logged and masked. Returns the code, for the metric.
 */
function refuse(res: Response, error: unknown, requestId: string, logger: Logger): string {
  // A file import aborted by PostgreSQL as a deadlock or serialization failure (never retried: its input
  // was a one-shot stream): 409 CONFLICT, the same file may be sent again as it is.
  if (conflictAbortOf(error) && !(error instanceof GraphQLError))
    return refuse(
      res,
      new GraphQLError(
        'The request conflicted with concurrent work and was not applied; nothing was written. Send it again as it is',
        { extensions: { code: ErrorCode.CONFLICT } },
      ),
      requestId,
      logger,
    );
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  const code =
    graphqlError && isErrorCode(graphqlError.extensions.code) ? graphqlError.extensions.code : null;
  const http = graphqlError?.extensions.http as
    { status?: number; headers?: Map<string, string> } | undefined;
  const status = http?.status ?? (code ? statusOf(code) : 500);
  const shown = code !== null && status < 500;
  if (!shown) logger.error({ err: error, requestId }, 'page or file failed');
  if (res.headersSent) {
    // A streamed answer failed half-way: cut the connection so the receiver sees a broken file, not a short one.
    res.destroy(error instanceof Error ? error : undefined);
    return code ?? ErrorCode.INTERNAL_SERVER_ERROR;
  }
  for (const [name, value] of http?.headers ?? []) res.setHeader(name, value);
  if (code === ErrorCode.UNAUTHENTICATED) res.setHeader('www-authenticate', 'Bearer');
  res.status(status).json({
    errors: [
      {
        message: shown ? graphqlError!.message : 'Internal server error',
        extensions: { code: shown ? code : ErrorCode.INTERNAL_SERVER_ERROR, requestId },
      },
    ],
  });
  return shown ? code! : ErrorCode.INTERNAL_SERVER_ERROR;
}
