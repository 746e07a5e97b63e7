import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, LocalDateResolver } from 'graphql-scalars';

/** ISO 8601 instant with offset. graphql-scalars rejects impossible instants such as 2023-02-30T00:00:00Z. */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  name: 'DateTime',
  description: 'An ISO 8601 instant with an offset, e.g. 2023-03-22T00:00:00Z. Returned in UTC.',
});

/** Calendar date; graphql-scalars' LocalDate checks the calendar (no 2023-02-30), renamed to the contract's `Date`. */
export const DateScalar = new GraphQLScalarType({
  ...LocalDateResolver.toConfig(),
  name: 'Date',
  description: 'An ISO 8601 calendar date, e.g. 2023-07-31. Dates are whole UTC days.',
  serialize(value: unknown) {
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    return LocalDateResolver.serialize(value);
  },
});

const DECIMAL = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$/;

function parseDecimal(value: unknown): string {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw new GraphQLError(`Decimal must be a number with at most 16 integer digits and 2 decimals, written as a string such as "550000000.00"; got ${JSON.stringify(value)}`);
  }
  return text;
}

/** Exact decimal carried as a string so money never passes through a float. */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number serialised as a string, e.g. "550000000.00" (at most 16 integer digits and 2 decimals).',
  serialize: (value) => String(value),
  parseValue: parseDecimal,
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parseDecimal(ast.value);
    throw new GraphQLError('Decimal must be written as a string, e.g. "550000000.00"');
  },
});
