import { EntityManager } from 'typeorm';

/**
 * One transaction-scoped advisory lock, held to commit, by every transaction that writes exposures or
 * alerts: the engine's recomputations, the obligation clocks kept on exposure rows
 * (obligation/obligation.clock.ts) and the reminders job. Alert ids and each client's numbers (client_seq)
 * are assigned under it, so alert order is commit order and a replay (alert.hub.ts, alert.stream.ts) has
 * no gaps. Register writes recompute under it for their whole (client-scoped, short) computation, and mark
 * their clients under it (ExposureInputChangeEntity). The one long computation, recording an incident at
 * a large supplier, takes it only after writing its exposures and revisions
 * (ExposureEngine.recordNewIncident), so a write for a client the incident does not reach never waits
 * for that computation, only for its short end (alerts, commit). A change to a client's regimes reads the
 * exposures whose clocks it refreshes only under it (ClientService.update), so a recomputation that
 * computed clocks from the regimes before has committed by then. Lock order: the register rows and tables
 * a writer changes first (written then, never after), then this lock, then the exposure rows it changes
 * (ExposureService.recordDecision); docs/exposure-scoring.md, "Concurrency".
 */
export const EXPOSURE_LOCK_KEY = 7_331_001;

/** Takes the lock (re-entrant within the transaction; released at its end). */
export async function lockExposureWrites(manager: EntityManager): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock($1)`, [EXPOSURE_LOCK_KEY]);
}

/** The mark in exposure_input_change of a register write that can move every client's exposures. */
export const EVERY_CLIENT = '00000000-0000-0000-0000-000000000000';
