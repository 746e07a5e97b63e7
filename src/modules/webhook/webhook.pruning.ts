import type { DailyJob } from '../schedule/daily-jobs';

/**
 * Delivery history is kept for WEBHOOK_DELIVERY_RETENTION: attempts older than that are deleted once a
 * day by one instance (DailyJobRunner locks the job's row with SKIP LOCKED, so several instances never
 * prune at once, and a day is pruned once). What it deletes is only the attempts' record (webhookDeliveries):
 * the alerts themselves stay in the outbox and endpoints' cursors do not move, so nothing undelivered is lost.
 */
export function webhookDeliveryPruningJob(retentionSeconds: number): DailyJob {
  return {
    name: 'webhook-delivery-pruning',
    async run(manager) {
      const [, changed]: [unknown, number] = await manager.query(
        `DELETE FROM webhook_delivery WHERE attempted_at < statement_timestamp() - $1 * interval '1 second'`,
        [retentionSeconds],
      );
      return { changed };
    },
  };
}
