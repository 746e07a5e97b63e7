import 'reflect-metadata';
import pg, { PoolClient, PoolConfig, types } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './src/entities';
import { SqlCountingLogger } from './src/common/request-scope';
import { AuditActorSubscriber } from './src/modules/audit/audit.subscriber';

// Calendar dates stay 'YYYY-MM-DD' strings: a JS Date would put them at local midnight and shift them
// a day in any time zone west of UTC (and parsing them costs time for nothing).
types.setTypeParser(types.builtins.DATE, (value) => value);

/**
 * node-postgres with one change to its pool: every client it connects keeps an 'error' listener for life.
 * pg-pool takes its own listener off a client when handing it out, and TypeORM puts its listener on a
 * promise tick later. A client connected while PostgreSQL is shutting down can receive "terminating
 * connection" in the same network read as its "ready": that error then met no listener, and an 'error'
 * event without one ends the process (seen once in CI's database-restart test). With this listener it
 * is only noted here; the query that then uses the dead client fails like any other query during an
 * outage (503 SERVICE_UNAVAILABLE), and the pool discards the client when it is released.
 */
class GuardedPool extends pg.Pool {
  constructor(config?: PoolConfig) {
    super(config);
    this.on('connect', (client: PoolClient) => client.on('error', () => undefined));
  }
}
const guardedPg = Object.create(pg, { Pool: { value: GuardedPool } }) as typeof pg;

/**
 * The one DataSource definition, shared by the app, the TypeORM CLI and the tests.
 * synchronize is off everywhere: the schema comes only from committed migrations.
 */
export function dataSourceOptions(
  url: string,
  overrides: Partial<{ poolMax: number; statementTimeoutMs: number; applicationName: string }> = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    driver: guardedPg,
    url,
    entities: ENTITIES,
    subscribers: [AuditActorSubscriber],
    migrations: [__dirname + '/migrations/*.{ts,js}'],
    migrationsTableName: 'migrations',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: ['query', 'error'],
    logger: new SqlCountingLogger(),
    extra: {
      max: overrides.poolMax ?? 10,
      connectionTimeoutMillis: 5000,
      // A runaway query fails instead of holding a connection for ever.
      statement_timeout: overrides.statementTimeoutMs ?? 15000,
      application_name: overrides.applicationName ?? 'supplier-risk-register',
    },
  };
}

export function createDataSource(
  url: string,
  overrides?: Parameters<typeof dataSourceOptions>[1],
): DataSource {
  return new DataSource(dataSourceOptions(url, overrides));
}

/** Used by the TypeORM CLI (migration:generate / migration:run): as the owner, since the API's role may not change the schema. */
export default createDataSource(
  process.env.MIGRATION_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres',
);
