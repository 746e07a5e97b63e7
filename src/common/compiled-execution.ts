import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  DocumentNode,
  ExecutionArgs,
  ExecutionResult,
  GraphQLError,
  GraphQLSchema,
  createSourceEventStream,
  execute,
} from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { type QuerySlots, takesQuerySlot } from '../security/query-slots';

type RunOperation = (
  context: unknown,
  variables: Record<string, unknown> | undefined,
) => Promise<ExecutionResult> | ExecutionResult;

/**
 * graphql-jit's errors are GraphQLErrors with read-only `message` and `extensions`, and `extensions` is
 * undefined on the errors it raises itself (a value that does not fit its type, a null in a non-null
 * field). Apollo Server and our plugins read `extensions.code` and rewrite messages (hidden suggestions),
 * so each error is passed on as a standard graphql-js error with the same message, path, locations,
 * extensions and original error.
 */
function standardError(error: GraphQLError): GraphQLError {
  const copy = new GraphQLError(error.message, {
    nodes: error.nodes,
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? {},
  });
  Object.defineProperty(copy, 'locations', { value: error.locations, enumerable: true });
  return copy;
}

/**
 * Runs operations through graphql-jit: an operation is compiled into a JavaScript function (selection
 * walking, argument coercion and result completion written out for that one query), which later requests
 * call directly. On the nested read of the benchmark this took the executor from the largest share of the
 * API's CPU to a small one (docs/performance.md).
 *
 * Apollo Server 5 has no executor option; its migration guide points custom executors to the `gateway`
 * option, and this is such a gateway: it serves the one local schema, never changes it, and only
 * replaces execution. Parsing, validation, the query limits and every plugin still run in Apollo as before.
 * Operations over WebSocket (graphql-ws, transport/websocket.ts) keep graphql-js, but for the events of
 * subscriptions (compiledSubscribe below).
 *
 * Compiled operations are kept per query hash and operation name in a bounded LRU cache. Compiling costs
 * more than one execution, so an operation is compiled the second time it is seen: the first run goes
 * through graphql-js, and a client sending ever new query texts pays no compilation and evicts nothing.
 * An operation graphql-jit cannot compile is executed by graphql-js instead (and logged), so a compiler gap
 * never becomes an outage.
 *
 * Queries (and mutations that are reads in effect, takesQuerySlot) run inside one of the instance's query
 * slots (security/query-slots.ts), released however the execution ends.
 */
export function compiledExecutionGateway(
  schema: GraphQLSchema,
  options: { cacheSize: number; logger: Logger; querySlots: QuerySlots },
): GatewayInterface {
  const operations = new LRUCache<string, RunOperation>({ max: options.cacheSize });
  const seenOnce = new LRUCache<string, true>({ max: options.cacheSize });

  const interpret =
    (document: DocumentNode, operationName: string | undefined): RunOperation =>
    (context, variables) =>
      execute({ schema, document, operationName, contextValue: context, variableValues: variables });

  const compile = (document: DocumentNode, operationName: string | undefined): RunOperation => {
    try {
      const compiled = compileQuery(schema, document, operationName);
      if (isCompiledQuery(compiled))
        return (context, variables) => compiled.query(undefined, context, variables ?? {});
      // Not compilable as asked (e.g. the named operation is missing): graphql-js gives the standard error.
    } catch (error) {
      options.logger.warn(
        { err: error, operationName },
        'graphql-jit could not compile this operation; graphql-js executes it',
      );
    }
    return interpret(document, operationName);
  };

  const runnerFor = (
    document: DocumentNode,
    operationName: string | undefined,
    key: string,
  ): RunOperation => {
    let run = operations.get(key);
    if (run) return run;
    if (!seenOnce.has(key)) {
      seenOnce.set(key, true);
      return interpret(document, operationName);
    }
    seenOnce.delete(key);
    run = compile(document, operationName);
    operations.set(key, run);
    return run;
  };

  const executor: GatewayExecutor = async (requestContext) => {
    const operationName = requestContext.request.operationName ?? undefined;
    const run = runnerFor(
      requestContext.document,
      operationName,
      `${requestContext.queryHash}:${operationName ?? ''}`,
    );
    const isQuery = takesQuerySlot(requestContext.document, requestContext.operation);
    if (isQuery) await options.querySlots.acquire();
    try {
      const result = await run(requestContext.context, requestContext.request.variables);
      return result.errors ? { ...result, errors: result.errors.map(standardError) } : result;
    } finally {
      if (isQuery) options.querySlots.release();
    }
  };

  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {
      operations.clear();
    },
  };
}

