import type { Express } from 'express';

/** Placeholder: replaced by the offline GraphiQL page. */
export function mountGraphiql(app: Express, options: { endpoint: string; headers: Record<string, string> }): void {
  app.get('/graphiql', (_req, res) => {
    res.type('text/plain').send(`GraphiQL will be served here; POST GraphQL to ${options.endpoint}`);
  });
}
