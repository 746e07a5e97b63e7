import net from 'node:net';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from './config';
import { registerIoOptions } from './modules/register-io/register-io.service';
import { createDataSource } from '../ormconfig';
import { EmbeddedDatabase, embeddedApiUrl, startEmbeddedPostgres } from './db/embedded';
import { describeConnectedRole, grantApiRole, privilegeWarning, roleOfUrl } from './db/roles';
import { createSchema } from './schema';
import { createServices } from './services';
import { RunningServer, portInUse, startServer } from './server';
import { DemoRegisterResult, loadDemoRegister } from './seed/demo';
import { mintToken } from './auth/jwt';
import { encodeGlobalId } from './common/global-id';
import { startedContractsJob } from './modules/exposure/exposure.engine';
import { DailyJobRunner } from './modules/schedule/daily-jobs';
import { ObligationReminderJob } from './modules/obligation/obligation.reminders';
import { webhookServiceOptions } from './modules/webhook/webhook.service';
import { webhookDeliveryPruningJob } from './modules/webhook/webhook.pruning';

export interface RunningApplication {
  server: RunningServer;
  /** The tokens start-up printed (embedded demo only), by the role they are for. */
  tokens: [string, string][];
  /** Stops the server, the database pool and the embedded PostgreSQL, in that order. */
  stop(): Promise<void>;
}

/** Fails fast, before any database work, when the HTTP port is taken. */
async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(port) : error),
    );
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve()));
  });
}

/**
 * Migrations, the API's grants and (embedded only) the demo register, all as the owner, whose pool is
 * closed before the API starts: the running API holds only its own role's connections.
 */
async function prepareDatabase(
  ownerUrl: string,
  apiUrl: string,
  seedDemo: boolean,
  say: (line: string) => void,
): Promise<DemoRegisterResult | null> {
  const owner = createDataSource(ownerUrl, {
    poolMax: 2,
    applicationName: 'supplier-risk-register-migrations',
  });
  await owner.initialize();
  try {
    const applied = await owner.runMigrations({ transaction: 'each' }).catch((error) => {
      // insufficient_privilege: most likely DATABASE_URL alone, naming a restricted role, was asked to migrate.
      if (error?.code !== '42501' && error?.driverError?.code !== '42501') throw error;
      throw new Error(
        `the migrations could not run as ${ownerUrl === apiUrl ? "DATABASE_URL's" : "MIGRATION_DATABASE_URL's"} role "${roleOfUrl(ownerUrl)}" (${error.message}): set MIGRATION_DATABASE_URL to the role that owns the tables`,
      );
    });
    if (applied.length)
      say(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
    if (roleOfUrl(apiUrl) !== roleOfUrl(ownerUrl)) {
      const grants = await grantApiRole(owner, roleOfUrl(apiUrl));
      say(
        `Database role ${grants.role}: append-only ${grants.appendOnly.join(', ')}; read-write ${grants.readWrite.join(', ')}.`,
      );
    }
    return seedDemo ? await loadDemoRegister(owner, createServices(owner), say) : null;
  } finally {
    await owner.destroy();
  }
}

/**
 * Start-up: config → database (embedded or DATABASE_URL) → migrations and grants as the owner → the API
 * as its own role → HTTP server. Anything that fails undoes what was started and rejects with a message
 * for the person starting it.
 */
export async function startApplication(
  config: Config,
  logger: Logger,
  say: (line: string) => void,
): Promise<RunningApplication> {
  const undo: (() => Promise<unknown>)[] = [];
  const undoAll = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    let embedded: EmbeddedDatabase | null = null;
    let apiUrl = config.databaseUrl;
    let ownerUrl = config.migrationDatabaseUrl ?? config.databaseUrl;
    if (!apiUrl) {
      // Says so when another instance holds the data folder, before the port could be blamed.
      const started = await startEmbeddedPostgres(config.embeddedPgDataDir, config.embeddedPgPort, say);
      embedded = started;
      undo.push(() => started.stop());
      say(`Embedded PostgreSQL running (data in ${config.embeddedPgDataDir}).`);
      ownerUrl = started.url;
      apiUrl = await embeddedApiUrl(started.url);
    }
    await assertPortFree(config.port);

    const demo = await prepareDatabase(ownerUrl!, apiUrl, Boolean(embedded), say);

    const db: DataSource = createDataSource(apiUrl, {
      poolMax: config.dbPoolMax,
      statementTimeoutMs: config.statementTimeoutMs,
    });
    await db.initialize();
    undo.push(() => db.destroy());
    if (config.env === 'production') {
      const warning = privilegeWarning(await describeConnectedRole(db));
      if (warning) logger.warn(warning);
    }
    const services = createServices(db, {
      webhooks: webhookServiceOptions(config),
      registerIo: registerIoOptions(config),
      nestedReadPlanning: config.nestedReadPlanning,
      conflictRetry: {
        attempts: config.conflictAttempts,
        warn: (fields, message) => logger.warn(fields, message),
      },
    });

    const graphiqlHeaders: Record<string, string> = {};
    const tokens: [string, string][] = [];
    if (embedded && config.jwtSecret) {
      // As long as the API accepts (JWT_MAX_LIFETIME): a longer-lived token would be refused.
      const lifetime = `${config.jwtMaxLifetimeSeconds}s`;
      const admin = await mintToken(config.jwtSecret, { sub: 'demo-admin', role: 'admin' }, lifetime);
      const analyst = await mintToken(config.jwtSecret, { sub: 'demo-analyst', role: 'analyst' }, lifetime);
      graphiqlHeaders.Authorization = `Bearer ${admin}`;
      tokens.push(['admin', admin], ['analyst', analyst]);
      if (demo?.sampleClient) {
        const clientId = encodeGlobalId('Client', demo.sampleClient.id);
        tokens.push([
          `client (${demo.sampleClient.name})`,
          await mintToken(
            config.jwtSecret,
            { sub: 'demo-client', role: 'client', client_id: clientId },
            lifetime,
          ),
        ]);
      }
    }

    const schema = await createSchema();
    const server = await startServer(
      { config, db, schema, services, logger, graphiqlHeaders, databaseUrl: apiUrl },
      config.port,
    );
    say(`Supplier risk register API at ${server.url}/graphql`);
    // Daily work shared by every instance (one runs it each day): exposures of contracts that start while an
    // incident is open; webhook delivery history past its retention.
    const dailyJobs = new DailyJobRunner(
      db,
      [
        startedContractsJob(services.engine),
        webhookDeliveryPruningJob(config.webhookDeliveryRetentionSeconds),
      ],
      { intervalMs: config.dailyJobsIntervalMs, logger },
    );
    dailyJobs.start();
    // Obligation reminders (DUE_SOON, OVERDUE), shared by every instance the same way: one runs each tick.
    const reminders = new ObligationReminderJob(db, { intervalMs: config.remindersIntervalMs, logger });
    reminders.start();
    if (config.graphiql)
      say(`GraphiQL at ${server.url}/graphiql${embedded ? ' (opens with the admin token)' : ''}`);
    if (tokens.length)
      say(
        `Tokens valid for ${formatHours(config.jwtMaxLifetimeSeconds)} (JWT_MAX_LIFETIME); restart, or run npm run token, for fresh ones.`,
      );
    for (const [role, token] of tokens) say(`Token for ${role}:\n  Bearer ${token}`);
    return {
      server,
      tokens,
      async stop() {
        await dailyJobs.stop();
        await reminders.stop();
        await server.stop();
        await undoAll();
      },
    };
  } catch (error) {
    await undoAll();
    throw error;
  }
}

function formatHours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}
