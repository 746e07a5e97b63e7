import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';

/**
 * Operation names become label values, and a caller picks them: each new name would be a new series on
 * every bucket. The first OPERATION_LABELS names this instance sees are labelled as they are (a portal and
 * GraphiQL send a handful); later new names are counted as "other", so the series stay bounded.
 */
export const OPERATION_LABELS = 100;

/** Prometheus metrics of one server (its own registry, so several servers can share a process in tests). */
export function createMetrics(
  db: DataSource,
  activeSubscriptions: () => number,
  queuedQueries: () => number,
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL request duration by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors by code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const alertLatency = new Histogram({
    name: 'alert_delivery_latency_seconds',
    help: 'From the alert being recorded (commit) to it being handed to a subscriber.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'graphql_active_subscriptions',
    help: 'Open exposureAlerts subscriptions on this instance.',
    registers: [registry],
    collect() {
      this.set(activeSubscriptions());
    },
  });
  new Gauge({
    name: 'graphql_queued_queries',
    help: 'Queries waiting for one of the MAX_CONCURRENT_QUERIES slots on this instance.',
    registers: [registry],
    collect() {
      this.set(queuedQueries());
    },
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pool = (
        db.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }
      ).master;
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  const labelled = new Set<string>();
  const operationLabel = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (labelled.has(name)) return name;
    if (labelled.size >= OPERATION_LABELS) return 'other';
    labelled.add(name);
    return name;
  };
  const observeRequest = (operationName: string | null | undefined, type: string, seconds: number) =>
    requestDuration.observe({ operation: operationLabel(operationName), type }, seconds);
  return { registry, observeRequest, errors, alertLatency };
}

export type Metrics = ReturnType<typeof createMetrics>;

export interface OperationRecord {
  requestId: string;
  /** `http` or `websocket`. */
  transport: string;
  operationName: string | null | undefined;
  operationType: string;
  durationMs: number;
  sqlStatements: number;
  errorCodes: string[];
}

/**
 * One log line and one duration sample per GraphQL operation, whichever transport carried it. No query
 * text or variables: they may hold personal data. (graphql_errors_total is counted where errors are
 * formatted, transport/format-error.ts, which also sees errors answered before an operation is known.)
 */
export function recordOperation(metrics: Metrics, logger: Logger, record: OperationRecord): void {
  metrics.observeRequest(record.operationName, record.operationType, record.durationMs / 1000);
  logger.info(record, 'graphql request');
}
