import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, LocalDateResolver } from 'graphql-scalars';

/**
 * Nothing in a supplier register happened before 1900: an earlier year is a typing mistake, and year 0000
 * (which ISO 8601 allows) would reach PostgreSQL as 1 BC, or fail there. After 9999 an instant no longer
 * writes as a four-digit ISO year (9999-12-31T23:00:00-14:00 is in 10000). Refused where the value is parsed.
 */
export const EARLIEST_YEAR = 1900;
export const LATEST_YEAR = 9999;

function withinYears<T extends Date | string>(
  scalar: string,
  parse: (value: unknown) => T,
): (value: unknown) => T {
  return (value) => {
    const parsed = parse(value);
    const year = parsed instanceof Date ? parsed.getUTCFullYear() : Number(parsed.slice(0, 4));
    if (year < EARLIEST_YEAR || year > LATEST_YEAR) {
      throw new GraphQLError(
        `${scalar} must be in the years ${EARLIEST_YEAR} to ${LATEST_YEAR} (UTC); got ${parsed instanceof Date ? parsed.toISOString() : parsed}`,
      );
    }
    return parsed;
  };
}

const DATE_TIME = DateTimeResolver.toConfig();
const LOCAL_DATE = LocalDateResolver.toConfig();

/** ISO 8601 instant with offset. graphql-scalars rejects impossible instants such as 2023-02-30T00:00:00Z. */
export const DateTimeScalar = new GraphQLScalarType({
  ...DATE_TIME,
  name: 'DateTime',
  description: `An ISO 8601 instant with an offset, e.g. 2023-03-22T00:00:00Z, in the years ${EARLIEST_YEAR} to ${LATEST_YEAR} (UTC). Returned in UTC.`,
  parseValue: withinYears('DateTime', (value) => DATE_TIME.parseValue!(value) as Date),
  parseLiteral: withinYears('DateTime', (ast) => DATE_TIME.parseLiteral!(ast as never, undefined) as Date),
});

/** Calendar date; graphql-scalars' LocalDate checks the calendar (no 2023-02-30), renamed to the contract's `Date`. */
export const DateScalar = new GraphQLScalarType({
  ...LOCAL_DATE,
  name: 'Date',
  description: `An ISO 8601 calendar date, e.g. 2023-07-31, in the years ${EARLIEST_YEAR} to ${LATEST_YEAR}. Dates are whole UTC days.`,
  serialize(value: unknown) {
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    return LocalDateResolver.serialize(value);
  },
  parseValue: withinYears('Date', (value) => LOCAL_DATE.parseValue!(value) as string),
  parseLiteral: withinYears('Date', (ast) => LOCAL_DATE.parseLiteral!(ast as never, undefined) as string),
});

const DECIMAL = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?$/;

function parseDecimal(value: unknown): string {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw new GraphQLError(
      `Decimal must be a number with at most 16 integer digits and 2 decimals, written as a string such as "550000000.00"; got ${JSON.stringify(value)}`,
    );
  }
  return text;
}

/** Exact decimal carried as a string so money never passes through a float. */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description:
    'An exact decimal number serialised as a string, e.g. "550000000.00" (at most 16 integer digits and 2 decimals).',
  serialize: (value) => String(value),
  parseValue: parseDecimal,
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT)
      return parseDecimal(ast.value);
    throw new GraphQLError('Decimal must be written as a string, e.g. "550000000.00"');
  },
});
