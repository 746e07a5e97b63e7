import { EntityManager } from 'typeorm';

/** What a register write touched: the exposure engine recomputes the open incidents that may depend on it. */
export interface RegisterChange {
  supplierIds?: string[];
  contractIds?: string[];
  clientIds?: string[];
}

/**
 * Which clients' exposures a register change can move (null: every client's). A sub-processor link can
 * move any client's exposure, since any chain may run through it; a contract or agreement only its own
 * client's. Runs inside the write's transaction, before the engine's lock.
 */
export async function clientsAffectedBy(
  manager: EntityManager,
  change: RegisterChange,
): Promise<string[] | null> {
  if (change.supplierIds?.length && !change.clientIds?.length && !change.contractIds?.length) return null;
  const clientIds = new Set(change.clientIds ?? []);
  if (change.contractIds?.length) {
    const rows: { client_id: string }[] = await manager.query(
      `SELECT DISTINCT client_id FROM contract WHERE id = ANY($1::uuid[])`,
      [change.contractIds],
    );
    rows.forEach((row) => clientIds.add(row.client_id));
  }
  return [...clientIds];
}
