import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { describeConnectedRole, grantApiRole, privilegeWarning } from '../../src/db/roles';
import { TestApp, startTestApp } from '../support/app';
import { TEST_APP_ROLE } from '../support/database';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { rowCount } from './support';

/**
 * The API runs as a role that owns nothing (src/db/roles.ts). Whatever SQL reaches the database through
 * it, injected or buggy, cannot rewrite the append-only records, nor switch off the triggers that guard
 * them. The rest of the suite runs as this role too (test/support/database.ts), so it shows the grants suffice.
 */
describe('the API database role', () => {
  let app: TestApp;
  let db: DataSource;
  const APPEND_ONLY = [
    'audit_event',
    'client_notice',
    'exposure_alert',
    'exposure_revision',
    'notification_decision',
    'obligation_reminder',
    'obligation_trigger',
  ];

  beforeAll(async () => {
    app = await startTestApp();
    db = app.database.db;
    // A row in every append-only table.
    const supplier = await createSupplier(app.services, { name: 'Roles Supplier' });
    const client = await createClient(app.services, { name: 'Roles Council' });
    await createAgreement(app.services, (await createContract(app.services, client.id, supplier.id)).id);
    await recordIncident(app.services, supplier.id);
    const [{ id }] = await db.query(`SELECT id FROM exposure LIMIT 1`);
    await db.query(
      `INSERT INTO notification_decision (exposure_id, status, decided_by_subject, decided_by_role, decided_at) VALUES ($1, 'ASSESSING', 'roles-test', 'admin', now())`,
      [id],
    );
    await db.query(
      `INSERT INTO client_notice (incident_id, client_id, notice_at, recorded_by_subject, recorded_by_role, recorded_at)
       SELECT incident_id, client_id, now(), 'roles-test', 'admin', now() FROM exposure WHERE id = $1`,
      [id],
    );
    await db.query(
      `INSERT INTO obligation_trigger (exposure_id, regime, triggered_at, reason, recorded_by_subject, recorded_by_role, recorded_at)
       VALUES ($1, 'UK_GDPR', now(), 'roles test', 'roles-test', 'admin', now())`,
      [id],
    );
    await db.query(
      `INSERT INTO obligation_reminder (exposure_id, regime, milestone, kind, remind_at, due_at, written_at)
       VALUES ($1, 'UK_GDPR', 'NOTIFICATION', 'OVERDUE', now(), now(), now())`,
      [id],
    );
  });
  afterAll(() => app.stop());

  it('is the role the API and the tests use, and neither owns a table nor is a superuser', async () => {
    const report = await describeConnectedRole(db);
    expect(report).toEqual({ role: TEST_APP_ROLE, superuser: false, ownedTables: [] });
    expect(privilegeWarning(report)).toBeNull();
  });

  it('cannot update, delete or truncate an audit row (or any append-only row), even with raw SQL', async () => {
    for (const table of APPEND_ONLY) {
      const before = await rowCount(db, table);
      expect({ table, hasRows: before > 0 }).toEqual({ table, hasRows: true });
      for (const statement of [
        `UPDATE ${table} SET id = id`,
        `DELETE FROM ${table}`,
        `DELETE FROM ${table} WHERE id = (SELECT min(id) FROM ${table})`,
        `TRUNCATE ${table}`,
      ]) {
        await expect(db.query(statement)).rejects.toThrow(`permission denied for table ${table}`);
      }
      expect({ table, rows: await rowCount(db, table) }).toEqual({ table, rows: before });
    }
  });

  it('cannot switch the triggers off: not by session_replication_role, not by ALTER TABLE', async () => {
    await expect(db.query(`SET session_replication_role = replica`)).rejects.toThrow(
      /permission denied to set parameter "session_replication_role"/,
    );
    await expect(
      db.transaction((manager) => manager.query(`SET LOCAL session_replication_role = replica`)),
    ).rejects.toThrow(/permission denied/);
    for (const statement of [
      'ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only',
      'ALTER TABLE exposure_alert DISABLE TRIGGER ALL',
      'DROP TRIGGER audit_event_append_only ON audit_event',
      'ALTER TABLE supplier DISABLE TRIGGER supplier_audit',
    ]) {
      await expect(db.query(statement)).rejects.toThrow(/must be owner of (table|relation)/);
    }
    await expect(
      db.query(
        `CREATE OR REPLACE FUNCTION reject_change_to_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`,
      ),
    ).rejects.toThrow(/permission denied for schema public|must be owner of function/);
    // …so a DELETE still meets both the missing privilege and, for the owner, the trigger.
    await expect(db.query(`DELETE FROM audit_event`)).rejects.toThrow(
      'permission denied for table audit_event',
    );
  });

  it('cannot read the migrations table or create tables; the register tables are open to it as the API needs', async () => {
    await expect(db.query(`SELECT * FROM migrations`)).rejects.toThrow(
      'permission denied for table migrations',
    );
    await expect(db.query(`CREATE TABLE smuggled (id int)`)).rejects.toThrow(
      /permission denied for schema public/,
    );
    const privileges: { table_name: string; privileges: string[] }[] = await db.query(
      `SELECT table_name, array_agg(privilege_type::text ORDER BY privilege_type) AS privileges
         FROM information_schema.role_table_grants WHERE grantee = current_user GROUP BY table_name ORDER BY table_name`,
    );
    const byTable = Object.fromEntries(privileges.map((p) => [p.table_name, p.privileges]));
    for (const table of APPEND_ONLY)
      expect({ table, privileges: byTable[table] }).toEqual({ table, privileges: ['INSERT', 'SELECT'] });
    const READ_WRITE = [
      'agreement_subprocessor',
      'client',
      'contract',
      'data_processing_agreement',
      'exposure',
      // Register writes mark the clients they changed; an incident being recorded recomputes those (exposure.engine.ts).
      'exposure_input_change',
      // Large imports' progress and report (src/modules/register-io).
      'import_job',
      'incident',
      'scheduled_job',
      'supplier',
      'supplier_subprocessor',
      // The delivery worker moves endpoints' cursors and leases; removing an endpoint deletes its attempts.
      'webhook_delivery',
      'webhook_endpoint',
    ];
    for (const table of READ_WRITE) {
      expect({ table, privileges: byTable[table] }).toEqual({
        table,
        privileges: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
      });
    }
    expect(Object.keys(byTable).sort()).toEqual([...APPEND_ONLY, ...READ_WRITE].sort());
  });

  it('the owner finds the append-only tables by their triggers, and granting again resets what was added by hand', async () => {
    const owner = createDataSource(app.database.ownerUrl, { poolMax: 1 });
    await owner.initialize();
    try {
      await owner.query(`GRANT UPDATE, DELETE ON audit_event TO ${TEST_APP_ROLE}`);
      const grants = await grantApiRole(owner, TEST_APP_ROLE);
      expect(grants.appendOnly).toEqual(APPEND_ONLY);
      expect(grants.readWrite).not.toContain('migrations');
      await expect(db.query(`DELETE FROM audit_event`)).rejects.toThrow(
        'permission denied for table audit_event',
      );

      await expect(grantApiRole(owner, 'register_role_that_does_not_exist')).rejects.toThrow(
        /"register_role_that_does_not_exist" \(the user in DATABASE_URL\) does not exist: create it/,
      );
      // The suite's owner is a superuser: production would warn if the API ran as it.
      expect(privilegeWarning(await describeConnectedRole(owner))).toMatch(
        /is a superuser: it could switch off the triggers.*MIGRATION_DATABASE_URL/,
      );
    } finally {
      await owner.destroy();
    }
  });

  it('a role that owns the tables, without being a superuser, is warned about too', () => {
    expect(
      privilegeWarning({
        role: 'register_owner',
        superuser: false,
        ownedTables: ['audit_event', 'client', 'contract', 'exposure'],
      }),
    ).toBe(
      `the API's database role "register_owner" owns 4 table(s) (audit_event, client, contract, …): it could switch off the triggers that keep the audit trail append-only. ` +
        'Run the API as a role that owns nothing (DATABASE_URL) and migrations as the owner (MIGRATION_DATABASE_URL); see README, Security model.',
    );
  });
});
