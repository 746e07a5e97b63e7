import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { Webhook } from 'standardwebhooks';
import { encodeGlobalId } from '../src/common/global-id';

/**
 * The webhook benchmark: endpoints (one per exposed client) registered through the API, an https receiver
 * in this process, and one incident that alerts every one of those clients. Latency is from the commit
 * (the first NOTIFY this process's own LISTEN sees) to the receiver getting each endpoint's delivery.
 * The API runs in production mode, so the receiver speaks TLS with a certificate made here and trusted by
 * the API processes through NODE_EXTRA_CA_CERTS; it listens on loopback, which WEBHOOK_ALLOW_PRIVATE_TARGETS
 * allows for this run.
 */

/** A self-signed certificate for localhost, made with openssl into `dir`. */
export function makeCertificate(dir: string): { key: string; cert: string; certFile: string } {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
    ].concat(['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the benchmark reads the answer field by field
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

/** One round: one incident, each endpoint's delivery of it. */
export interface WebhookRound {
  received: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Registers one endpoint per client through the API, then runs `rounds` incidents one after the other,
 * each alerting every one of those clients once, and measures from each commit to each endpoint's receipt
 * of the new alert. Also checks what the delivery promises: every body verifies with its endpoint's secret,
 * each endpoint receives its alerts in order (webhook-ids increasing), and duplicates (allowed: at least
 * once) are counted.
 */
export async function webhookLatency(options: {
  apiUrl: string;
  databaseUrl: string;
  adminToken: string;
  clientIds: string[];
  tls: { key: string; cert: string };
  recordIncident: () => Promise<unknown>;
  say: (line: string) => void;
  rounds?: number;
  /** Longest wait for one round's deliveries. */
  roundTimeoutMs?: number;
}) {
  const { apiUrl, adminToken, clientIds, say } = options;
  const rounds = options.rounds ?? 1;
  /** Per endpoint path: each webhook-id's first arrival, and every id in arrival order. */
  const arrivals = new Map<string, { firstAt: Map<string, number>; order: string[] }>();
  const bodies: { key: string; body: string; headers: Record<string, string> }[] = [];
  let duplicates = 0;
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const key = req.url ?? '/';
      const id = String(req.headers['webhook-id']);
      const seen = arrivals.get(key) ?? { firstAt: new Map<string, number>(), order: [] as string[] };
      arrivals.set(key, seen);
      seen.order.push(id);
      if (seen.firstAt.has(id)) duplicates += 1;
      else {
        seen.firstAt.set(id, at);
        // Verified after the run: the signature check is the receiver's work, not the register's.
        bodies.push({
          key,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: req.headers as Record<string, string>,
        });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const secrets = new Map<string, string>();
  const started = Date.now();
  for (let i = 0; i < clientIds.length; i += 16) {
    await Promise.all(
      clientIds.slice(i, i + 16).map(async (clientId, j) => {
        const key = `/e/${i + j}`;
        const { data, errors } = await gql(
          apiUrl,
          adminToken,
          `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret userErrors { message } } }`,
          { input: { url: `https://localhost:${port}${key}`, clientId: encodeGlobalId('Client', clientId) } },
        );
        const result = data?.createWebhookEndpoint;
        if (!result?.secret)
          throw new Error(`createWebhookEndpoint failed: ${JSON.stringify(errors ?? result)}`);
        secrets.set(key, result.secret);
      }),
    );
  }
  say(`  ${secrets.size} endpoints registered in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const listener = new PgClient({ connectionString: options.databaseUrl });
  await listener.connect();
  await listener.query('LISTEN exposure_alerts');
  let committedAt = 0;
  listener.on('notification', () => {
    committedAt ||= performance.now();
  });
  const results: WebhookRound[] = [];
  const delivered = () => [...arrivals.values()].reduce((sum, a) => sum + a.firstAt.size, 0);
  for (let round = 0; round < rounds; round += 1) {
    const before = new Map([...secrets.keys()].map((key) => [key, arrivals.get(key)?.firstAt.size ?? 0]));
    const expected = delivered() + secrets.size;
    committedAt = 0;
    await options.recordIncident();
    const waitStarted = Date.now();
    while (delivered() < expected && Date.now() - waitStarted < (options.roundTimeoutMs ?? 60_000))
      await new Promise((resolve) => setTimeout(resolve, 20));
    // Each endpoint's first arrival of an id it had not received before this round.
    const latencies: number[] = [];
    for (const [key, count] of before) {
      const firsts = [...(arrivals.get(key)?.firstAt.values() ?? [])];
      for (const at of firsts.slice(count)) latencies.push(at - committedAt);
    }
    const result = {
      received: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
    };
    results.push(result);
    say(
      `  round ${round + 1}: ${result.received}/${secrets.size} received; p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, max ${result.max.toFixed(0)} ms`,
    );
    if (result.received < secrets.size)
      say(`  only ${result.received} of ${secrets.size} endpoints received round ${round + 1}'s alert`);
  }
  await listener.end();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  // Every delivery must verify with its endpoint's secret (the spec's reference package).
  let verified = 0;
  for (const { key, body, headers } of bodies) {
    new Webhook(secrets.get(key)!).verify(body, headers);
    verified += 1;
  }
  // In order per endpoint: each id greater than every id before it (a duplicate repeats an earlier one).
  let outOfOrder = 0;
  for (const { order } of arrivals.values()) {
    let highest = 0n;
    for (const id of order) {
      if (BigInt(id) > highest) highest = BigInt(id);
      else if (!order.slice(0, order.indexOf(id)).includes(id)) outOfOrder += 1;
    }
  }
  const last = results[results.length - 1];
  return {
    endpoints: secrets.size,
    received: last.received,
    verified,
    duplicates,
    outOfOrder,
    rounds: results,
    p50: last.p50,
    p99: last.p99,
  };
}
