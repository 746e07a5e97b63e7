import path from 'node:path';

/**
 * Every environment variable the service reads, parsed and validated once.
 * Anything invalid stops start-up with a message that says which variable and why.
 */
export type Environment = 'development' | 'test' | 'production';

export interface Config {
  env: Environment;
  port: number;
  /** The API's own database role: it owns nothing and holds only the grants src/db/roles.ts gives it. Unset: start an embedded PostgreSQL under .data/ (development convenience). */
  databaseUrl: string | undefined;
  /** The owner's role, for migrations, grants and seeds; unset: DATABASE_URL does both. */
  migrationDatabaseUrl: string | undefined;
  /** Where the embedded PostgreSQL keeps its data, and its port (only without DATABASE_URL). */
  embeddedPgDataDir: string;
  embeddedPgPort: number;
  jwtSecret: string | undefined;
  jwtJwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  /** Longest lifetime a token may have (exp − iat, or exp − now without iat); longer ones are refused. */
  jwtMaxLifetimeSeconds: number;
  logLevel: string;
  /** Introspection and GraphiQL; default on outside production. */
  introspection: boolean;
  graphiql: boolean;
  dbPoolMax: number;
  statementTimeoutMs: number;
  /**
   * How many times a mutation that opts in (TransactionalConnection.transaction's retryOnConflict) runs its
   * transaction when PostgreSQL aborts it as a deadlock or serialization failure; 1 runs it once.
   */
  conflictAttempts: number;
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
  /** Plan a nested read's connections into one SQL statement (modules/nested-read); false: one statement per level. */
  nestedReadPlanning: boolean;
  /** How far V8 lets the old generation grow past the live heap before its next full collection, in percent (src/main.ts); 0: V8's own choice. */
  heapGrowingPercent: number;
  /** How often each instance checks whether a daily job is due (src/modules/schedule); 0 turns them off. */
  dailyJobsIntervalMs: number;
  /** How often each instance ticks the obligation reminders job (DUE_SOON, OVERDUE alerts); 0 turns it off. */
  remindersIntervalMs: number;
  /** Open subscriptions allowed on one WebSocket, and for one token subject across this instance's sockets. */
  wsMaxSubscriptionsPerSocket: number;
  wsMaxSubscriptionsPerSubject: number;
  /** Port of the Prometheus /metrics listener, kept off the API's port; undefined: no metrics are served. 0: any free port (tests). */
  metricsPort: number | undefined;
  /** Webhooks (src/modules/webhook): deliveries to loopback and private addresses are allowed (development, tests). */
  webhookAllowPrivateTargets: boolean;
  /** One delivery attempt's deadline: connect, TLS, headers and the (capped) body together. */
  webhookTimeoutMs: number;
  /** Retry schedule: the first retry after about WEBHOOK_RETRY_BASE, doubling up to WEBHOOK_RETRY_MAX_DELAY (with jitter), until WEBHOOK_RETRY_WINDOW after the first failure; then the endpoint is disabled. */
  webhookRetryBaseSeconds: number;
  webhookRetryMaxDelaySeconds: number;
  webhookRetryWindowSeconds: number;
  /** How long a rotated-out secret keeps signing alongside the new one. */
  webhookSecretOverlapSeconds: number;
  /** How often this instance's delivery worker looks for due work (new alerts also wake it); 0: no worker here. */
  webhookPollMs: number;
  /** Endpoints this instance delivers to at once. */
  webhookConcurrency: number;
  /** How long delivery attempts (webhookDeliveries) are kept; older ones are pruned by a daily job. */
  webhookDeliveryRetentionSeconds: number;
  /** Largest file POST /imports accepts (its own limit: BODY_LIMIT_BYTES is for GraphQL documents). */
  importMaxBytes: number;
  /** Bytes an uploaded archive (an .xlsx is a zip) may unpack to, counted as it inflates: the zip-bomb guard. */
  importMaxUnpackedBytes: number;
  /** Files larger than this are imported as a job: POST /imports answers 202 { jobId } at once (importJob in GraphQL). */
  importJobThresholdBytes: number;
}

