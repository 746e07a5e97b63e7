import 'reflect-metadata';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDataSource } from '../ormconfig';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { seedLargeRegister } from './large-register';

/**
 * npm run seed:large -- --clients 10000 --suppliers 2000 --contracts 100000 (into an empty register), as the
 * tables' owner: MIGRATION_DATABASE_URL when set, else DATABASE_URL (no superuser needed). Ten times that
 * (--suppliers 20000 --clients 100000 --contracts 1000000) takes about a minute on a quiet 2-core machine.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '10000' },
      suppliers: { type: 'string', default: '2000' },
      contracts: { type: 'string', default: '100000' },
    },
  });
  const size = {
    clients: Number(values.clients),
    suppliers: Number(values.suppliers),
    contracts: Number(values.contracts),
  };
  for (const [name, value] of Object.entries(size)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  }
  if (size.suppliers < 110)
    throw new Error('--suppliers must be at least 110 (the sub-processor chains use suppliers 101–109)');
  let url = process.env.MIGRATION_DATABASE_URL ?? process.env.DATABASE_URL;
  let embedded = null;
  if (!url) {
    embedded = await startEmbeddedPostgres(
      path.resolve(process.env.EMBEDDED_PG_DATA_DIR ?? '.data/postgres'),
      Number(process.env.EMBEDDED_PG_PORT ?? 25432),
      console.log,
    );
    url = embedded.url;
  }
  // One statement inserts every contract: no statement timeout (a million rows outlast the API's 15 s).
  const db = createDataSource(url, { statementTimeoutMs: 0 });
  await db.initialize();
  try {
    await db.runMigrations({ transaction: 'each' });
    const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM contract`);
    if (count > 0)
      throw new Error(
        `The register already holds ${count} contracts: seed:large fills an empty register (use a fresh database)`,
      );
    console.log(`Seeding ${size.suppliers} suppliers, ${size.clients} clients, ${size.contracts} contracts…`);
    const summary = await seedLargeRegister(db, size, console.log);
    console.log(
      `Done in ${summary.seconds.toFixed(1)} s: ${summary.contracts} contracts, ${summary.agreements} agreements; the largest supplier has ${summary.largestSupplierContracts} contracts with ${summary.largestSupplierClients} clients.`,
    );
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
