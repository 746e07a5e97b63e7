import http from 'node:http';
import { Client } from 'pg';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * The floor for alert delivery: a bare NOTIFY → LISTEN → WebSocket send. One LISTEN connection; each
 * notification's payload is `{"c": clientId, "m": message}` and `m` is sent as it is to every plain
 * WebSocket connected with `?client=<clientId>`. No GraphQL, no table read, no per-subscriber state but the
 * socket: nothing on this stack delivers a committed alert sooner. The benchmark runs as many of these as
 * API instances and connects as many sockets as it has subscribers (bench/alerts.ts).
 */
export const ALERT_FLOOR_CHANNEL = 'bench_alert_floor';

async function main(): Promise<void> {
  const socketsByClient = new Map<string, Set<WebSocket>>();
  let open = 0;
  // GET / answers how many sockets are connected, so the benchmark knows when all are.
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(String(open));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    const clientId = new URL(req.url ?? '/', 'http://floor').searchParams.get('client') ?? '';
    const set = socketsByClient.get(clientId) ?? new Set<WebSocket>();
    socketsByClient.set(clientId, set);
    set.add(socket);
    open += 1;
    socket.on('close', () => {
      open -= 1;
      set.delete(socket);
      if (set.size === 0) socketsByClient.delete(clientId);
    });
  });
  const listener = new Client({ connectionString: process.env.DATABASE_URL });
  // A floor that no longer listens measures nothing: say why and exit, and the benchmark fails the suite
  // (bench/alerts.ts watches this process) instead of waiting for messages that cannot come.
  listener.on('error', (error: Error & { code?: string }) => {
    process.stderr.write(
      `alert floor server (port ${process.env.PORT}): its LISTEN connection ended${error.code ? ` (${error.code})` : ''}: ${error.message}\n`,
    );
    process.exit(2);
  });
  await listener.connect();
  listener.on('notification', (notification) => {
    const { c, m } = JSON.parse(notification.payload ?? '{}') as { c: string; m: string };
    for (const socket of socketsByClient.get(c) ?? []) socket.send(m);
  });
  await listener.query(`LISTEN ${ALERT_FLOOR_CHANNEL}`);
  server.listen(Number(process.env.PORT ?? 4820), '127.0.0.1');
  process.on('SIGTERM', () => {
    for (const socket of wss.clients) socket.terminate();
    server.close();
    void listener.end().then(() => process.exit(0));
  });
}

if (require.main === module)
  main().catch((error) => {
    process.stderr.write(`alert floor server failed: ${String(error)}\n`);
    process.exit(1);
  });
