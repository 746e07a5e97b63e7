import 'reflect-metadata';
import path from 'node:path';
import { loadConfig } from './config';
import { createDataSource } from '../ormconfig';
import { startEmbeddedPostgres, EmbeddedDatabase } from './db/embedded';
import { createLogger } from './logger';
import { createSchema } from './schema';
import { createServices } from './services';
import { startServer } from './server';
import { loadDemoRegister } from './seed/demo';
import { mintToken } from './auth/jwt';
import { encodeGlobalId } from './common/global-id';
import { notifyAlerts } from './modules/alert/alert.notify';
import { startedContractsJob } from './modules/exposure/exposure.engine';
import { DailyJobRunner } from './modules/schedule/daily-jobs';

/** Start-up only: config → database → schema → HTTP server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const dataDir = path.resolve(process.env.EMBEDDED_PG_DATA_DIR ?? path.join(process.cwd(), '.data', 'postgres'));
    embedded = await startEmbeddedPostgres(dataDir, Number(process.env.EMBEDDED_PG_PORT ?? 25432), say);
    databaseUrl = embedded.url;
    say(`Embedded PostgreSQL running (data in ${dataDir}).`);
  }

  const db = createDataSource(databaseUrl, { poolMax: config.dbPoolMax, statementTimeoutMs: config.statementTimeoutMs });
  await db.initialize();
  const applied = await db.runMigrations({ transaction: 'each' });
  if (applied.length) say(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);

  const services = createServices(db, { afterAlerts: notifyAlerts });
  let demo: Awaited<ReturnType<typeof loadDemoRegister>> | null = null;
  if (embedded) {
    demo = await loadDemoRegister(db, services, say);
  }

  const graphiqlHeaders: Record<string, string> = {};
  const tokens: [string, string][] = [];
  if (embedded && config.jwtSecret) {
    const admin = await mintToken(config.jwtSecret, { sub: 'demo-admin', role: 'admin' }, '30d');
    const analyst = await mintToken(config.jwtSecret, { sub: 'demo-analyst', role: 'analyst' }, '30d');
    graphiqlHeaders.Authorization = `Bearer ${admin}`;
    tokens.push(['admin', admin], ['analyst', analyst]);
    if (demo?.sampleClient) {
      const clientId = encodeGlobalId('Client', demo.sampleClient.id);
      tokens.push([`client (${demo.sampleClient.name})`, await mintToken(config.jwtSecret, { sub: 'demo-client', role: 'client', client_id: clientId }, '30d')]);
    }
  }

  const schema = await createSchema();
  const server = await startServer({ config, db, schema, services, logger, graphiqlHeaders, databaseUrl }, config.port);
  say(`Supplier risk register API at ${server.url}/graphql`);
  // Daily work shared by every instance (one runs it each day): exposures of contracts that start while an incident is open.
  const dailyJobs = new DailyJobRunner(db, [startedContractsJob(services.engine)], { intervalMs: config.dailyJobsIntervalMs, logger });
  dailyJobs.start();
  if (config.graphiql) say(`GraphiQL at ${server.url}/graphiql${embedded ? ' (opens with the admin token)' : ''}`);
  for (const [role, token] of tokens) say(`Token for ${role}:\n  Bearer ${token}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal} received: finishing in-flight requests and stopping…`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await dailyJobs.stop();
      await server.stop();
      await db.destroy();
      if (embedded) await embedded.stop();
      say('Stopped.');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

// A rejection nobody handled is a bug: log it loudly rather than let Node end the process mid-request.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`Unhandled promise rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
});

main().catch((error) => {
  process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
