import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { ErrorCode } from '../common/error-code';
import type { Metrics } from '../observability/metrics';

/** Malformed JSON and oversized bodies answer as GraphQL-over-HTTP errors, never as a 500 page. */
export function bodyErrorHandler(
  bodyLimitBytes: number,
  metrics: Metrics,
  logger: Logger,
): ErrorRequestHandler {
  const bodyMessages: Record<string, string> = {
    'entity.parse.failed': 'The request body is not valid JSON',
    'entity.too.large': `The request body is larger than ${bodyLimitBytes} bytes`,
    'charset.unsupported': 'The request body must be JSON in UTF-8: this charset is not supported',
    'encoding.unsupported':
      'This Content-Encoding is not supported: send the body as is, or gzip, deflate or br',
    'request.aborted': 'The request was aborted before its body arrived',
    'request.size.invalid': 'The request body does not match its Content-Length',
  };
  return (error: { status?: number; type?: string; message?: string }, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    const message =
      (error.type && bodyMessages[error.type]) ||
      (status === 500 ? 'Internal server error' : 'The request body could not be read');
    const requestId = res.locals.requestId as string | undefined;
    const code = status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : ErrorCode.BAD_REQUEST;
    metrics.errors.inc({ code });
    if (status === 500) logger.error({ err: error, requestId }, 'unexpected HTTP error');
    res.status(status).json({ errors: [{ message, extensions: { code, requestId } }] });
  };
}
