import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';

function serverUrl(): string {
  const url = process.env.TEST_SERVER_URL;
  if (!url) throw new Error('TEST_SERVER_URL is not set: run the tests through jest (global-setup.mjs)');
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The committed migrations, loaded as classes so they run the same way under jest. */
export function migrationClasses(): Function[] {
  const dir = path.join(__dirname, '..', '..', 'migrations');
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d+-.*\.ts$/.test(file))
    .sort()
    .flatMap((file) => Object.values(require(path.join(dir, file))) as Function[]);
}

export interface TestDatabase {
  name: string;
  url: string;
  db: DataSource;
  drop(): Promise<void>;
}

/** A fresh database with every migration applied: each test file gets its own. */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const name = `register_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  const db = createDataSource(url, { poolMax: options.poolMax ?? 10 });
  db.setOptions({ migrations: migrationClasses() });
  await db.initialize();
  await db.runMigrations({ transaction: 'all' });
  return {
    name,
    url,
    db,
    async drop() {
      if (db.isInitialized) await db.destroy();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Another connection pool on an existing test database (a second API instance). */
export async function attachToDatabase(existing: TestDatabase): Promise<TestDatabase> {
  const db = createDataSource(existing.url);
  await db.initialize();
  return { ...existing, db, drop: async () => { await db.destroy(); } };
}
