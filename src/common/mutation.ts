import { EntityManager, EntityTarget, FindOptionsWhere, IsNull, ObjectLiteral } from 'typeorm';
import { NodeTypeName, decodeIdOf } from './global-id';
import { UserError, UserErrorCode, UserInputProblem, userError, userErrorFromDatabase } from './user-error';

export type ConstraintMessages = Parameters<typeof userErrorFromDatabase>[1];

/**
 * Runs a mutation's work and turns expected failures into userErrors: a UserInputProblem thrown
 * inside the transaction (which rolls it back), or a database constraint that caught bad input.
 * Anything else is a fault and propagates as a top-level error.
 */
export async function asPayload<T>(
  work: () => Promise<T>,
  constraints: ConstraintMessages = {},
): Promise<{ result: T | null; userErrors: UserError[] }> {
  try {
    return { result: await work(), userErrors: [] };
  } catch (error) {
    if (error instanceof UserInputProblem) return { result: null, userErrors: error.errors };
    const fromDatabase = userErrorFromDatabase(error, constraints);
    if (fromDatabase) return { result: null, userErrors: [fromDatabase] };
    throw error;
  }
}

/**
 * The register's tables, in the order a file import locks them (SHARE ROW EXCLUSIVE, one statement:
 * register-io.service.ts) against other writes while it plans and writes.
 */
export const REGISTER_TABLES: readonly string[] = [
  'supplier',
  'client',
  'contract',
  'data_processing_agreement',
  'supplier_subprocessor',
  'agreement_subprocessor',
];

/**
 * The row a mutation changes, locked until its transaction ends. A malformed ID, an ID of another type
 * and an unknown ID all answer NOT_FOUND at `field`, and nothing is written.
 *
 * For a register table, the table's write lock (ROW EXCLUSIVE) comes first, before the row's: the row
 * lock alone holds only ROW SHARE, which a file import's SHARE ROW EXCLUSIVE lock on the register's tables
 * does not wait for; the import would then write this row (waiting for this row lock) while this
 * mutation's write waited for the import's table lock, a deadlock. With the write lock first, a mutation either holds it before the
 * import (which waits for the mutation to end) or waits for the import before it locks any row
 * (docs/exposure-scoring.md, "Concurrency"; test (r)).
 */
export async function lockForUpdate<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  type: NodeTypeName,
  globalId: string,
  notFound: { field: string[]; message: string },
  mode: 'pessimistic_write' | 'for_no_key_update' = 'pessimistic_write',
  where: Record<string, unknown> = {},
): Promise<E> {
  const id = decodeIdOf(type, globalId);
  const table = manager.connection.getMetadata(entity).tableName;
  // Other tables (incident) are not locked by the import: no statement for them.
  if (id && REGISTER_TABLES.includes(table)) await manager.query(`LOCK TABLE ${table} IN ROW EXCLUSIVE MODE`);
  const row = id
    ? await manager.findOne(entity, {
        where: { id, ...where } as unknown as FindOptionsWhere<E>,
        lock: { mode },
      })
    : null;
  if (!row)
    throw new UserInputProblem([userError(notFound.field, UserErrorCode.NOT_FOUND, notFound.message)]);
  return row;
}

/**
 * lockForUpdate for a row that removal archives (supplier, contract, agreement: removed_at set, row kept):
 * an archived row is out of the register, so it answers NOT_FOUND exactly like a missing one.
 */
export function lockLiveForUpdate<E extends ObjectLiteral & { removedAt: Date | null }>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  type: NodeTypeName,
  globalId: string,
  notFound: { field: string[]; message: string },
): Promise<E> {
  return lockForUpdate(manager, entity, type, globalId, notFound, 'pessimistic_write', {
    removedAt: IsNull(),
  });
}
