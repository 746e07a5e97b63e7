// A delivery worker in a process of its own, so a test can kill it (SIGKILL) in the middle of a delivery:
//
//   node -r ts-node/register/transpile-only test/webhook/worker-process.ts <databaseUrl> <name>
//
// It prints "started" once its worker runs. Private targets are allowed (the test's receiver is on 127.0.0.1).
import 'reflect-metadata';
import { createDataSource } from '../../ormconfig';
import { loadConfig } from '../../src/config';
import { WebhookWorker, webhookWorkerOptions } from '../../src/modules/webhook/webhook.worker';

const [url, name] = process.argv.slice(2);

async function main(): Promise<void> {
  const db = createDataSource(url, { poolMax: 4 });
  await db.initialize();
  const config = loadConfig({
    NODE_ENV: 'test',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_POLL_MS: '100',
    WEBHOOK_TIMEOUT_MS: '3000',
  });
  new WebhookWorker(db, { ...webhookWorkerOptions(config), name, leaseMarginMs: 1000 }).start();
  process.stdout.write('started\n');
}

main().catch((error) => {
  process.stderr.write(`worker process failed: ${String(error)}\n`);
  process.exit(1);
});
