import http from 'node:http';
import { Pool } from 'pg';

/**
 * The floor for the nested read: the same data as the GraphQL query, fetched by ONE hand-written SQL
 * statement that builds the JSON answer inside PostgreSQL, served by a plain Node HTTP server with the
 * same pool size. Nothing can be faster on this stack; the API is measured as a ratio to it. Its conditions
 * are the API's (open exposures, live contracts): without `removed_at IS NULL` no index of contract fits and
 * each client's contracts were a sequential scan (0.9 s per request at 100,000 contracts).
 */
const FLOOR_SQL = `
WITH page AS (
  SELECT * FROM exposure WHERE incident_id = $1 AND resolved_at IS NULL ORDER BY score DESC, id DESC LIMIT 100
),
edges AS (
  SELECT e.score, e.id, json_build_object('node', json_build_object(
           'score', e.score,
           'level', e.level,
           'client', json_build_object(
             'name', cl.name,
             'contracts', json_build_object('edges', (
               SELECT coalesce(json_agg(json_build_object('node', json_build_object('reference', c.reference, 'supplier', json_build_object('name', s.name))) ORDER BY c.reference, c.id), '[]')
               FROM (SELECT * FROM contract c WHERE c.client_id = cl.id AND c.removed_at IS NULL ORDER BY c.reference, c.id LIMIT 5) c
               JOIN supplier s ON s.id = c.supplier_id))))) AS edge
  FROM page e JOIN client cl ON cl.id = e.client_id
)
SELECT json_build_object('data', json_build_object('node', json_build_object(
         'title', (SELECT title FROM incident WHERE id = $1),
         'exposures', json_build_object('edges', coalesce(json_agg(edge ORDER BY score DESC, id DESC), '[]')))))::text AS body
FROM edges`;

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
const incidentId = process.env.BENCH_INCIDENT_ID;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    try {
      const { rows } = await pool.query(FLOOR_SQL, [incidentId]);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(rows[0].body);
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.listen(Number(process.env.PORT ?? 4900), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