/** The development secret used when JWT_SECRET is unset outside production. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "90s", "30m", "24h", "7d", "1w" or a bare number of seconds, as whole seconds; null when it is none of these. */
export function parseDurationSeconds(raw: string): number | null {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(raw.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * DURATION_UNITS[match[2] || 's'];
  return Number.isSafeInteger(seconds) ? seconds : null;
}

function duration(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const seconds = parseDurationSeconds(raw);
  if (seconds === null || seconds < min || seconds > max) {
    throw new Error(
      `${name} must be a duration from ${min} s to ${max / 86400} days such as 30m, 12h or 7d, got "${raw}"`,
    );
  }
  return seconds;
}

/** The default JWT_MAX_LIFETIME: tokens that live longer are refused. */
export const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 24 * 3600;

/** JWT_MAX_LIFETIME in seconds (also read by `npm run token`, which mints nothing the API would refuse). */
export function jwtMaxLifetimeSeconds(source: NodeJS.ProcessEnv): number {
  return duration(
    'JWT_MAX_LIFETIME',
    source.JWT_MAX_LIFETIME,
    DEFAULT_JWT_MAX_LIFETIME_SECONDS,
    60,
    366 * 86400,
  );
}

function databaseUrlOf(name: string, raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} is not a URL: write it as postgres://user:password@host:5432/database`);
  }
  if (!['postgres:', 'postgresql:'].includes(url.protocol))
    throw new Error(`${name} must start with postgres:// (got ${url.protocol}//)`);
  return raw;
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * HEAP_GROWING_PERCENT (src/heap-growth.ts), for the server and for `npm run import`, which reads no other
 * setting. Unset, the server uses 50 and the import 25 (IMPORT_HEAP_GROWING_PERCENT): an import's live heap
 * grows steadily while exceljs's reader makes garbage at a high rate, and the tighter bound kept its peak
 * well under 400 MB for the large register at the cost of more frequent, smaller full collections
 * (docs/performance.md, "The import's peak RSS" and "The import against COPY, in turns").
 */
export function heapGrowingPercent(source: NodeJS.ProcessEnv, fallback = 50): number {
  return int('HEAP_GROWING_PERCENT', source.HEAP_GROWING_PERCENT, fallback, 0, 300);
}

