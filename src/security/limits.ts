import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  DocumentNode,
  FieldNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  isLeafType,
  isListType,
  getNamedType,
  getNullableType,
  getOperationAST,
  visit,
  BREAK,
} from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { Config } from '../config';
import { pageSize } from '../common/connection';
import { ErrorCode } from '../common/error-code';
import { REGIMES } from '../modules/obligation/regimes';

/**
 * How many items a plain (unpaged) list can hold, by `Type.field`, from what bounds it in this register
 * (docs/query-cost.md has the reasoning; test/ops/query-cost.test.ts measures the demo register against it).
 * Hard bounds where the code fixes them: the engine's five factors, one obligation per regime milestone.
 * Measured bounds, with room, where data decides: currencies, chain length, agreements per contract.
 * A list not named here counts DEFAULT_LIST_SIZE.
 */
const ENGINE_FACTORS = 5;
const REGIME_MILESTONES = REGIMES.reduce((sum, regime) => sum + regime.milestones.length, 0);
export const DEFAULT_LIST_SIZE = 10;
export const LIST_SIZES: Readonly<Record<string, number>> = {
  'Exposure.factors': ENGINE_FACTORS,
  'ExposureRevision.factors': ENGINE_FACTORS,
  'ExposureAsOf.factors': ENGINE_FACTORS,
  'SimulatedExposure.factors': ENGINE_FACTORS,
  'Exposure.obligations': REGIME_MILESTONES,
  // One entry per currency of the contracts involved.
  'ExposureSummary.contractValueInvolved': 3,
  // The suppliers from the client's contract to the incident's supplier.
  'Exposure.path': 5,
  'ExposureRevision.path': 5,
  'ExposureAsOf.path': 5,
  'SimulatedExposure.path': 5,
  // The client's contracts that carry the exposure.
  'Exposure.contracts': 3,
  'ExposureRevision.contracts': 3,
  'ExposureAsOf.contracts': 3,
  'SimulatedExposure.contracts': 3,
  'Contract.dataProcessingAgreements': 3,
  'DataProcessingAgreement.subprocessors': 5,
};

/**
 * Cost of a selection, about the number of objects (rows and computed records) the answer can hold:
 * an object costs 1 plus its children; a scalar costs nothing (a column of a row already paid for),
 * except totalCount (a count statement: 1). A connection costs its page size (`first`, default 20)
 * times its node's cost; a plain list its size in LIST_SIZES (default 10) times its item's. Variables
 * count, because the check runs after the operation is resolved (slicknode#81).
 */
const pageAwareEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  // Introspection (GraphiQL's docs) is bounded by the schema's size, not by data: it costs nothing here.
  if (type.name.startsWith('__') || field.name.startsWith('__')) return 0;
  // A connection's `edges` list is already paid for by the connection's `first`.
  if (field.name === 'edges' && type.name.endsWith('Connection')) return childComplexity;
  if (field.args.some((arg) => arg.name === 'first')) {
    // A page size outside 0–100 is refused here with the resolver's own message, rather than priced:
    // `first: 1000000` is a mistake to name, not a cost to report.
    const first = pageSize({ first: typeof args.first === 'number' ? args.first : undefined });
    return 1 + Math.max(first, 1) * childComplexity;
  }
  const named = getNamedType(field.type);
  if (isLeafType(named)) return field.name === 'totalCount' ? 1 : 0;
  if (isListType(getNullableType(field.type)))
    return 1 + (LIST_SIZES[`${type.name}.${field.name}`] ?? DEFAULT_LIST_SIZE) * childComplexity;
  return 1 + childComplexity;
};

/**
 * Throws BAD_USER_INPUT (HTTP 400) when the variables do not fit the operation: the complexity walk coerces them
 * before execution would, and its plain GraphQLError would otherwise surface as a 500 (or end a WebSocket).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName?: string | null,
): number {
  // graphql-query-complexity reads every operation's name to find the one asked for, and fails on an
  // anonymous one when the name matches none (GraphiQL sends a tab's old name after its query was edited).
  if (!getOperationAST(document, operationName ?? undefined)) {
    throw new GraphQLError(
      operationName
        ? `The document has no operation named "${operationName}": send the name of one of its operations, or none`
        : 'The document has several operations: send operationName to say which one to run',
      { extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } } },
    );
  }
  try {
    return getComplexity({
      schema,
      query: document,
      variables,
      operationName: operationName ?? undefined,
      estimators: [pageAwareEstimator],
    });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    throw new GraphQLError(error.message, {
      nodes: error.nodes,
      extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
    });
  }
}

export function tooComplex(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(
    `This query would cost ${cost} points; the limit is ${maxCost}. Ask for smaller pages (first) or fewer nested lists.`,
    {
      extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, cost, maxCost, http: { status: 400 } },
    },
  );
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
  return found
    ? new GraphQLError('Text must not contain NUL characters (\\u0000)', {
        extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
      })
    : null;
}

/**
 * The checks run once a document is valid, before it executes (both transports): no NUL characters,
 * variables that fit, and a cost within MAX_QUERY_COST. Throws the GraphQLError to answer with.
 */
