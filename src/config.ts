/**
 * Every environment variable the service reads, parsed and validated once.
 * Anything invalid stops start-up with a message that says which variable and why.
 */
export type Environment = 'development' | 'test' | 'production';

export interface Config {
  env: Environment;
  port: number;
  /** Unset: start an embedded PostgreSQL under .data/ (development convenience). */
  databaseUrl: string | undefined;
  jwtSecret: string | undefined;
  jwtJwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  logLevel: string;
  /** Introspection and GraphiQL; default on outside production. */
  introspection: boolean;
  graphiql: boolean;
  dbPoolMax: number;
  statementTimeoutMs: number;
  /** Per-subscription bound on queued alerts; a subscriber that falls further behind is ended (it can resume with `after`). */
  alertQueueMax: number;
  /** How often each instance checks its LISTEN connection and catches up on alerts. */
  alertPollMs: number;
  /** WebSocket ping interval; keep it below load balancers' idle timeouts. */
  wsKeepAliveMs: number;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  /** "Did you mean …?" hints in validation errors; off in production by default (they reveal the schema). */
  fieldSuggestions: boolean;
  /** Requests per minute per token subject and instance; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Largest accepted request body. */
  bodyLimitBytes: number;
  /** Queries executing at once per instance; more wait their turn (security/query-slots.ts). */
  maxConcurrentQueries: number;
  /** How often each instance checks whether a daily job is due (src/modules/schedule); 0 turns them off. */
  dailyJobsIntervalMs: number;
  /** Open subscriptions allowed on one WebSocket, and for one token subject across this instance's sockets. */
  wsMaxSubscriptionsPerSocket: number;
  wsMaxSubscriptionsPerSubject: number;
  /** Port of the Prometheus /metrics listener, kept off the API's port; undefined: no metrics are served. 0: any free port (tests). */
  metricsPort: number | undefined;
}

/** The development secret used when JWT_SECRET is unset outside production. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const rawEnv = source.NODE_ENV ?? 'development';
  const env: Environment = rawEnv === 'production' ? 'production' : rawEnv === 'test' ? 'test' : 'development';
  const jwtSecret = source.JWT_SECRET || undefined;
  const jwtJwksUrl = source.JWT_JWKS_URL || undefined;
  if (env === 'production' && !jwtSecret && !jwtJwksUrl) {
    throw new Error('In production set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256): refusing to start without a way to verify tokens');
  }
  if (jwtSecret && jwtSecret.length < 32) {
    throw new Error('JWT_SECRET must be at least 32 characters long');
  }
  if (jwtJwksUrl) {
    try {
      new URL(jwtJwksUrl);
    } catch {
      throw new Error(`JWT_JWKS_URL is not a URL: "${jwtJwksUrl}"`);
    }
  }
  const databaseUrl = source.DATABASE_URL || undefined;
  if (env === 'production' && !databaseUrl) {
    throw new Error('In production set DATABASE_URL: the embedded PostgreSQL is for development only');
  }
  const port = int('PORT', source.PORT, 4000, 0, 65535);
  const metricsPort = source.METRICS_PORT ? int('METRICS_PORT', source.METRICS_PORT, 0, 0, 65535) : undefined;
  if (metricsPort && metricsPort === port) {
    throw new Error(`METRICS_PORT must differ from PORT (${port}): metrics are served on their own port, away from the API`);
  }
  return {
    env,
    port,
    databaseUrl,
    jwtSecret: jwtSecret ?? (jwtJwksUrl ? undefined : DEVELOPMENT_JWT_SECRET),
    jwtJwksUrl,
    jwtIssuer: source.JWT_ISSUER || undefined,
    jwtAudience: source.JWT_AUDIENCE || undefined,
    logLevel: source.LOG_LEVEL || (env === 'test' ? 'silent' : 'info'),
    introspection: bool('INTROSPECTION', source.INTROSPECTION, env !== 'production'),
    graphiql: bool('GRAPHIQL', source.GRAPHIQL, env !== 'production'),
    dbPoolMax: int('DB_POOL_MAX', source.DB_POOL_MAX, 10, 1, 500),
    statementTimeoutMs: int('DB_STATEMENT_TIMEOUT_MS', source.DB_STATEMENT_TIMEOUT_MS, 15000, 100, 600000),
    alertQueueMax: int('ALERT_QUEUE_MAX', source.ALERT_QUEUE_MAX, 1000, 1, 1_000_000),
    alertPollMs: int('ALERT_POLL_MS', source.ALERT_POLL_MS, 2000, 50, 60000),
    wsKeepAliveMs: int('WS_KEEPALIVE_MS', source.WS_KEEPALIVE_MS, 12000, 1000, 600000),
    maxDepth: int('MAX_QUERY_DEPTH', source.MAX_QUERY_DEPTH, 15, 2, 100),
    maxAliases: int('MAX_QUERY_ALIASES', source.MAX_QUERY_ALIASES, 15, 0, 1000),
    maxTokens: int('MAX_QUERY_TOKENS', source.MAX_QUERY_TOKENS, 3000, 50, 100000),
    maxCost: int('MAX_QUERY_COST', source.MAX_QUERY_COST, 25000, 10, 10_000_000),
    fieldSuggestions: bool('FIELD_SUGGESTIONS', source.FIELD_SUGGESTIONS, env !== 'production'),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', source.RATE_LIMIT_PER_MINUTE, 1200, 0, 10_000_000),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', source.BODY_LIMIT_BYTES, 102400, 1024, 10 * 1024 * 1024),
    maxConcurrentQueries: int('MAX_CONCURRENT_QUERIES', source.MAX_CONCURRENT_QUERIES, 4, 1, 1000),
    dailyJobsIntervalMs: int('DAILY_JOBS_INTERVAL_MS', source.DAILY_JOBS_INTERVAL_MS, 60_000, 0, 86_400_000),
    wsMaxSubscriptionsPerSocket: int('WS_MAX_SUBSCRIPTIONS_PER_SOCKET', source.WS_MAX_SUBSCRIPTIONS_PER_SOCKET, 20, 1, 10_000),
    wsMaxSubscriptionsPerSubject: int('WS_MAX_SUBSCRIPTIONS_PER_SUBJECT', source.WS_MAX_SUBSCRIPTIONS_PER_SUBJECT, 100, 1, 1_000_000),
    metricsPort,
  };
}
