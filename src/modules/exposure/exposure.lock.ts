import { EntityManager } from 'typeorm';

/**
 * One transaction-scoped advisory lock for every transaction that writes what exposures are computed from or
 * derived into: the engine's recomputations, the obligation clocks kept on exposure rows
 * (obligation/obligation.clock.ts) and the reminders job. Alerts' per-client numbers (client_seq) are
 * assigned under it, so alert order is commit order and a client's replay has no gaps.
 */
export const EXPOSURE_LOCK_KEY = 7_331_001;

/** Takes the lock (re-entrant within the transaction; released at its end). */
export async function lockExposureWrites(manager: EntityManager): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock($1)`, [EXPOSURE_LOCK_KEY]);
}
