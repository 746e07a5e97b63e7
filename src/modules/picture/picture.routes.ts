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
  const pictures = [
    { path: '/suppliers/:id/chain', kind: 'chain', svg: 'supplierChainSvg', what: 'This supplier' },
    {
      path: '/incidents/:id/exposure-map',
      kind: 'exposure-map',
      svg: 'exposureMapSvg',
      what: 'This incident',
    },
  ] as const;
  for (const { path, kind, svg, what } of pictures) {
    routes.get(`${path}.svg`, async (ctx, req, res) => {
      const picture = await ctx.services.picture[svg](ctx.viewer, String(req.params.id));
      if (!picture) throw notFound(what);
      send(res, 'svg', picture, ctx.scope.sqlStatements);
    });
    routes.get(path, async (ctx, req, res) => {
      const page = await ctx.services.picture.page(kind, ctx.viewer, String(req.params.id));
      if (!page) throw notFound(what);
      send(res, 'html', page, ctx.scope.sqlStatements);
    });
  }
}
