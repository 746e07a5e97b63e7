import { EntityManager } from 'typeorm';

/** The NOTIFY channel the alert hubs LISTEN on (alert.hub.ts). */
export const ALERT_CHANNEL = 'exposure_alerts';

/**
 * One NOTIFY per transaction, carrying only the newest alert id (payloads must stay under 8000 bytes,
 * and each notifying commit takes a global lock). PostgreSQL delivers it after commit, to every instance.
 */
export async function notifyAlerts(manager: EntityManager, lastAlertId: string): Promise<void> {
  await manager.query(`SELECT pg_notify($1, $2)`, [ALERT_CHANNEL, lastAlertId]);
}
