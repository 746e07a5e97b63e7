// The benchmark's peer: PostGraphile 5 (Amber preset, its defaults) over the benchmark's database, served
// by grafserv on a plain Node HTTP server with the same pool size as the API. Started by bench/run.ts with
// the Node 22 runtime installed next to it (bench/peer/package.json); never part of the API.
import { createServer } from 'node:http';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { grafserv } from 'postgraphile/grafserv/node';
import { makePgService } from 'postgraphile/adaptors/pg';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const port = Number(process.env.PORT ?? 4806);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const preset = {
  extends: [PostGraphileAmberPreset],
  // Order and filter by any column, as the API's lists do (by default PostGraphile offers only columns with a
  // plain index, and the register's page indexes are partial).
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: { port, graphqlPath: '/graphql', watch: false, graphiql: false },
  grafast: { explain: false },
};
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on('error', (error) => {
  process.stderr.write(`peer: ${error}\n`);
  process.exit(1);
});
await serv.addTo(server);
// Building the schema (introspection) happens on the first request; do it before saying ready.
await pgl.getSchemaResult();
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => pgl.release().then(() => pool.end()).then(() => process.exit(0))));
