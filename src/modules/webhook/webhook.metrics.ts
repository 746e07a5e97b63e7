import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { OLDEST_PENDING_ALERT, OLDEST_PENDING_AT } from './webhook.delivery';

/**
 * Webhook metrics. Labels are bounded: outcomes are a fixed list, and nothing is labelled by endpoint,
 * since endpoints are created by clients through the API (one series each would let any client grow the
 * scrape without bound). The oldest undelivered alert's age is therefore the maximum over enabled endpoints,
 * with the number of endpoints behind beside it; which endpoint it is, and each endpoint's own oldest
 * undelivered alert, are in the API (WebhookEndpoint.oldestUndeliveredAlertAt, webhookEndpoints(filter)).
 */
export function createWebhookMetrics(registry: Registry, db: DataSource) {
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (SUCCESS, HTTP_ERROR, TIMEOUT, NETWORK_ERROR, REFUSED_TARGET).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const disabled = new Counter({
    name: 'webhook_endpoints_disabled_total',
    help: 'Endpoints disabled because deliveries kept failing for the whole retry window.',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'webhook_delivery_latency_seconds',
    help: 'From the alert being recorded (commit) to the endpoint acknowledging it (2xx).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600, 86400],
    registers: [registry],
  });
  const readAges = async () => {
    const [row] = await db.query(
      `SELECT coalesce(extract(epoch FROM clock_timestamp() - min(${OLDEST_PENDING_AT})), 0)::float8 AS age,
              count(${OLDEST_PENDING_AT})::int AS behind
       FROM webhook_endpoint e ${OLDEST_PENDING_ALERT}
       WHERE e.enabled`,
    );
    return row as { age: number; behind: number };
  };
  // Both gauges come from one query per scrape; the second waits on the first's result.
  let reading: Promise<{ age: number; behind: number }> | null = null;
  const ages = () => (reading ??= readAges().finally(() => setTimeout(() => (reading = null), 0)));
  new Gauge({
    name: 'webhook_oldest_undelivered_alert_age_seconds',
    help: 'Age of the oldest alert an enabled endpoint has not acknowledged yet, over all endpoints (0: none).',
    registers: [registry],
    async collect() {
      this.set((await ages().catch(() => ({ age: NaN }))).age);
    },
  });
  new Gauge({
    name: 'webhook_endpoints_behind',
    help: 'Enabled endpoints with at least one alert not yet acknowledged.',
    registers: [registry],
    async collect() {
      this.set((await ages().catch(() => ({ behind: NaN }))).behind);
    },
  });
  return { deliveries, disabled, latency };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
