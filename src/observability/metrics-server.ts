import http from 'node:http';
import express from 'express';
import type { Metrics } from './metrics';

/**
 * Prometheus metrics on their own port (METRICS_PORT), never on the API's: operation names and load are
 * for operators, so the port is for the scraper's network only, not published with the API.
 */
export async function serveMetrics(metrics: Metrics, port: number): Promise<http.Server> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; set METRICS_PORT`) : error),
    );
    server.listen(port, '0.0.0.0', resolve);
  });
  return server;
}
