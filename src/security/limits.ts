import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, GraphQLSchema, ValidationRule, getNamedType, isListType, getNullableType, visit, BREAK } from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { Config } from '../config';

/**
 * Cost of a selection: connections cost their page size (`first`, default 20) times their children,
 * plain lists an assumed 10 times; everything else 1 plus its children. Variables count, because the
 * check runs after the operation is resolved (slicknode#81).
 */
const pageAwareEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  // Introspection (GraphiQL's docs) is bounded by the schema's size, not by data: it costs nothing here.
  if (type.name.startsWith('__') || field.name.startsWith('__')) return 0;
  // A connection's `edges` list is already paid for by the connection's `first`.
  if (field.name === 'edges' && type.name.endsWith('Connection')) return childComplexity;
  if (field.args.some((arg) => arg.name === 'first')) {
    const first = typeof args.first === 'number' ? args.first : 20;
    return 1 + Math.max(first, 1) * childComplexity;
  }
  if (isListType(getNullableType(field.type)) && childComplexity > 0) return 1 + 10 * childComplexity;
  return 1 + childComplexity;
};

/**
 * Throws BAD_USER_INPUT (HTTP 400) when the variables do not fit the operation: the complexity walk coerces them
 * before execution would, and its plain GraphQLError would otherwise surface as a 500 (or end a WebSocket).
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number {
  try {
    return getComplexity({ schema, query: document, variables, operationName: operationName ?? undefined, estimators: [pageAwareEstimator] });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    throw new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  }
}

export function tooComplex(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(`This query would cost ${cost} points; the limit is ${maxCost}. Ask for smaller pages (first) or fewer nested lists.`, {
    extensions: { code: 'QUERY_TOO_COMPLEX', cost, maxCost, http: { status: 400 } },
  });
}

/**
 * PostgreSQL text cannot hold U+0000 ("invalid byte sequence for encoding UTF8: 0x00"), so a NUL anywhere in the
 * input would fail deep inside a statement as an internal error. It is refused up front as the caller's mistake.
 */
export function nulCharacterError(document: DocumentNode, variables: unknown): GraphQLError | null {
  let found = false;
  visit(document, {
    StringValue(node) {
      if (node.value.includes('\u0000')) {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  const pending: unknown[] = [variables];
  while (!found && pending.length) {
    const value = pending.pop();
    if (typeof value === 'string') found = value.includes('\u0000');
    else if (Array.isArray(value)) pending.push(...value);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes('\u0000')) found = true;
        pending.push(inner);
      }
    }
  }
  return found ? new GraphQLError('Text must not contain NUL characters (\\u0000)', { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } }) : null;
}

/**
 * Limits applied before anything executes: depth, aliases, directives (graphql-armor validation rules),
 * tokens (graphql-js's own parse option, over HTTP and WebSocket) and cost (graphql-query-complexity).
 */
export function queryLimits(config: Config) {
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxDepth },
    maxAliases: { n: config.maxAliases },
    maxDirectives: { n: 20 },
    // graphql-armor's token plugin throws from parsingDidStart, which Apollo treats as an unexpected
    // error (HTTP 500); graphql-js's parse option gives a GRAPHQL_PARSE_FAILED 400 instead (see parseOptions).
    maxTokens: { enabled: false },
    // Cost is computed with page sizes below; armor's static cost limit would double-count.
    costLimit: { enabled: false },
    // armor's mask only matches 'Did you mean "x"', not enum hints ('Did you mean the enum value "X"?'),
    // and only over HTTP: suggestionsHidden below covers both, and the WebSocket path uses hideSuggestions.
    blockFieldSuggestion: { enabled: false },
  });
  const { plugins, validationRules } = armor.protect();
  const costPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const nul = nulCharacterError(document, request.variables);
          if (nul) throw nul;
          const cost = operationCost(schema, document, request.variables, request.operationName);
          if (cost > config.maxCost) throw tooComplex(cost, config.maxCost);
        },
      };
    },
  };
  const suggestionsHidden: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = hideSuggestions(error.message);
        },
      };
    },
  };
  return {
    plugins: [...plugins, costPlugin, ...(config.fieldSuggestions ? [] : [suggestionsHidden])],
    validationRules: validationRules as ValidationRule[],
    parseOptions: { maxTokens: config.maxTokens },
    hideSuggestions: !config.fieldSuggestions,
  };
}

/** Removes graphql-js's "Did you mean …?" hints (field, argument, type and enum value names reveal the schema). */
export function hideSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^?]*\?/g, '');
}
