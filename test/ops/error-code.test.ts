import { ErrorCode, isErrorCode, shownAsIs } from '../../src/common/error-code';

/**
 * The one mapping of error codes (src/common/error-code.ts). The codes shown to clients as they are is a
 * committed list: a change to it is a change of what clients see, made here on purpose.
 */
describe('ErrorCode', () => {
  it('shows expected errors as they are and leaves outages and faults to the formatter', () => {
    const shown = Object.values(ErrorCode).filter((code) => shownAsIs(code));
    expect(shown).toEqual([
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'BAD_USER_INPUT',
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'BAD_REQUEST',
      'PERSISTED_QUERY_NOT_FOUND',
      'OPERATION_RESOLUTION_FAILURE',
      'QUERY_TOO_COMPLEX',
      'RATE_LIMITED',
      'SUBSCRIBER_TOO_SLOW',
      'TOO_MANY_SUBSCRIPTIONS',
    ]);
    expect(Object.values(ErrorCode).filter((code) => !shownAsIs(code))).toEqual([
      'SERVICE_UNAVAILABLE',
      'CONFLICT',
      'INTERNAL_SERVER_ERROR',
    ]);
  });

  it('knows its own codes and nothing else', () => {
    expect(Object.values(ErrorCode).every(isErrorCode)).toBe(true);
    expect(
      [undefined, 42, 'INVALID', 'unauthenticated', 'PERSISTED_QUERY_NOT_SUPPORTED'].some(isErrorCode),
    ).toBe(false);
  });
});
