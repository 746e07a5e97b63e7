import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';

/** How long an instance trusts that a client it has seen still exists: a removed client's tokens stop working within this. */
export const KNOWN_CLIENT_TTL_MS = 5000;

/**
 * Whether a client exists, for the token check (auth/jwt.ts). A client portal sends many requests a
 * second; each would otherwise cost a statement before any work, so an existing client is remembered for
 * a few seconds. A client that does not exist is never remembered: such a token is refused every time.
 * The statement runs outside the request's counted scope (it is authentication, not the request's work).
 */
export function clientExistenceCheck(
  db: DataSource,
  ttlMs = KNOWN_CLIENT_TTL_MS,
): (clientId: string) => Promise<boolean> {
  const known = new LRUCache<string, true>({ max: 10_000, ttl: ttlMs });
  return async (clientId) => {
    if (known.has(clientId)) return true;
    const rows: unknown[] = await db.query(`SELECT 1 FROM client WHERE id = $1`, [clientId]);
    if (rows.length) known.set(clientId, true);
    return rows.length > 0;
  };
}