export const IMPORT_HEAP_GROWING_PERCENT = 25;

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const rawEnv = source.NODE_ENV ?? 'development';
  const env: Environment =
    rawEnv === 'production' ? 'production' : rawEnv === 'test' ? 'test' : 'development';
  const jwtSecret = source.JWT_SECRET || undefined;
  const jwtJwksUrl = source.JWT_JWKS_URL || undefined;
  if (env === 'production' && !jwtSecret && !jwtJwksUrl) {
    throw new Error(
      'In production set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256): refusing to start without a way to verify tokens',
    );
  }
  if (jwtSecret && jwtSecret.length < 32) {
    throw new Error('JWT_SECRET must be at least 32 characters long');
  }
  if (jwtJwksUrl) {
    let url: URL;
    try {
      url = new URL(jwtJwksUrl);
    } catch {
      throw new Error(`JWT_JWKS_URL is not a URL: "${jwtJwksUrl}"`);
    }
    // Over plain HTTP anyone on the path could hand the API their own keys, and with them any token.
    if (env === 'production' && url.protocol !== 'https:') {
      throw new Error(
        `JWT_JWKS_URL must be an https:// URL in production (got ${url.protocol}//): the key set decides which tokens are genuine`,
      );
    }
  }
  const databaseUrl = databaseUrlOf('DATABASE_URL', source.DATABASE_URL);
  if (env === 'production' && !databaseUrl) {
    throw new Error('In production set DATABASE_URL: the embedded PostgreSQL is for development only');
  }
  const port = int('PORT', source.PORT, 4000, 0, 65535);
  const metricsPort = source.METRICS_PORT ? int('METRICS_PORT', source.METRICS_PORT, 0, 0, 65535) : undefined;
  if (metricsPort && metricsPort === port) {
    throw new Error(
      `METRICS_PORT must differ from PORT (${port}): metrics are served on their own port, away from the API`,
    );
  }
  const migrationDatabaseUrl = databaseUrlOf('MIGRATION_DATABASE_URL', source.MIGRATION_DATABASE_URL);
  if (migrationDatabaseUrl && !databaseUrl) {
    throw new Error(
      "MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set DATABASE_URL to the API's own role on the same database (the embedded PostgreSQL sets up both roles itself)",
    );
  }
  if (migrationDatabaseUrl && (!new URL(migrationDatabaseUrl).username || !new URL(databaseUrl!).username)) {
    throw new Error(
      "With MIGRATION_DATABASE_URL set, both it and DATABASE_URL must name their user (postgres://user:password@host:5432/database): the owner grants the API's role by name",
    );
  }
  return {
    env,
    port,
    databaseUrl,
    migrationDatabaseUrl,
    embeddedPgDataDir: path.resolve(source.EMBEDDED_PG_DATA_DIR || path.join('.data', 'postgres')),
    embeddedPgPort: int('EMBEDDED_PG_PORT', source.EMBEDDED_PG_PORT, 25432, 1, 65535),
    jwtSecret: jwtSecret ?? (jwtJwksUrl ? undefined : DEVELOPMENT_JWT_SECRET),
    jwtJwksUrl,
    jwtIssuer: source.JWT_ISSUER || undefined,
    jwtAudience: source.JWT_AUDIENCE || undefined,
    jwtMaxLifetimeSeconds: jwtMaxLifetimeSeconds(source),
    logLevel: source.LOG_LEVEL || (env === 'test' ? 'silent' : 'info'),
    introspection: bool('INTROSPECTION', source.INTROSPECTION, env !== 'production'),
    graphiql: bool('GRAPHIQL', source.GRAPHIQL, env !== 'production'),
    dbPoolMax: int('DB_POOL_MAX', source.DB_POOL_MAX, 10, 1, 500),
    statementTimeoutMs: int('DB_STATEMENT_TIMEOUT_MS', source.DB_STATEMENT_TIMEOUT_MS, 15000, 100, 600000),
    conflictAttempts: int('DB_CONFLICT_ATTEMPTS', source.DB_CONFLICT_ATTEMPTS, 3, 1, 10),
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
    importMaxBytes: int(
      'IMPORT_MAX_BYTES',
      source.IMPORT_MAX_BYTES,
      50 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    importMaxUnpackedBytes: int(
      'IMPORT_MAX_UNPACKED_BYTES',
      source.IMPORT_MAX_UNPACKED_BYTES,
      300 * 1024 * 1024,
      1024,
      4 * 1024 * 1024 * 1024,
    ),
    importJobThresholdBytes: int(
      'IMPORT_JOB_THRESHOLD_BYTES',
      source.IMPORT_JOB_THRESHOLD_BYTES,
      2 * 1024 * 1024,
      0,
      1024 * 1024 * 1024,
    ),
    maxConcurrentQueries: int('MAX_CONCURRENT_QUERIES', source.MAX_CONCURRENT_QUERIES, 4, 1, 1000),
    nestedReadPlanning: bool('NESTED_READ_PLANNING', source.NESTED_READ_PLANNING, true),
    heapGrowingPercent: heapGrowingPercent(source),
    dailyJobsIntervalMs: int('DAILY_JOBS_INTERVAL_MS', source.DAILY_JOBS_INTERVAL_MS, 60_000, 0, 86_400_000),
    remindersIntervalMs: int('REMINDERS_INTERVAL_MS', source.REMINDERS_INTERVAL_MS, 60_000, 0, 3_600_000),
    wsMaxSubscriptionsPerSocket: int(
      'WS_MAX_SUBSCRIPTIONS_PER_SOCKET',
      source.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      20,
      1,
      10_000,
    ),
    wsMaxSubscriptionsPerSubject: int(
      'WS_MAX_SUBSCRIPTIONS_PER_SUBJECT',
      source.WS_MAX_SUBSCRIPTIONS_PER_SUBJECT,
      100,
      1,
      1_000_000,
    ),
    metricsPort,
    webhookAllowPrivateTargets: bool(
      'WEBHOOK_ALLOW_PRIVATE_TARGETS',
      source.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      false,
    ),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', source.WEBHOOK_TIMEOUT_MS, 10_000, 100, 60_000),
    webhookRetryBaseSeconds: duration('WEBHOOK_RETRY_BASE', source.WEBHOOK_RETRY_BASE, 10, 1, 3600),
    webhookRetryMaxDelaySeconds: duration(
      'WEBHOOK_RETRY_MAX_DELAY',
      source.WEBHOOK_RETRY_MAX_DELAY,
      4 * 3600,
      1,
      86400,
    ),
    webhookRetryWindowSeconds: duration(
      'WEBHOOK_RETRY_WINDOW',
      source.WEBHOOK_RETRY_WINDOW,
      24 * 3600,
      60,
      30 * 86400,
    ),
    webhookSecretOverlapSeconds: duration(
      'WEBHOOK_SECRET_OVERLAP',
      source.WEBHOOK_SECRET_OVERLAP,
      24 * 3600,
      0,
      30 * 86400,
    ),
    webhookPollMs: int('WEBHOOK_POLL_MS', source.WEBHOOK_POLL_MS, 1000, 0, 600_000),
    webhookConcurrency: int('WEBHOOK_CONCURRENCY', source.WEBHOOK_CONCURRENCY, 16, 1, 1000),
    webhookDeliveryRetentionSeconds: duration(
      'WEBHOOK_DELIVERY_RETENTION',
      source.WEBHOOK_DELIVERY_RETENTION,
      30 * 86400,
      86400,
      3650 * 86400,
    ),
  };
}
