import 'reflect-metadata';
import { loadConfig } from './config';
import { limitHeapGrowth } from './heap-growth';
import { createLogger } from './logger';
import { startApplication } from './start';

/** The process: start (src/start.ts), then stop in order on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  limitHeapGrowth(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const application = await startApplication(config, logger, say);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal} received: finishing in-flight requests and stopping…`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await application.stop();
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
  process.stderr.write(
    `Unhandled promise rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`,
  );
});

main().catch((error) => {
  process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
