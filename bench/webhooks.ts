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

export async function webhookLatency(options: {
  apiUrl: string;
  databaseUrl: string;
  adminToken: string;
  clientIds: string[];
  tls: { key: string; cert: string };
  recordIncident: () => Promise<unknown>;
  say: (line: string) => void;
}) {
  const { apiUrl, adminToken, clientIds, say } = options;
  const firstAt = new Map<string, number>();
  const bodies = new Map<string, { body: string; headers: Record<string, string> }>();
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const key = req.url ?? '/';
      if (!firstAt.has(key)) {
        firstAt.set(key, at);
        bodies.set(key, {
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
  await options.recordIncident();
  const waitStarted = Date.now();
  while (firstAt.size < secrets.size && Date.now() - waitStarted < 60_000)
    await new Promise((resolve) => setTimeout(resolve, 20));
  await listener.end();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  // Every delivery must verify with its endpoint's secret (the spec's reference package).
  let verified = 0;
  for (const [key, { body, headers }] of bodies) {
    new Webhook(secrets.get(key)!).verify(body, headers);
    verified += 1;
  }
  const latencies = [...firstAt.values()].map((at) => at - committedAt);
  if (firstAt.size < secrets.size)
    say(`  only ${firstAt.size} of ${secrets.size} endpoints received their alert`);
  return {
    endpoints: secrets.size,
    received: firstAt.size,
    verified,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
