import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DataSource } from 'typeorm';

/** Prometheus metrics of one server (its own registry, so several servers can share a process in tests). */
export function createMetrics(db: DataSource, activeSubscriptions: () => number, queuedQueries: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL request duration by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({ name: 'graphql_errors_total', help: 'GraphQL errors by code.', labelNames: ['code'] as const, registers: [registry] });
  const alertLatency = new Histogram({
    name: 'alert_delivery_latency_seconds',
    help: 'From the alert being recorded (commit) to it being handed to a subscriber.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [registry],
  });
  new Gauge({ name: 'graphql_active_subscriptions', help: 'Open exposureAlerts subscriptions on this instance.', registers: [registry], collect() { this.set(activeSubscriptions()); } });
  new Gauge({ name: 'graphql_queued_queries', help: 'Queries waiting for one of the MAX_CONCURRENT_QUERIES slots on this instance.', registers: [registry], collect() { this.set(queuedQueries()); } });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pool = (db.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  return { registry, requestDuration, errors, alertLatency };
}

export type Metrics = ReturnType<typeof createMetrics>;
