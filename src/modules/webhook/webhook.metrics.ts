import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { encodeGlobalId } from '../../common/global-id';
import { OLDEST_PENDING_ALERT, OLDEST_PENDING_AT } from './webhook.delivery';

/**
 * Webhook metrics. Outcomes are a fixed list. The oldest undelivered alert's age is given per endpoint
 * (label `endpoint`: its global ID, as node(id:) and webhookEndpoints show it), one series per enabled
 * endpoint: bounded, since a client may have at most MAX_WEBHOOK_ENDPOINTS_PER_CLIENT and only admins add
 * clients; removed and disabled endpoints' series go (the gauge is rebuilt at each scrape). The label is
 * an opaque ID, nothing of the client's; /metrics is served only on METRICS_PORT. The maximum over all
 * endpoints and the number behind are beside it, for one alert rule.
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
  type Ages = { endpoint: string; age: number | null }[];
  const readAges = async (): Promise<Ages> => {
    const rows: { id: string; age: number | null }[] = await db.query(
      `SELECT e.id, extract(epoch FROM clock_timestamp() - ${OLDEST_PENDING_AT})::float8 AS age
       FROM webhook_endpoint e ${OLDEST_PENDING_ALERT}
       WHERE e.enabled`,
    );
    return rows.map((row) => ({ endpoint: encodeGlobalId('WebhookEndpoint', row.id), age: row.age }));
  };
  // The three gauges come from one query per scrape; the others wait on the first one's result.
  let reading: Promise<Ages> | null = null;
  const ages = () => (reading ??= readAges().finally(() => setTimeout(() => (reading = null), 0)));
  new Gauge({
    name: 'webhook_endpoint_oldest_undelivered_alert_age_seconds',
    help: 'Per enabled endpoint: age of the oldest alert it has not acknowledged yet (0: none waiting).',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    async collect() {
      const rows = await ages().catch(() => null);
      this.reset();
      for (const row of rows ?? []) this.set({ endpoint: row.endpoint }, row.age ?? 0);
    },
  });
  new Gauge({
    name: 'webhook_oldest_undelivered_alert_age_seconds',
    help: 'Age of the oldest alert an enabled endpoint has not acknowledged yet, over all endpoints (0: none).',
    registers: [registry],
    async collect() {
      const rows = await ages().catch(() => null);
      this.set(rows ? Math.max(0, ...rows.map((row) => row.age ?? 0)) : NaN);
    },
  });
  new Gauge({
    name: 'webhook_endpoints_behind',
    help: 'Enabled endpoints with at least one alert not yet acknowledged.',
    registers: [registry],
    async collect() {
      const rows = await ages().catch(() => null);
      this.set(rows ? rows.filter((row) => row.age !== null).length : NaN);
    },
  });
  return { deliveries, disabled, latency };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
