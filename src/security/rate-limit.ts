import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode } from '../common/error-code';

/**
 * Requests per minute per token subject, per instance (rate-limiter-flexible's in-memory limiter:
 * with N instances behind a balancer a subject gets up to N times the limit). 0 disables it.
 */
export function createRateLimiter(perMinute: number) {
  if (perMinute <= 0) return { consume: async (_subject: string) => undefined };
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return {
    async consume(subject: string): Promise<void> {
      try {
        await limiter.consume(subject);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new GraphQLError(
          `Too many requests: the limit is ${perMinute} per minute per token subject. Retry after ${retryAfterSeconds} s.`,
          {
            extensions: {
              code: ErrorCode.RATE_LIMITED,
              retryAfterSeconds,
              http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
            },
          },
        );
      }
    },
  };
}
