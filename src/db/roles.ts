import { escapeIdentifier } from 'pg';
import { DataSource } from 'typeorm';

/**
 * The API's database privileges, in one place.
 *
 * Two roles share the database: the owner (MIGRATION_DATABASE_URL), which owns every table and runs the
 * migrations and seeds, and the API's role (DATABASE_URL), which owns nothing. The append-only rules are
 * triggers, and a table's owner or a superuser can switch triggers off (ALTER TABLE … DISABLE TRIGGER,
 * SET session_replication_role = replica); a role that owns nothing cannot, and it is also given no UPDATE
 * or DELETE on those tables at all. So a bug, or SQL injected into the API, cannot rewrite the audit trail.
 *
 * Roles are cluster-wide and named per deployment, so the grants are applied by code after every
 * migration run (main.ts, the tests) rather than written into a migration.
 */

/** The trigger function the migrations put on every append-only table (migrations/*-AuditTrail.ts). */
const APPEND_ONLY_GUARD = 'reject_change_to_append_only';

/** What the API's role may do: INSERT and SELECT on append-only tables, full DML on the rest. */
const READ_WRITE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
const APPEND_ONLY = ['SELECT', 'INSERT'] as const;

export interface ApiGrants {
  role: string;
  appendOnly: string[];
  readWrite: string[];
}

/** The user a postgres:// URL logs in as. */
export function roleOfUrl(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

/**
 * Grants the API's role exactly what it needs on the owner's current schema, and nothing else: the
 * privileges are reset first, so a table that became append-only loses UPDATE and DELETE, and the
 * migrations table stays out of reach. One transaction: the API never sees a half-granted schema.
 * Append-only tables are found by their guard trigger, so a new one is covered without touching this file.
 */
export async function grantApiRole(owner: DataSource, role: string): Promise<ApiGrants> {
  const migrationsTable = owner.options.migrationsTableName ?? 'migrations';
  return owner.transaction(async (manager) => {
    const [found] = await manager.query(`SELECT rolsuper FROM pg_roles WHERE rolname = $1`, [role]);
    if (!found) {
      throw new Error(
        `the API's database role "${role}" (the user in DATABASE_URL) does not exist: create it with CREATE ROLE ${escapeIdentifier(role)} LOGIN PASSWORD '…' (it needs no other attribute)`,
      );
    }
    const tables: { name: string; append_only: boolean }[] = await manager.query(
      `SELECT c.relname AS name,
              EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = c.oid AND p.proname = $1) AS append_only
         FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> $2
        ORDER BY c.relname`,
      [APPEND_ONLY_GUARD, migrationsTable],
    );
    const [{ schema }] = await manager.query(`SELECT current_schema() AS schema`);
    const grantee = escapeIdentifier(role);
    const inSchema = escapeIdentifier(schema);
    const list = (names: string[]) => names.map((name) => `${inSchema}.${escapeIdentifier(name)}`).join(', ');
    const appendOnly = tables.filter((t) => t.append_only).map((t) => t.name);
    const readWrite = tables.filter((t) => !t.append_only).map((t) => t.name);

    await manager.query(`GRANT USAGE ON SCHEMA ${inSchema} TO ${grantee}`);
    await manager.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${inSchema} FROM ${grantee}`);
    await manager.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${inSchema} FROM ${grantee}`);
    if (readWrite.length)
      await manager.query(`GRANT ${READ_WRITE.join(', ')} ON ${list(readWrite)} TO ${grantee}`);
    if (appendOnly.length)
      await manager.query(`GRANT ${APPEND_ONLY.join(', ')} ON ${list(appendOnly)} TO ${grantee}`);
    // nextval() for the bigserial ids of the append-only tables.
    await manager.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${inSchema} TO ${grantee}`);

    // GRANT on a table the granting role does not own (and may not grant on) only warns: check the outcome.
    const wanted = tables.flatMap((t) =>
      (t.append_only ? APPEND_ONLY : READ_WRITE).map((privilege) => [t.name, privilege]),
    );
    const missing: { name: string }[] = await manager.query(
      `SELECT DISTINCT w.name FROM unnest($2::text[], $3::text[]) AS w(name, privilege)
        WHERE NOT has_table_privilege($1, format('%I.%I', current_schema(), w.name), w.privilege)`,
      [role, wanted.map(([name]) => name), wanted.map(([, privilege]) => privilege)],
    );
    if (missing.length) {
      throw new Error(
        `could not grant the API's role "${role}" its privileges on ${missing.map((m) => m.name).join(', ')}: MIGRATION_DATABASE_URL's role must own the tables (run the migrations with it) or be a superuser`,
      );
    }
    return { role, appendOnly, readWrite };
  });
}

export interface RoleReport {
  role: string;
  superuser: boolean;
  /** Tables of the current schema this role owns, directly or through a role it belongs to. */
  ownedTables: string[];
}

/** Whether the connected role could switch the append-only triggers off: for the start-up warning. */
export async function describeConnectedRole(db: DataSource): Promise<RoleReport> {
  const [row] = await db.query(
    `SELECT current_user AS role,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            coalesce((SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c
                       WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
                         AND pg_has_role(current_user, c.relowner, 'USAGE')), '{}') AS owned`,
  );
  return { role: row.role, superuser: row.superuser, ownedTables: row.owned };
}

/** The warning production logs at start when the API's role can bypass the append-only triggers; null when it cannot. */
export function privilegeWarning(report: RoleReport): string | null {
  if (!report.superuser && !report.ownedTables.length) return null;
  const what = report.superuser
    ? 'is a superuser'
    : `owns ${report.ownedTables.length} table(s) (${report.ownedTables.slice(0, 3).join(', ')}${report.ownedTables.length > 3 ? ', …' : ''})`;
  return (
    `the API's database role "${report.role}" ${what}: it could switch off the triggers that keep the audit trail append-only. ` +
    'Run the API as a role that owns nothing (DATABASE_URL) and migrations as the owner (MIGRATION_DATABASE_URL); see README, Security model.'
  );
}
