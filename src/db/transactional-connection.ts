import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

/**
 * The SQLSTATEs with which PostgreSQL aborts a transaction for what ran beside it, not for what it did:
 * deadlock_detected and serialization_failure. The same transaction run again can succeed.
 */
export const CONFLICT_SQLSTATES: ReadonlySet<string> = new Set(['40P01', '40001']);

/** What the cause chain below looks at: pg, TypeORM and GraphQL errors each wrap the one before. */
interface ErrorCause {
  code?: unknown;
  originalError?: ErrorCause;
  thrownValue?: ErrorCause;
  driverError?: ErrorCause;
  cause?: ErrorCause;
}

/** The SQLSTATE (40P01 or 40001) if `error` is, or wraps, such an abort; null otherwise. */
export function conflictAbortOf(error: unknown): string | null {
  for (
    let cause = error as ErrorCause | undefined, depth = 0;
    cause && typeof cause === 'object' && depth < 6;
    cause = cause.originalError ?? cause.thrownValue ?? cause.driverError ?? cause.cause, depth += 1
  ) {
    if (typeof cause.code === 'string' && CONFLICT_SQLSTATES.has(cause.code)) return cause.code;
  }
  return null;
}

/** How often an opted-in transaction runs when aborted by a conflict, and where each retry is logged. */
export interface ConflictRetry {
  /** Runs in all, the first included (1: no retry). */
  attempts: number;
  warn: (fields: Record<string, unknown>, message: string) => void;
}

export const DEFAULT_CONFLICT_RETRY: ConflictRetry = { attempts: 3, warn: () => undefined };

export interface TransactionOptions {
  /**
   * Run `work` again, in a new transaction, when PostgreSQL aborts it with 40P01 or 40001, up to the
   * connection's attempts (DB_CONFLICT_ATTEMPTS). Only for work that does nothing but database work through
   * the manager it is given (nothing sent, read from a stream, or kept outside the transaction), since
   * every run starts over from its input; and only where the transaction is the outermost one (inside an
   * open transaction the abort has already ended the caller's, so it is not retried here).
   */
  retryOnConflict?: boolean;
}

/**
 * How a service reaches the database (Vendure's TransactionalConnection): through the transaction its unit
 * of work already holds open, or through the DataSource when none is open. A request's services get one
 * over the request's scoped DataSource (common/request-scope.ts); `within(manager)` gives the same services
 * inside a transaction someone else opened, as the demo seed does to write the whole register at once.
 */
export class TransactionalConnection {
  constructor(
    private readonly dataSource: DataSource,
    private readonly openTransaction: EntityManager | null = null,
    private readonly conflictRetry: ConflictRetry = DEFAULT_CONFLICT_RETRY,
  ) {}

  /** This connection inside `manager`'s transaction. */
  within(manager: EntityManager): TransactionalConnection {
    return new TransactionalConnection(this.dataSource, manager, this.conflictRetry);
  }

  /** The same connection over another DataSource (a request's scoped one), with the same retry policy. */
  over(dataSource: DataSource): TransactionalConnection {
    return new TransactionalConnection(dataSource, null, this.conflictRetry);
  }

  /**
   * Runs `work` all or nothing: in a new transaction, or in a savepoint of the open one (TypeORM nests
   * EntityManager.transaction as SAVEPOINT), so a service's own boundary holds either way. With
   * `retryOnConflict`, an outermost transaction aborted by a deadlock or serialization failure is run again
   * (TransactionOptions); each retry is logged at warn. Without an abort it runs the same statements.
   */
  async transaction<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (this.openTransaction) return this.openTransaction.transaction(work);
    if (!options.retryOnConflict) return this.dataSource.transaction(work);
    const { attempts, warn } = this.conflictRetry;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.dataSource.transaction(work);
      } catch (error) {
        const sqlState = conflictAbortOf(error);
        if (!sqlState || attempt >= attempts) throw error;
        warn(
          { sqlState, attempt, attempts, err: error },
          'transaction aborted by concurrent work; running it again',
        );
      }
    }
  }

  /** `transaction(work, { retryOnConflict: true })`: only for work that qualifies (TransactionOptions). */
  transactionRetriedOnConflict<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.transaction(work, { retryOnConflict: true });
  }

  /** The open transaction's manager, or the DataSource's (each statement on a pooled connection of its own). */
  get manager(): EntityManager {
    return this.openTransaction ?? this.dataSource.manager;
  }

  getRepository<E extends ObjectLiteral>(target: EntityTarget<E>): Repository<E> {
    return this.manager.getRepository(target);
  }
}
