import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { seedLargeRegister } from '../../bench/large-register';
import { migrationClasses } from '../support/database';

/**
 * The benchmark's seed (npm run seed:large) runs as the tables' owner, a role that is not a superuser: it
 * switches the audit triggers off and drops foreign keys and secondary indexes for the bulk load, all in
 * its transaction. What it commits must be the schema it started from, with every row checked.
 */
describe('seed:large as the owner role', () => {
  const name = `register_test_${randomBytes(6).toString('hex')}`;
  const owner = `register_test_owner_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let admin: Client;
  let db: DataSource;

  const schema = () =>
    db.query(
      `SELECT 'constraint' AS kind, conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace
       UNION ALL
       SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
       UNION ALL
       SELECT 'trigger', tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
       ORDER BY 1, 2, 3`,
    );

  beforeAll(async () => {
    admin = new Client({ connectionString: process.env.TEST_SERVER_URL });
    await admin.connect();
    await admin.query(
      `CREATE ROLE ${owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`,
    );
    await admin.query(`CREATE DATABASE ${name} OWNER ${owner}`);
    const url = new URL(process.env.TEST_SERVER_URL!);
    url.pathname = `/${name}`;
    url.username = owner;
    url.password = password;
    db = createDataSource(url.toString(), { poolMax: 2 });
    db.setOptions({ migrations: migrationClasses() });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
  });

  afterAll(async () => {
    if (db?.isInitialized) await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${owner}`);
    await admin.end();
  });

  it('fills the register with its shape and leaves every constraint, index and trigger as it was', async () => {
    const [{ rolsuper }] = await db.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`);
    expect(rolsuper).toBe(false);
    const before = await schema();

    const seeded = await seedLargeRegister(db, { suppliers: 150, clients: 600, contracts: 3000 });

    expect(await schema()).toEqual(before);
    expect(seeded.contracts).toBe(3000);
    // About 1.05 agreements per contract; the strategic suppliers take half the contracts.
    expect(seeded.agreements).toBeGreaterThan(2800);
    expect(seeded.agreements).toBeLessThan(3500);
    const [{ strategic }] = await db.query(
      `SELECT count(*)::int AS strategic FROM contract c JOIN supplier s ON s.id = c.supplier_id WHERE s.strategic`,
    );
    expect(strategic).toBeGreaterThan(1300);
    const [{ links }] = await db.query(`SELECT count(*)::int AS links FROM supplier_subprocessor`);
    expect(links).toBe(11);
    // The bulk load wrote no audit rows; the triggers are back on for what comes after.
    const audited = async () =>
      Number((await db.query(`SELECT count(*)::int AS n FROM audit_event`))[0].n as number);
    expect(await audited()).toBe(0);
    await db.query(`UPDATE contract SET title = 'Changed' WHERE reference = 'BENCH-1'`);
    expect(await audited()).toBe(1);
    // The foreign keys put back are enforced.
    await expect(
      db.query(`UPDATE contract SET client_id = gen_random_uuid() WHERE reference = 'BENCH-2'`),
    ).rejects.toThrow(/foreign key/);
  });
});
