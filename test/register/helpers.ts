import { DataSource } from 'typeorm';
import { GraphQLResponse } from '../support/app';

/**
 * A fingerprint of every table's contents (row count and a hash of the rows), so a test can say
 * "nothing was written" about the whole database, not just the table it expects to be touched.
 */
export async function databaseFingerprint(
  db: DataSource,
): Promise<Record<string, { rows: number; hash: string }>> {
  const tables: { table_name: string }[] = await db.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations' ORDER BY table_name`,
  );
  const result: Record<string, { rows: number; hash: string }> = {};
  for (const { table_name: table } of tables) {
    const [row] = await db.query(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS hash FROM "${table}" t`,
    );
    result[table] = { rows: row.rows, hash: row.hash };
  }
  return result;
}

/** Runs `work` and fails if it changed anything in the database. Returns what `work` returned. */
export async function expectNothingWritten<T>(db: DataSource, work: () => Promise<T>): Promise<T> {
  const before = await databaseFingerprint(db);
  const result = await work();
  expect(await databaseFingerprint(db)).toEqual(before);
  return result;
}

export async function rowCount(db: DataSource, table: string): Promise<number> {
  const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM "${table}"`);
  return count;
}

/** The single top-level error of a response, with its code. */
export function onlyError(response: GraphQLResponse): {
  message: string;
  code: unknown;
  extensions?: Record<string, unknown>;
} {
  const errors = response.body.errors ?? [];
  if (errors.length !== 1)
    throw new Error(`Expected exactly one GraphQL error, got ${JSON.stringify(response.body)}`);
  return { message: errors[0].message, code: errors[0].extensions?.code, extensions: errors[0].extensions };
}
