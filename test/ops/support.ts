import net from 'node:net';
import { DataSource } from 'typeorm';

/** A raw HTTP exchange with the server: status, headers, and the body as text and (when it parses) JSON. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function send(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<RawResponse> {
  const { timeoutMs = 15000, ...rest } = init;
  const response = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let json: RawResponse['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs a GraphQL request as JSON. `token` null sends no Authorization header. */
export function postGraphQL(
  baseUrl: string,
  token: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The codes of a response's top-level GraphQL errors. */
export function errorCodes(response: RawResponse): unknown[] {
  return (response.json?.errors ?? []).map((e: { extensions?: { code?: unknown } }) => e.extensions?.code);
}

/**
 * Every table's row count and an md5 over its rows in id order (tables without an id column: in row-text order),
 * so a test can say that nothing at all was written.
 */
export async function databaseSnapshot(
  db: DataSource,
): Promise<Record<string, { rows: number; md5: string }>> {
  const tables: { table_name: string; has_id: boolean }[] = await db.query(
    `SELECT t.table_name,
            EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'id') AS has_id
       FROM information_schema.tables t
      WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'
      ORDER BY t.table_name`,
  );
  const snapshot: Record<string, { rows: number; md5: string }> = {};
  for (const { table_name: table, has_id: hasId } of tables) {
    const order = hasId ? 't.id' : 't::text';
    const [row] = await db.query(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY ${order})), '') AS md5 FROM "${table}" t`,
    );
    snapshot[table] = { rows: row.rows, md5: row.md5 };
  }
  return snapshot;
}

export async function rowCount(db: DataSource, table: string): Promise<number> {
  const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM "${table}"`);
  return count;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (or a truthy value), failing after timeoutMs with `what`. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await sleep(intervalMs);
  }
}

/** `n` nested selections of supplier → incidents → node → supplier …, for depth tests. */
export function deepSupplierSelection(levels: number): string {
  let inner = 'name';
  for (let i = 0; i < levels; i += 1) inner = `subprocessors { ${inner} }`;
  return inner;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
