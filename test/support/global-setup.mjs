// Gives the suite a PostgreSQL server: DATABASE_URL when set (CI uses the machine's service),
// otherwise an embedded PostgreSQL started here and stopped in global-teardown.mjs.
// Each test file then creates and drops its own database on that server (test/support/database.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { embeddedPostgres, isRoot } from './embedded-postgres.mjs';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-test-pg-'));
  // Below Linux's ephemeral port range (32768+), so no outgoing connection can be holding it.
  const port = 20000 + Math.floor(Math.random() * 12000);
  if (isRoot) fs.chmodSync(dataDir, 0o777);
  const pg = embeddedPostgres({ databaseDir: path.join(dataDir, 'data'), port, persistent: false });
  await pg.initialise();
  await pg.start();
  globalThis.__EMBEDDED_PG__ = { pg, dataDir };
  process.env.TEST_SERVER_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  process.stdout.write(`\nTests run on an embedded PostgreSQL on port ${port}\n`);
}
