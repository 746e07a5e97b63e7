import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, MigrationInterface } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { grantApiRole } from '../../src/db/roles';

function serverUrl(): string {
  const url = process.env.TEST_SERVER_URL;
  if (!url) throw new Error('TEST_SERVER_URL is not set: run the tests through jest (global-setup.mjs)');
  return url;
}

/**
 * The API's role in the tests: like production's, it owns nothing and holds only the grants of
 * src/db/roles.ts, so every test that goes through the API (or through services on `database.db`)
 * proves those grants suffice. Roles are cluster-wide: this one is created once per server and shared by
 * every test database (and every concurrent test run) on it; each database grants it afresh.
 */
export const TEST_APP_ROLE = 'register_test_app';
const TEST_APP_PASSWORD = 'register-test-app';

/** A database on the suite's server, as the owner (the server's user, who runs the migrations) or as the API's role. */
export function databaseUrl(name: string, as: 'owner' | 'app' = 'owner'): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  if (as === 'app') {
    url.username = TEST_APP_ROLE;
    url.password = TEST_APP_PASSWORD;
  }
  return url.toString();
}

let appRoleReady: Promise<unknown> | null = null;
/** Creates the API's test role unless it exists; another test file or run may be creating it at the same moment. */
function ensureAppRole(): Promise<unknown> {
  appRoleReady ??= admin((client) =>
    client
      .query(
        `CREATE ROLE ${TEST_APP_ROLE} LOGIN PASSWORD '${TEST_APP_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE`,
      )
      .catch((error) => {
        // duplicate_object, or unique_violation when two sessions create it at once.
        if (!['42710', '23505'].includes(error.code)) throw error;
      }),
  );
  return appRoleReady;
}

/** The suite's server as its own user (a superuser): creates and drops databases and the API's role. */
function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  return connected(serverUrl(), work);
}

/** The committed migrations, loaded as classes so they run the same way under jest. */
export function migrationClasses(): (new () => MigrationInterface)[] {
  const dir = path.join(__dirname, '..', '..', 'migrations');
  return (
    fs
      .readdirSync(dir)
      .filter((file) => /^\d+-.*\.ts$/.test(file))
      .sort()
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest runs CommonJS, and this is synchronous
      .flatMap((file) => Object.values(require(path.join(dir, file))) as (new () => MigrationInterface)[])
  );
}

export interface TestDatabase {
  name: string;
  /** The API's role (TEST_APP_ROLE): what the server, its alert listener and side connections use. */
  url: string;
  /** The owner's URL: migrations ran as this user. */
  ownerUrl: string;
  /** A DataSource as the API's role, as the API has in production. */
  db: DataSource;
  /** Runs SQL as the owner, for set-up only the owner may do (DDL, triggers); the API's role could not. */
  asOwner<T>(work: (client: Client) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

async function connected<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database with every migration applied: each test file gets its own. As in production with
 * MIGRATION_DATABASE_URL set, the owner runs the migrations and grants the API's role (src/db/roles.ts),
 * and `db` connects as that role.
 */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const name = `register_test_${randomBytes(6).toString('hex')}`;
  await ensureAppRole();
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const ownerUrl = databaseUrl(name, 'owner');
  const owner = createDataSource(ownerUrl, { poolMax: 2 });
  owner.setOptions({ migrations: migrationClasses() });
  await owner.initialize();
  try {
    await owner.runMigrations({ transaction: 'all' });
    await grantApiRole(owner, TEST_APP_ROLE);
  } finally {
    await owner.destroy();
  }
  const url = databaseUrl(name, 'app');
  const db = createDataSource(url, { poolMax: options.poolMax ?? 10 });
  await db.initialize();
  return {
    name,
    url,
    ownerUrl,
    db,
    asOwner: (work) => connected(ownerUrl, work),
    async drop() {
      if (db.isInitialized) await db.destroy();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Another connection pool on an existing test database (a second API instance), as the API's role. */
export async function attachToDatabase(existing: TestDatabase): Promise<TestDatabase> {
  const db = createDataSource(existing.url);
  await db.initialize();
  return {
    ...existing,
    db,
    drop: async () => {
      await db.destroy();
    },
  };
}
