import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from 'typeorm';

/** Per-request statistics, carried through async calls so every SQL statement is attributed to its request. */
export interface RequestStats {
  sqlStatements: number;
}

export const requestStats = new AsyncLocalStorage<RequestStats>();

/**
 * TypeORM logger that counts statements per request (tests pin these counts, the logs report them)
 * instead of printing them: query text and parameters may hold personal data.
 */
export class SqlCountingLogger implements Logger {
  logQuery(): void {
    const stats = requestStats.getStore();
    if (stats) stats.sqlStatements += 1;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
