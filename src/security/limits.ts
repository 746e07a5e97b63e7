import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, GraphQLSchema, ValidationRule, getNamedType, isListType, getNullableType } from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { Config } from '../config';

/**
 * Cost of a selection: connections cost their page size (`first`, default 20) times their children,
 * plain lists an assumed 10 times; everything else 1 plus its children. Variables count, because the
 * check runs after the operation is resolved (slicknode#81).
 */
const pageAwareEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (field.args.some((arg) => arg.name === 'first')) {
    const first = typeof args.first === 'number' ? args.first : 20;
    return 1 + Math.max(first, 1) * childComplexity;
  }
  if (isListType(getNullableType(field.type)) && getNamedType(field.type) !== undefined && childComplexity > 0) return 1 + 10 * childComplexity;
  return 1 + childComplexity;
};

export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number {
  return getComplexity({ schema, query: document, variables, operationName: operationName ?? undefined, estimators: [pageAwareEstimator] });
}

export function tooComplex(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(`This query would cost ${cost} points; the limit is ${maxCost}. Ask for smaller pages (first) or fewer nested lists.`, {
    extensions: { code: 'QUERY_TOO_COMPLEX', cost, maxCost, http: { status: 400 } },
  });
}

/**
 * Limits applied before anything executes: depth, aliases, directives (graphql-armor validation rules),
 * tokens (graphql-armor plugin; graphql-js parse option on WebSocket) and cost (graphql-query-complexity).
 */
export function queryLimits(config: Config) {
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxDepth },
    maxAliases: { n: config.maxAliases },
    maxDirectives: { n: 20 },
    maxTokens: { n: config.maxTokens },
    // Cost is computed with page sizes below; armor's static cost limit would double-count.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: !config.fieldSuggestions },
  });
  const { plugins, validationRules } = armor.protect();
  const costPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const cost = operationCost(schema, document, request.variables, request.operationName);
          if (cost > config.maxCost) throw tooComplex(cost, config.maxCost);
        },
      };
    },
  };
  return { plugins: [...plugins, costPlugin], validationRules: validationRules as ValidationRule[] };
}
