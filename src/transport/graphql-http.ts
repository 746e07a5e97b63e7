import type { Request, RequestHandler, Response } from 'express';
import { ApolloServer, BaseContext, HeaderMap } from '@apollo/server';

/**
 * Serves Apollo Server on an Express route, as @as-integrations/express5 does, plus one thing it cannot:
 * answers Apollo gives before a request has a context (CSRF refusal, a batch, a missing query, the token
 * or rate-limit refusals thrown while building the context) never reach our plugins, so the request id is
 * stamped on their errors here. Every other answer already carries it (transport/apollo.ts, willSendResponse).
 */
export function graphqlHttpHandler<C extends BaseContext>(
  apollo: ApolloServer<C>,
  context: (req: Request, res: Response) => Promise<C>,
): RequestHandler {
  apollo.assertStarted('graphqlHttpHandler()');
  return async (req, res, next) => {
    try {
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method.toUpperCase(),
          headers,
          search: new URL(req.originalUrl, 'http://localhost').search,
          body: req.body,
        },
        context: () => context(req, res),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.send(
          res.statusCode >= 400
            ? withRequestId(response.body.string, res.locals.requestId as string)
            : response.body.string,
        );
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (error) {
      next(error);
    }
  };
}

/** Adds the request id to each error of a GraphQL response body that lacks one. */
function withRequestId(body: string, requestId: string): string {
  let parsed: { errors?: { extensions?: Record<string, unknown> }[] };
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (!Array.isArray(parsed.errors) || parsed.errors.every((error) => error.extensions?.requestId))
    return body;
  parsed.errors = parsed.errors.map((error) =>
    error.extensions?.requestId ? error : { ...error, extensions: { ...error.extensions, requestId } },
  );
  return `${JSON.stringify(parsed)}\n`;
}
