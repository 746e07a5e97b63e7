import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request as a receiver got it. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/** What the receiver answers to one request; `hang` never answers (the sender's timeout ends it). */
export type Answer =
  { status: number; body?: string; delayMs?: number; headers?: Record<string, string> } | 'hang';

/**
 * A webhook receiver on 127.0.0.1, as a portal would run one: it records every request and answers as
 * `answer` says (200 by default). `verified(secret)` checks every received delivery with the Standard
 * Webhooks reference package and returns the payloads; any bad signature throws.
 */
export interface Receiver {
  url: string;
  received: Received[];
  answer: (request: Received) => Answer;
  /** The requests to one path (one endpoint), in arrival order. */
  at(path: string): Received[];
  /** Webhook ids received at a path, in arrival order. */
  idsAt(path: string): string[];
  verified(path: string, secret: string): { id: string; payload: any }[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<http.ServerResponse>();
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200, body: 'ok' }),
    at: (path) => receiver.received.filter((r) => r.path === path),
    idsAt: (path) => receiver.at(path).map((r) => r.headers['webhook-id']),
    verified(path, secret) {
      const hook = new Webhook(secret);
      return receiver.at(path).map((r) => ({
        id: r.headers['webhook-id'],
        payload: hook.verify(r.body, r.headers),
      }));
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = {
        path: req.url ?? '/',
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([key, value]) => [key, String(value)]),
        ) as Record<string, string>,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      receiver.received.push(request);
      const answer = receiver.answer(request);
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
