import type { Response } from 'express';
import { HttpRoutes, notFound } from '../../transport/http-routes';

/**
 * The pictures are drawn whole on the server: no script runs in the page, so it shows the same opened
 * from GraphiQL as a `blob:` URL, saved, or printed. Nothing leaves this server (no CDN, no fonts).
 */
const PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function send(res: Response, type: 'svg' | 'html', body: string, sqlStatements: number): void {
  // As the GraphQL route does: what the answer cost in statements (pinned in test/picture/pictures.test.ts).
  res.setHeader('x-sql-statements', String(sqlStatements));
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('content-security-policy', PAGE_POLICY);
  res.type(type === 'svg' ? 'image/svg+xml' : 'html').send(body);
}

/** /suppliers/<Supplier id>/chain(.svg) and /incidents/<Incident id>/exposure-map(.svg). */
export function mountPictureRoutes(routes: HttpRoutes): void {
  routes.get('/suppliers/:id/chain.svg', async (ctx, req, res) => {
    const svg = await ctx.services.picture.supplierChainSvg(ctx.viewer, String(req.params.id));
    if (!svg) throw notFound('This supplier');
    send(res, 'svg', svg, ctx.scope.sqlStatements);
  });
  routes.get('/suppliers/:id/chain', async (ctx, req, res) => {
    const page = await ctx.services.picture.page('chain', ctx.viewer, String(req.params.id));
    if (!page) throw notFound('This supplier');
    send(res, 'html', page, ctx.scope.sqlStatements);
  });
  routes.get('/incidents/:id/exposure-map.svg', async (ctx, req, res) => {
    const svg = await ctx.services.picture.exposureMapSvg(ctx.viewer, String(req.params.id));
    if (!svg) throw notFound('This incident');
    send(res, 'svg', svg, ctx.scope.sqlStatements);
  });
  routes.get('/incidents/:id/exposure-map', async (ctx, req, res) => {
    const page = await ctx.services.picture.page('exposure-map', ctx.viewer, String(req.params.id));
    if (!page) throw notFound('This incident');
    send(res, 'html', page, ctx.scope.sqlStatements);
  });
}