export function checkOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  maxCost: number,
): void {
  const nul = nulCharacterError(document, variables);
  if (nul) throw nul;
  const cost = operationCost(schema, document, variables, operationName);
  if (cost > maxCost) throw tooComplex(cost, maxCost);
}

/** graphql-armor words its refusals as "Syntax Error: …" although the document parsed: report them as the limits they are. */
function reportLimit(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(
    new GraphQLError(error.message.replace(/^Syntax Error:\s*/, ''), {
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    }),
  );
}
const asLimit = { propagateOnRejection: false, onReject: [reportLimit] };

/** With INTROSPECTION=false (the default in production): no __schema or __type, over either transport. */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(
        new GraphQLError('Introspection (__schema, __type) is turned off on this server', { nodes: [node] }),
      );
    }
  },
});

/** The root fields a selection set selects, through fragments (each fragment once: cycles are another rule's error). */
function rootFields(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  seen = new Set<string>(),
): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(context, selection.selectionSet, seen);
    if (seen.has(selection.name.value)) return [];
    seen.add(selection.name.value);
    const fragment = context.getFragment(selection.name.value);
    return fragment ? rootFields(context, fragment.selectionSet, seen) : [];
  });
}

/**
 * One mutation field per document. Each mutation field commits in its own transaction, so a document with
 * two could commit the first and fail the second; refusing it means a request either changed one thing or
 * nothing. (`__typename` changes nothing and is allowed beside it.)
 */
const oneMutationField: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (operation.operation !== 'mutation') return;
    const fields = rootFields(context, operation.selectionSet).filter(
      (field) => !field.name.value.startsWith('__'),
    );
    if (fields.length <= 1) return;
    const names = fields.map((field) =>
      field.alias ? `${field.alias.value}: ${field.name.value}` : field.name.value,
    );
    const listed =
      names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
    context.reportError(
      new GraphQLError(
        `A mutation document may hold only one mutation field; this one has ${fields.length} (${listed}). Send each as its own request.`,
        { nodes: fields },
      ),
    );
  },
});

/**
 * Limits applied before anything executes, the same over HTTP and WebSocket: depth, aliases, directives
 * (graphql-armor validation rules), one mutation field, introspection when it is off, tokens (graphql-js's
 * own parse option) and cost (graphql-query-complexity, checkOperation).
 */
export function queryLimits(config: Config) {
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxDepth, ...asLimit },
    maxAliases: { n: config.maxAliases, ...asLimit },
    maxDirectives: { n: 20, ...asLimit },
    // graphql-armor's token plugin throws from parsingDidStart, which Apollo treats as an unexpected
    // error (HTTP 500); graphql-js's parse option gives a GRAPHQL_PARSE_FAILED 400 instead (see parseOptions).
    maxTokens: { enabled: false },
    // Cost is computed with page sizes below; armor's static cost limit would double-count.
    costLimit: { enabled: false },
    // armor's mask only matches 'Did you mean "x"', not enum hints ('Did you mean the enum value "X"?'),
    // and only over HTTP: the shared error formatter (transport/format-error.ts) hides both, on both transports.
    blockFieldSuggestion: { enabled: false },
  });
  const { plugins, validationRules } = armor.protect();
  const costPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          checkOperation(schema, document, request.variables, request.operationName, config.maxCost);
        },
      };
    },
  };
  return {
    plugins: [...plugins, costPlugin],
    validationRules: [
      ...(validationRules as ValidationRule[]),
      oneMutationField,
      ...(config.introspection ? [] : [noIntrospection]),
    ],
    parseOptions: { maxTokens: config.maxTokens },
  };
}

/** Removes graphql-js's "Did you mean …?" hints (field, argument, type and enum value names reveal the schema). */
export function hideSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^?]*\?/g, '');
}