/** Runs a subscription's selection for one event of its source stream. */
type RunEvent = (
  event: unknown,
  context: unknown,
  variables: Record<string, unknown> | undefined,
) => Promise<ExecutionResult> | ExecutionResult;

/**
 * `subscribe` for graphql-ws with each event's selection run by graphql-jit. graphql-ws executes a
 * subscription's selection once per event per subscriber (graphql-js's `subscribe` calls `execute` with the
 * event as root value); with a thousand subscribers that interpreting was the largest share of an instance's
 * work per alert after the alerts' own read (docs/performance.md, "Alerts against their floor, 12-03").
 *
 * The source stream still comes from graphql-js (`createSourceEventStream`: the subscription's arguments are
 * coerced as they always were; graphql-jit's own `subscribe` passes the operation's variables as the field's
 * arguments). Compiled selections are kept per document object, which the WebSocket transport shares
 * between subscriptions of the same text (transport/websocket.ts), in a WeakMap, so they go when the
 * document and its subscriptions do. As over HTTP, a document is compiled the second time it is
 * subscribed with, and one graphql-jit cannot compile is executed by graphql-js (and logged).
 */
export function compiledSubscribe(options: {
  logger: Logger;
}): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const runners = new WeakMap<DocumentNode, Map<string, RunEvent | 'seen once'>>();

  const runnerFor = (args: ExecutionArgs): RunEvent => {
    const { schema, document } = args;
    const operationName = args.operationName ?? undefined;
    const interpret: RunEvent = (event, contextValue, variableValues) =>
      execute({ schema, document, operationName, rootValue: event, contextValue, variableValues });
    let byName = runners.get(document);
    if (!byName) runners.set(document, (byName = new Map()));
    const known = byName.get(operationName ?? '');
    if (known && known !== 'seen once') return known;
    if (!known) {
      byName.set(operationName ?? '', 'seen once');
      return interpret;
    }
    let run = interpret;
    try {
      const compiled = compileQuery(schema, document, operationName);
      if (isCompiledQuery(compiled))
        run = async (event, contextValue, variableValues) => {
          const result = await compiled.query(event, contextValue, variableValues ?? {});
          return result.errors ? { ...result, errors: result.errors.map(standardError) } : result;
        };
    } catch (error) {
      options.logger.warn(
        { err: error, operationName },
        'graphql-jit could not compile this subscription; graphql-js executes it',
      );
    }
    byName.set(operationName ?? '', run);
    return run;
  };

  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream;
    const run = runnerFor(args);
    return mapEvents(stream, (event) => run(event, args.contextValue, args.variableValues ?? undefined));
  };
}

/** Each event of `source` through `map`, closing `source` when closed (what graphql-js's own subscribe does). */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => Promise<ExecutionResult> | ExecutionResult,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async (): Promise<IteratorResult<ExecutionResult>> => {
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      const step = await iterator.next();
      if (step.done) return { done: true, value: undefined };
      try {
        return { done: false, value: await map(step.value) };
      } catch (error) {
        await close().catch(() => undefined);
        throw error;
      }
    },
    return: close,
    async throw(error?: unknown) {
      if (typeof iterator.throw === 'function') {
        const step = await iterator.throw(error);
        if (!step.done) return { done: false, value: await map(step.value) };
      }
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
