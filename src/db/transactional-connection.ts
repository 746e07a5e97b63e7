import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

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
  ) {}

  /** This connection inside `manager`'s transaction. */
  within(manager: EntityManager): TransactionalConnection {
    return new TransactionalConnection(this.dataSource, manager);
  }

  /**
   * Runs `work` all or nothing: in a new transaction, or in a savepoint of the open one (TypeORM nests
   * EntityManager.transaction as SAVEPOINT), so a service's own boundary holds either way.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.openTransaction ? this.openTransaction.transaction(work) : this.dataSource.transaction(work);
  }

  /** The open transaction's manager, or the DataSource's (each statement on a pooled connection of its own). */
  get manager(): EntityManager {
    return this.openTransaction ?? this.dataSource.manager;
  }

  getRepository<E extends ObjectLiteral>(target: EntityTarget<E>): Repository<E> {
    return this.manager.getRepository(target);
  }
}
