import { EntityManager } from 'typeorm';

/** What a register write touched; the exposure engine recomputes open incidents that may depend on it. */
export interface RegisterChange {
  supplierIds?: string[];
  contractIds?: string[];
  clientIds?: string[];
}

/** Called inside the write's own transaction, so exposures never disagree with the register. */
export type RegisterChangeHook = (manager: EntityManager, change: RegisterChange) => Promise<unknown>;

export const noRegisterChangeHook: RegisterChangeHook = async () => undefined;
