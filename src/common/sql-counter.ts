import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from 'typeorm';

/** Who is changing the register and through which operation; stamped on every audit row. */
export interface AuditActor {
  subject: string;
  role: string;
  clientId: string | null;
  operation: string;
  input: unknown;
  requestId: string;
}

/** Per-request state carried through async calls: SQL statement count, and the audit actor of a mutation. */
export interface RequestStats {
  sqlStatements: number;
  audit?: AuditActor;
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
