import 'reflect-metadata';
import { types } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './src/entities';
import { SqlCountingLogger } from './src/common/request-scope';
import { AuditActorSubscriber } from './src/modules/audit/audit.subscriber';

// Calendar dates stay 'YYYY-MM-DD' strings: a JS Date would put them at local midnight and shift them
// a day in any time zone west of UTC (and parsing them costs time for nothing).
types.setTypeParser(types.builtins.DATE, (value) => value);

/**
 * The one DataSource definition, shared by the app, the TypeORM CLI and the tests.
 * synchronize is off everywhere: the schema comes only from committed migrations.
 */
export function dataSourceOptions(url: string, overrides: Partial<{ poolMax: number; statementTimeoutMs: number; applicationName: string }> = {}): DataSourceOptions {
  return {
    type: 'postgres',
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

export function createDataSource(url: string, overrides?: Parameters<typeof dataSourceOptions>[1]): DataSource {
  return new DataSource(dataSourceOptions(url, overrides));
}

/** Used by the TypeORM CLI (migration:generate / migration:run). */
export default createDataSource(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
