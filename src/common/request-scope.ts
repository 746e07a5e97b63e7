import { DataSource, EntityManager, Logger, QueryRunner, ReplicationMode } from 'typeorm';

/** Who is changing the register and through which operation; stamped on every audit row. */
export interface AuditActor {
  subject: string;
  role: string;
  clientId: string | null;
  operation: string;
  input: unknown;
  requestId: string;
}

/** What one request carries to every statement it runs: the SQL statement count, and a mutation's audit actor. */
export interface RequestScope {
  sqlStatements: number;
  audit?: AuditActor;
}

const SCOPE = 'requestScope';

/** The scope of the request that opened this query runner, if a request did. */
export function scopeOf(queryRunner: QueryRunner | undefined): RequestScope | undefined {
  return queryRunner?.data?.[SCOPE] as RequestScope | undefined;
}

/**
 * The DataSource as one request sees it: every query runner it opens (for `query`, `transaction`,
 * repositories, whatever a loader or service calls) carries the request's scope in TypeORM's
 * `queryRunner.data`, where the statement counter and the audit subscriber read it.
 *
 * This replaced AsyncLocalStorage, which on Node 20 runs on promise hooks: every promise of every request
 * paid for it, about a fifth of the nested read's throughput (docs/performance.md).
 */
export function scopedDataSource(db: DataSource, scope: RequestScope): DataSource {
  let manager: EntityManager | undefined;
  const scoped: DataSource = new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'createQueryRunner') {
        return (mode?: ReplicationMode) => {
          // Made by DataSource's own method with this view as `this`, so the runner's manager belongs to
          // this view too: code reaching `manager.dataSource` inside a transaction stays in the request.
          const runner = DataSource.prototype.createQueryRunner.call(scoped, mode);
          runner.data = { ...runner.data, [SCOPE]: scope };
          return runner;
        };
      }
      // DataSource.transaction and getRepository go through `manager`, whose own runners come from its
      // DataSource: this one, so they are scoped too.
      if (property === 'manager') return (manager ??= target.createEntityManager.call(scoped));
      return Reflect.get(target, property, receiver);
    },
  });
  return scoped;
}

/**
 * TypeORM logger that counts statements per request (tests pin these counts, the logs report them)
 * instead of printing them: query text and parameters may hold personal data.
 */
export class SqlCountingLogger implements Logger {
  logQuery(_query: string, _parameters?: unknown[], queryRunner?: QueryRunner): void {
    const scope = scopeOf(queryRunner);
    if (scope) scope.sqlStatements += 1;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
